package api

import (
	"context"
	"encoding/json"
	"net/http"
)

// Audit describes one enabled audit device (an entry of GET sys/audit).
type Audit struct {
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Options     map[string]string `json:"options"`
	Local       bool              `json:"local"`
	Path        string            `json:"path"`
	// Declared is true for a device declared in the server config file,
	// which the API cannot disable.
	Declared bool `json:"declared"`
}

// EnableAuditOptions is the body of PUT sys/audit/<path>.
type EnableAuditOptions struct {
	Type        string            `json:"type"`
	Description string            `json:"description,omitempty"`
	Options     map[string]string `json:"options,omitempty"`
	Local       bool              `json:"local,omitempty"`
}

// AuditChain is the hash chain of an audit device (GET
// sys/audit-chain/<path>, sudo): the key that links its lines and the
// position of the last line written. ChainKey is secret: whoever holds it
// can forge a chain.
type AuditChain struct {
	ChainKey string `json:"chain_key"` // hex
	Seq      uint64 `json:"seq"`       // seq of the last line written, 0 before the first
	HeadHMAC string `json:"head_hmac"` // chain HMAC of that line
}

func auditPath(prefix, path string) string { return prefix + "/" + trimSlashes(path) }

// ListAudit returns the enabled audit devices keyed by path with a
// trailing slash ("file/").
func (c *Client) ListAudit(ctx context.Context) (map[string]*Audit, error) {
	var entries map[string]json.RawMessage
	if err := c.sendData(ctx, &Request{Method: http.MethodGet, Path: "sys/audit"}, &entries); err != nil {
		return nil, err
	}
	out := make(map[string]*Audit, len(entries))
	for path, e := range entries {
		// A top-level answer also holds request_id, lease_id, ...: keep
		// only objects that name a device type.
		var a Audit
		if json.Unmarshal(e, &a) != nil || a.Type == "" {
			continue
		}
		out[path] = &a
	}
	return out, nil
}

// EnableAudit enables an audit device at path (PUT sys/audit/<path>).
func (c *Client) EnableAudit(ctx context.Context, path string, in *EnableAuditOptions) error {
	return c.sendJSON(ctx, &Request{Method: http.MethodPut, Path: auditPath("sys/audit", path), Body: in}, nil)
}

// DisableAudit disables the audit device at path (DELETE sys/audit/<path>).
func (c *Client) DisableAudit(ctx context.Context, path string) error {
	return c.sendJSON(ctx, &Request{Method: http.MethodDelete, Path: auditPath("sys/audit", path)}, nil)
}

// AuditHash returns the HMAC ("hmac-sha256:...") the audit device at path
// writes for input (PUT sys/audit-hash/<path>), to search its log for a
// known value.
func (c *Client) AuditHash(ctx context.Context, path, input string) (string, error) {
	var out struct {
		Hash string `json:"hash"`
	}
	r := &Request{Method: http.MethodPut, Path: auditPath("sys/audit-hash", path), Body: map[string]string{"input": input}}
	if err := c.WithoutWrapping().sendData(ctx, r, &out); err != nil {
		return "", err
	}
	return out.Hash, nil
}

// AuditChain reads the hash-chain key and head of the audit device at path
// (GET sys/audit-chain/<path>, sudo). It is never response-wrapped.
func (c *Client) AuditChain(ctx context.Context, path string) (*AuditChain, error) {
	var out AuditChain
	r := &Request{Method: http.MethodGet, Path: auditPath("sys/audit-chain", path)}
	if err := c.WithoutWrapping().sendData(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
