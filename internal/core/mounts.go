package core

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/logical"
)

// Mount table kinds and their storage locations inside the barrier.
const (
	TableMounts = "mounts"
	TableAuth   = "auth"
)

// MountConfig holds a mount's tunables.
type MountConfig struct {
	DefaultLeaseTTL time.Duration `json:"default_lease_ttl"`
	MaxLeaseTTL     time.Duration `json:"max_lease_ttl"`
	// UserLockout is the auth mount's tuned user lockout (nil: not tuned).
	// Replaced, never modified in place: requests share it.
	UserLockout *logical.UserLockoutConfig `json:"user_lockout_config,omitempty"`
}

// MountEntry is one row of a mount table.
type MountEntry struct {
	Table       string            `json:"table"`
	Path        string            `json:"path"` // relative to the table, with trailing slash
	Type        string            `json:"type"`
	Description string            `json:"description"`
	UUID        string            `json:"uuid"`
	Accessor    string            `json:"accessor"`
	Config      MountConfig       `json:"config"`
	Options     map[string]string `json:"options"`
	Local       bool              `json:"local"`
	SealWrap    bool              `json:"seal_wrap"`
}

// fullPath is the router prefix: "secret/" or "auth/userpass/".
func (m *MountEntry) fullPath() string {
	if m.Table == TableAuth {
		return "auth/" + m.Path
	}
	return m.Path
}

func (m *MountEntry) viewPrefix() string {
	switch {
	case m.Type == "system":
		return "sys/system/"
	case m.Type == "token":
		return "sys/token/"
	case m.Type == "identity":
		return "sys/identity/"
	case m.Table == TableAuth:
		return "auth/" + m.UUID + "/"
	}
	return "logical/" + m.UUID + "/"
}

type mountTable struct {
	Entries []*MountEntry `json:"entries"`
}

func tableKey(table string) string { return "core/" + table }

func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}

func newMountEntry(table, path, typ, desc string) (*MountEntry, error) {
	id, err := newUUID()
	if err != nil {
		return nil, err
	}
	acc, err := newUUID()
	if err != nil {
		return nil, err
	}
	accessor := typ + "_" + acc[:8]
	if table == TableAuth {
		accessor = "auth_" + accessor // Vault's accessor shape for auth mounts
	}
	return &MountEntry{Table: table, Path: path, Type: typ, Description: desc, UUID: id,
		Accessor: accessor, Options: map[string]string{}}, nil
}

func (c *Core) loadTable(ctx context.Context, table string) (*mountTable, error) {
	var t mountTable
	ok, err := logical.GetJSON(ctx, c.barrier, tableKey(table), &t)
	if err != nil {
		return nil, fmt.Errorf("load %s table: %w", table, err)
	}
	if !ok {
		return c.defaultTable(ctx, table)
	}
	if changed, err := c.ensureBuiltins(table, &t); err != nil {
		return nil, err
	} else if changed {
		if err := c.saveTable(ctx, table, &t); err != nil {
			return nil, err
		}
	}
	return &t, nil
}

// builtinMounts are present on every server and cannot be disabled:
// sys/ and cubbyhole/ in the mounts table, token/ in the auth table.
var builtinMounts = map[string][]struct{ path, typ, desc string }{
	TableMounts: {
		{"sys/", "system", "system endpoints used for control, policy and debugging"},
		{"cubbyhole/", "cubbyhole", "per-token private secret storage"},
		{"identity/", "identity", "identity store: entities, aliases, groups, MFA"},
	},
	TableAuth: {{"token/", "token", "token based credentials"}},
}

// isBuiltinType reports the types that exist once, mounted by core.
func isBuiltinType(typ string) bool {
	return typ == "system" || typ == "token" || typ == "cubbyhole" || typ == "identity"
}

// defaultTable is the table of a freshly initialised server.
func (c *Core) defaultTable(ctx context.Context, table string) (*mountTable, error) {
	t := &mountTable{}
	if _, err := c.ensureBuiltins(table, t); err != nil {
		return nil, err
	}
	return t, c.saveTable(ctx, table, t)
}

// ensureBuiltins adds any builtin mount missing from t (a table written by
// an older version) and reports whether it changed t.
func (c *Core) ensureBuiltins(table string, t *mountTable) (bool, error) {
	changed := false
	for _, b := range builtinMounts[table] {
		found := false
		for _, m := range t.Entries {
			found = found || m.Path == b.path
		}
		if found {
			continue
		}
		e, err := newMountEntry(table, b.path, b.typ, b.desc)
		if err != nil {
			return false, err
		}
		t.Entries = append(t.Entries, e)
		changed = true
	}
	return changed, nil
}

func (c *Core) saveTable(ctx context.Context, table string, t *mountTable) error {
	return logical.PutJSON(ctx, c.barrier, tableKey(table), t)
}

// instantiate builds the backend of one mount entry.
func (c *Core) instantiate(ctx context.Context, st *unsealedState, m *MountEntry) (*routeEntry, error) {
	view := barrier.NewView(c.barrier, m.viewPrefix())
	var b logical.Backend
	switch m.Type {
	case "system":
		b = newSystemBackend(c, st)
	case "token":
		b = st.tokens.Backend()
	case "identity":
		b = st.identity.Backend()
	default:
		factories := c.conf.LogicalBackends
		if m.Table == TableAuth {
			factories = c.conf.CredentialBackends
		}
		f, ok := factories[m.Type]
		if !ok {
			return nil, logical.InvalidRequest("unknown %s type %q", kindName(m.Table), m.Type)
		}
		var err error
		b, err = f(ctx, &logical.BackendConfig{StorageView: view, Config: m.Options, System: sysView{c, m}})
		if err != nil {
			return nil, err
		}
	}
	if in, ok := b.(logical.Initializer); ok {
		if err := in.Initialize(ctx, view); err != nil {
			return nil, fmt.Errorf("initialize %s: %w", m.fullPath(), err)
		}
	}
	e := &routeEntry{mount: m, prefix: m.fullPath(), backend: b, view: view}
	e.unauth, e.root = specialPaths(e.prefix, b)
	return e, nil
}

func kindName(table string) string {
	if table == TableAuth {
		return "auth method"
	}
	return "secrets engine"
}

// sysView gives a backend its mount's effective TTLs.
type sysView struct {
	c *Core
	m *MountEntry
}

func (s sysView) DefaultLeaseTTL() time.Duration {
	if s.m.Config.DefaultLeaseTTL > 0 {
		return s.m.Config.DefaultLeaseTTL
	}
	return s.c.conf.DefaultLeaseTTL
}

var _ logical.PasswordGenerator = sysView{}

// GeneratePassword makes a password from a named password policy (the
// default policy for "").
func (s sysView) GeneratePassword(ctx context.Context, policyName string) (string, error) {
	st, err := s.c.unsealed()
	if err != nil {
		return "", err
	}
	return st.passwords.Generate(ctx, policyName)
}

func (s sysView) MaxLeaseTTL() time.Duration {
	if s.m.Config.MaxLeaseTTL > 0 {
		return s.m.Config.MaxLeaseTTL
	}
	return s.c.conf.MaxLeaseTTL
}

// normalizeMountPath validates a user-given mount path and adds the slash.
func normalizeMountPath(p string) (string, error) {
	p = strings.Trim(strings.TrimSpace(p), "/")
	if p == "" {
		return "", logical.InvalidRequest("mount path must not be empty")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", logical.InvalidRequest("invalid mount path %q", p)
		}
	}
	if strings.ContainsAny(p, "*+ \t\n") {
		return "", logical.InvalidRequest("mount path %q contains invalid characters", p)
	}
	return p + "/", nil
}
