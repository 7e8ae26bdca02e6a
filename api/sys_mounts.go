package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// MountOutput describes one mounted secrets engine (sys/mounts).
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

// MountInput is the body of POST sys/mounts/<path>.
type MountInput struct {
	Type        string            `json:"type"`
	Description string            `json:"description,omitempty"`
	Config      MountConfigInput  `json:"config"`
	Options     map[string]string `json:"options,omitempty"`
	Local       bool              `json:"local,omitempty"`
	SealWrap    bool              `json:"seal_wrap,omitempty"`
}

// MountConfigInput is the mount configuration on enable, and the body of
// POST sys/mounts/<path>/tune. TTLs are duration strings ("1h", "3600s").
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

// Mounts lists the mounted secrets engines, keyed by path ("secret/").
func (c *Client) Mounts(ctx context.Context) (map[string]*MountOutput, error) {
	var raw json.RawMessage
	if err := c.sendJSON(ctx, &Request{Method: http.MethodGet, Path: "sys/mounts"}, &raw); err != nil {
		return nil, err
	}
	var entries map[string]json.RawMessage
	if err := decodeDataOrTop(raw, &entries); err != nil {
		return nil, err
	}
	out := make(map[string]*MountOutput, len(entries))
	for path, e := range entries {
		// Top-level envelopes also hold request_id, lease_id, ...: keep
		// only objects that name an engine type.
		var m MountOutput
		if json.Unmarshal(e, &m) != nil || m.Type == "" {
			continue
		}
		out[path] = &m
	}
	return out, nil
}

// Mount enables a secrets engine at path (POST sys/mounts/<path>).
func (c *Client) Mount(ctx context.Context, path string, in *MountInput) error {
	r := &Request{Method: http.MethodPost, Path: "sys/mounts/" + trimSlashes(path), Body: in}
	return c.sendJSON(ctx, r, nil)
}

// Unmount disables the secrets engine at path (DELETE sys/mounts/<path>).
func (c *Client) Unmount(ctx context.Context, path string) error {
	r := &Request{Method: http.MethodDelete, Path: "sys/mounts/" + trimSlashes(path)}
	return c.sendJSON(ctx, r, nil)
}

// TuneMount changes the configuration of the mount at path.
func (c *Client) TuneMount(ctx context.Context, path string, in MountConfigInput) error {
	r := &Request{Method: http.MethodPost, Path: "sys/mounts/" + trimSlashes(path) + "/tune", Body: in}
	return c.sendJSON(ctx, r, nil)
}

// MountConfig reads the configuration of the mount at path.
func (c *Client) MountConfig(ctx context.Context, path string) (*MountConfigOutput, error) {
	var out MountConfigOutput
	r := &Request{Method: http.MethodGet, Path: "sys/mounts/" + trimSlashes(path) + "/tune"}
	if err := c.sendData(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MountInfoForPath asks which mount serves path (GET
// sys/internal/ui/mounts/<path>), which is how the CLI tells KV v1 from v2.
// It returns nil, nil when the server knows no mount for the path.
func (c *Client) MountInfoForPath(ctx context.Context, path string) (*MountInfo, error) {
	var out MountInfo
	r := &Request{Method: http.MethodGet, Path: "sys/internal/ui/mounts/" + trimSlashes(path)}
	err := c.sendData(ctx, r, &out)
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
