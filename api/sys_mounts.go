package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// MountOutput describes one mounted secrets engine or auth method.
type MountOutput struct {
	UUID                  string            `json:"uuid"`
	Type                  string            `json:"type"`
	Description           string            `json:"description"`
	Accessor              string            `json:"accessor"`
	Config                MountConfigOutput `json:"config"`
	Options               map[string]string `json:"options"`
	Local                 bool              `json:"local"`
	SealWrap              bool              `json:"seal_wrap"`
	ExternalEntropyAccess bool              `json:"external_entropy_access"`
	PluginVersion         string            `json:"plugin_version,omitempty"`
	RunningVersion        string            `json:"running_plugin_version,omitempty"`
}

// MountConfigOutput is the tunable configuration of a mount, TTLs in seconds.
type MountConfigOutput struct {
	DefaultLeaseTTL int  `json:"default_lease_ttl"`
	MaxLeaseTTL     int  `json:"max_lease_ttl"`
	ForceNoCache    bool `json:"force_no_cache"`
}

// MountInput is the body of POST sys/mounts/<path> and sys/auth/<path>.
type MountInput struct {
	Type        string            `json:"type"`
	Description string            `json:"description,omitempty"`
	Config      MountConfigInput  `json:"config"`
	Options     map[string]string `json:"options,omitempty"`
	Local       bool              `json:"local,omitempty"`
	SealWrap    bool              `json:"seal_wrap,omitempty"`
}

// MountConfigInput is the mount configuration on enable, and the body of
// POST sys/{mounts,auth}/<path>/tune. TTLs are duration strings ("1h", "3600s").
type MountConfigInput struct {
	DefaultLeaseTTL string            `json:"default_lease_ttl,omitempty"`
	MaxLeaseTTL     string            `json:"max_lease_ttl,omitempty"`
	ForceNoCache    bool              `json:"force_no_cache,omitempty"`
	Description     *string           `json:"description,omitempty"`
	Options         map[string]string `json:"options,omitempty"`
}

// MountInfo is what sys/internal/ui/mounts/<path> says about the mount that
// serves a path.
type MountInfo struct {
	Path        string            `json:"path"` // mount path with trailing slash, e.g. "secret/"
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Options     map[string]string `json:"options"`
}

// KVVersion returns 2 for a KV version 2 mount and 1 otherwise.
func (m *MountInfo) KVVersion() int {
	if m != nil && m.Options["version"] == "2" {
		return 2
	}
	return 1
}

// MountTable is a handle on one of the server's two mount tables: secrets
// engines (sys/mounts, served at <path>) or auth methods (sys/auth, served
// at auth/<path>). Both tables take the same requests, so one
// implementation serves both. A MountTable is as safe for concurrent use as
// the Client it came from.
type MountTable struct {
	c      *Client
	prefix string // "sys/mounts" or "sys/auth"
}

// Mount table API prefixes.
const (
	secretsTablePath = "sys/mounts"
	authTablePath    = "sys/auth"
)

// SecretsEngines returns the table of secrets engines (sys/mounts).
func (c *Client) SecretsEngines() *MountTable { return &MountTable{c: c, prefix: secretsTablePath} }

// AuthMethods returns the table of auth methods (sys/auth).
func (c *Client) AuthMethods() *MountTable { return &MountTable{c: c, prefix: authTablePath} }

func (t *MountTable) path(mount, suffix string) string {
	return t.prefix + "/" + trimSlashes(mount) + suffix
}

// List returns the table's mounts keyed by path with a trailing slash
// ("secret/", "userpass/").
func (t *MountTable) List(ctx context.Context) (map[string]*MountOutput, error) {
	var raw json.RawMessage
	if err := t.c.sendJSON(ctx, &Request{Method: http.MethodGet, Path: t.prefix}, &raw); err != nil {
		return nil, err
	}
	var entries map[string]json.RawMessage
	if err := decodeDataOrTop(raw, &entries); err != nil {
		return nil, err
	}
	out := make(map[string]*MountOutput, len(entries))
	for path, e := range entries {
		// Top-level envelopes also hold request_id, lease_id, ...: keep
		// only objects that name a mount type.
		var m MountOutput
		if json.Unmarshal(e, &m) != nil || m.Type == "" {
			continue
		}
		out[path] = &m
	}
	return out, nil
}

// Enable mounts in.Type at path (POST <table>/<path>).
func (t *MountTable) Enable(ctx context.Context, path string, in *MountInput) error {
	return t.c.sendJSON(ctx, &Request{Method: http.MethodPost, Path: t.path(path, ""), Body: in}, nil)
}

// Disable unmounts whatever is mounted at path (DELETE <table>/<path>).
func (t *MountTable) Disable(ctx context.Context, path string) error {
	return t.c.sendJSON(ctx, &Request{Method: http.MethodDelete, Path: t.path(path, "")}, nil)
}

// Tune changes the configuration of the mount at path
// (POST <table>/<path>/tune).
func (t *MountTable) Tune(ctx context.Context, path string, in MountConfigInput) error {
	return t.c.sendJSON(ctx, &Request{Method: http.MethodPost, Path: t.path(path, "/tune"), Body: in}, nil)
}

// Config reads the configuration of the mount at path
// (GET <table>/<path>/tune).
func (t *MountTable) Config(ctx context.Context, path string) (*MountConfigOutput, error) {
	var out MountConfigOutput
	if err := t.c.sendData(ctx, &Request{Method: http.MethodGet, Path: t.path(path, "/tune")}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Mounts lists the mounted secrets engines, keyed by path ("secret/").
func (c *Client) Mounts(ctx context.Context) (map[string]*MountOutput, error) {
	return c.SecretsEngines().List(ctx)
}

// Mount enables a secrets engine at path (POST sys/mounts/<path>).
func (c *Client) Mount(ctx context.Context, path string, in *MountInput) error {
	return c.SecretsEngines().Enable(ctx, path, in)
}

// Unmount disables the secrets engine at path (DELETE sys/mounts/<path>).
func (c *Client) Unmount(ctx context.Context, path string) error {
	return c.SecretsEngines().Disable(ctx, path)
}

// TuneMount changes the configuration of the secrets engine at path.
func (c *Client) TuneMount(ctx context.Context, path string, in MountConfigInput) error {
	return c.SecretsEngines().Tune(ctx, path, in)
}

// MountConfig reads the configuration of the secrets engine at path.
func (c *Client) MountConfig(ctx context.Context, path string) (*MountConfigOutput, error) {
	return c.SecretsEngines().Config(ctx, path)
}

// MountInfoForPath asks which mount serves path (GET
// sys/internal/ui/mounts/<path>), which is how the CLI tells KV v1 from v2.
// It returns nil, nil when the server knows no mount for the path. It is
// never response-wrapped, whatever the client's wrap TTL.
func (c *Client) MountInfoForPath(ctx context.Context, path string) (*MountInfo, error) {
	var out MountInfo
	r := &Request{Method: http.MethodGet, Path: "sys/internal/ui/mounts/" + trimSlashes(path)}
	err := c.WithoutWrapping().sendData(ctx, r, &out)
	var re *ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func trimSlashes(p string) string { return strings.Trim(p, "/") }
