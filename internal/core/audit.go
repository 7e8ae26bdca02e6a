package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kinko-dev/kinko/internal/audit"
	"github.com/kinko-dev/kinko/internal/logical"
)

// auditTableKey holds the audit table (device configs with their salts and
// chain keys) below the barrier.
const auditTableKey = "core/audit"

type auditTable struct {
	Entries []*audit.Config `json:"entries"`
}

// setupAudit loads the audit table and the devices declared in the server
// config, and enables them all on the broker. A device that cannot be
// opened is still enabled, failing until it can write, so that requests
// are never served unaudited because of it.
func (c *Core) setupAudit(ctx context.Context) error {
	var t auditTable
	if _, err := logical.GetJSON(ctx, c.barrier, auditTableKey, &t); err != nil {
		return fmt.Errorf("load audit table: %w", err)
	}
	merged, changed, err := mergeDeclared(t.Entries, c.conf.AuditDevices)
	if err != nil {
		return err
	}
	if changed {
		if err := logical.PutJSON(ctx, c.barrier, auditTableKey, &auditTable{Entries: merged}); err != nil {
			return fmt.Errorf("save audit table: %w", err)
		}
	}
	c.audit.CloseAll()
	for _, conf := range merged {
		d, err := audit.Open(*conf, c.conf.AuditDir)
		if err != nil {
			c.logger.Error("audit device could not be opened; requests fail until it can write", "path", conf.Path, "error", err)
			d = audit.Broken(*conf, err, c.conf.AuditDir)
		}
		if err := c.audit.Add(d); err != nil {
			return err
		}
	}
	return nil
}

// mergeDeclared combines the stored table with the config's devices: a
// declared device keeps the keys stored for it, a new one gets fresh keys,
// and stored declared devices no longer in the config are dropped.
func mergeDeclared(stored []*audit.Config, declared []audit.Config) ([]*audit.Config, bool, error) {
	byPath := map[string]*audit.Config{}
	for _, s := range stored {
		byPath[s.Path] = s
	}
	var out []*audit.Config
	changed := false
	inConfig := map[string]bool{}
	for _, d := range declared {
		d := d
		d.Path = normalizeAuditPath(d.Path)
		d.Declared = true
		inConfig[d.Path] = true
		if s := byPath[d.Path]; s != nil && s.Declared && s.Type == d.Type {
			d.Salt, d.ChainKey = s.Salt, s.ChainKey
		} else {
			if err := d.NewKeys(); err != nil {
				return nil, false, err
			}
		}
		if s := byPath[d.Path]; s == nil || !sameConfig(s, &d) {
			changed = true
		}
		out = append(out, &d)
	}
	for _, s := range stored {
		switch {
		case inConfig[s.Path]:
		case s.Declared:
			changed = true // removed from the config file
		default:
			out = append(out, s)
		}
	}
	return out, changed, nil
}

func sameConfig(a, b *audit.Config) bool {
	if a.Type != b.Type || a.Description != b.Description || a.Declared != b.Declared || len(a.Options) != len(b.Options) {
		return false
	}
	for k, v := range a.Options {
		if b.Options[k] != v {
			return false
		}
	}
	return true
}

func normalizeAuditPath(p string) string { return strings.Trim(p, "/") + "/" }

// EnableAudit enables an audit device through the API.
func (c *Core) EnableAudit(ctx context.Context, conf audit.Config) error {
	if _, err := c.unsealed(); err != nil {
		return err
	}
	conf.Path = normalizeAuditPath(conf.Path)
	if conf.Path == "/" {
		return logical.InvalidRequest("an audit device needs a path")
	}
	if conf.Type == "" {
		return logical.InvalidRequest("type is required (one of: %s)", strings.Join(audit.Types(), ", "))
	}
	c.mountMu.Lock()
	defer c.mountMu.Unlock()
	if c.audit.Device(conf.Path) != nil {
		return logical.InvalidRequest("path %q is already in use", conf.Path)
	}
	conf.Declared = false
	if err := conf.NewKeys(); err != nil {
		return err
	}
	d, err := audit.Open(conf, c.conf.AuditDir)
	if err != nil {
		return logical.InvalidRequest("%s", strings.TrimPrefix(err.Error(), "audit: "))
	}
	t, err := c.auditConfigs()
	if err != nil {
		_ = d.Close()
		return err
	}
	if err := logical.PutJSON(ctx, c.barrier, auditTableKey, &auditTable{Entries: append(t, &conf)}); err != nil {
		_ = d.Close()
		return fmt.Errorf("save audit table: %w", err)
	}
	return c.audit.Add(d)
}

// DisableAudit disables the API-enabled audit device at path.
func (c *Core) DisableAudit(ctx context.Context, path string) error {
	if _, err := c.unsealed(); err != nil {
		return err
	}
	path = normalizeAuditPath(path)
	c.mountMu.Lock()
	defer c.mountMu.Unlock()
	d := c.audit.Device(path)
	if d == nil {
		return nil // Vault: disabling a missing device succeeds
	}
	if d.Config().Declared {
		return logical.InvalidRequest("audit device %q is declared in the server config file; remove it there", path)
	}
	t, err := c.auditConfigs()
	if err != nil {
		return err
	}
	kept := t[:0]
	for _, x := range t {
		if x.Path != path {
			kept = append(kept, x)
		}
	}
	if err := logical.PutJSON(ctx, c.barrier, auditTableKey, &auditTable{Entries: kept}); err != nil {
		return fmt.Errorf("save audit table: %w", err)
	}
	c.audit.Remove(path)
	return nil
}

func (c *Core) auditConfigs() ([]*audit.Config, error) {
	var out []*audit.Config
	for _, d := range c.audit.Devices() {
		conf := d.Config()
		out = append(out, &conf)
	}
	return out, nil
}

// AuditDevices lists the enabled devices.
func (c *Core) AuditDevices() ([]audit.Config, error) {
	if _, err := c.unsealed(); err != nil {
		return nil, err
	}
	var out []audit.Config
	for _, d := range c.audit.Devices() {
		out = append(out, d.Config())
	}
	return out, nil
}

// ReopenAudit reopens every audit device (SIGHUP, after log rotation).
func (c *Core) ReopenAudit() error { return c.audit.Reopen() }

// AuditBroker exposes the broker's metrics.
func (c *Core) AuditBroker() *audit.Broker { return c.audit }

// errAuditFailed is what a caller sees when no audit device could record
// its request: the request is refused (500) rather than served unaudited.
var errAuditFailed = errors.New("internal error: the request could not be audited, so it was refused")
