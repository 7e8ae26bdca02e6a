package core

import (
	"context"
	"fmt"
	"time"

	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/identity"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/passwordpolicy"
	"github.com/kinko-dev/kinko/internal/policy"
	"github.com/kinko-dev/kinko/internal/token"
)

// tidyInterval is how often expired tokens are removed.
var tidyInterval = time.Minute

// buildState loads everything an unsealed server needs. The barrier must be
// unsealed.
func (c *Core) buildState(ctx context.Context) (*unsealedState, error) {
	tokens, err := token.NewStore(barrier.NewView(c.barrier, "sys/token/"), token.Options{
		Now: c.conf.Now, DefaultTTL: c.conf.DefaultLeaseTTL, MaxTTL: c.conf.MaxLeaseTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	tokens.OnRevoke = c.onTokenRevoked
	tokens.RenewCheck = c.renewWithAuthMethod
	st := &unsealedState{}
	ids, err := identity.NewStore(barrier.NewView(c.barrier, "sys/identity/"), identity.Options{
		Now: c.conf.Now, Mounts: st.authMount,
	})
	if err != nil {
		return nil, fmt.Errorf("identity store: %w", err)
	}
	tokens.IdentityPolicies = func(ctx context.Context, entityID string) []string {
		p, _ := ids.IdentityPolicies(ctx, entityID)
		return p
	}
	st.tokens, st.identity = tokens, ids
	st.policies = policy.NewStore(barrier.NewView(c.barrier, "sys/policy/"))
	st.passwords = passwordpolicy.NewStore(barrier.NewView(c.barrier, "sys/password_policy/"))
	st.accessKeys = newAccessKeys(c)
	bg, cancel := context.WithCancel(context.Background())
	st.cancel = cancel
	if err := c.startDetector(ctx, bg, st); err != nil {
		cancel()
		return nil, err
	}
	r := newRouter()
	for _, table := range []string{TableMounts, TableAuth} {
		t, err := c.loadTable(ctx, table)
		if err != nil {
			return nil, err
		}
		for _, m := range t.Entries {
			e, err := c.instantiate(ctx, st, m)
			if err != nil {
				c.logger.Error("failed to mount", "path", m.fullPath(), "type", m.Type, "error", err)
				continue
			}
			r.byPrefix[e.prefix] = e
		}
	}
	st.router.Store(r)
	if err := c.setupAudit(ctx); err != nil {
		cancel()
		st.detectorImpl.Stop()
		return nil, err
	}
	if err := c.startLeases(bg, st); err != nil {
		cancel()
		st.detectorImpl.Stop()
		return nil, err
	}
	go c.tidyLoop(bg, tokens)
	st.tokenWatch = newTokenWatch()
	go st.tokenWatch.run(bg, c.conf.Now, tokens, func(err error) {
		c.logger.Warn("could not revoke an expired token holding leases; will retry", "error", err)
	})
	return st, nil
}

func (c *Core) tidyLoop(ctx context.Context, tokens *token.Store) {
	t := time.NewTicker(tidyInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := tokens.Tidy(ctx); err != nil {
				c.logger.Warn("token tidy failed", "error", err)
			} else if n > 0 {
				c.logger.Info("expired tokens removed", "count", n)
			}
		}
	}
}

func (c *Core) unsealed() (*unsealedState, error) {
	st := c.state.Load()
	if st == nil {
		return nil, logical.ErrSealed
	}
	return st, nil
}

// EnableMount mounts a secrets engine (table "mounts") or auth method
// (table "auth") at path.
func (c *Core) EnableMount(ctx context.Context, table string, m *MountEntry) error {
	st, err := c.unsealed()
	if err != nil {
		return err
	}
	path, err := normalizeMountPath(m.Path)
	if err != nil {
		return err
	}
	if table == TableMounts && (path == "sys/" || path == "auth/" || hasAnyPrefix(path, "sys/", "auth/", "cubbyhole/", "identity/")) {
		return logical.InvalidRequest("cannot mount at %q: path is reserved", path)
	}
	if m.Type == "" {
		return logical.InvalidRequest("a type is required")
	}
	if isBuiltinType(m.Type) {
		return logical.InvalidRequest("cannot mount a backend of type %q: it is built in", m.Type)
	}
	c.mountMu.Lock()
	defer c.mountMu.Unlock()
	fresh, err := newMountEntry(table, path, m.Type, m.Description)
	if err != nil {
		return err
	}
	fresh.Config, fresh.Local, fresh.SealWrap = m.Config, m.Local, m.SealWrap
	if m.Options != nil {
		fresh.Options = m.Options
	}
	r := st.router.Load()
	if existing := r.conflict(fresh.fullPath()); existing != "" {
		return logical.InvalidRequest("path is already in use at %s", existing)
	}
	e, err := c.instantiate(ctx, st, fresh)
	if err != nil {
		return err
	}
	t, err := c.loadTable(ctx, table)
	if err != nil {
		return err
	}
	t.Entries = append(t.Entries, fresh)
	if err := c.saveTable(ctx, table, t); err != nil {
		return err
	}
	nr := r.clone()
	nr.byPrefix[e.prefix] = e
	st.router.Store(nr)
	c.logger.Info("mount enabled", "path", e.prefix, "type", fresh.Type)
	return nil
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

// DisableMount unmounts path and deletes all of the mount's data.
func (c *Core) DisableMount(ctx context.Context, table, path string) error {
	st, err := c.unsealed()
	if err != nil {
		return err
	}
	path, err = normalizeMountPath(path)
	if err != nil {
		return err
	}
	c.mountMu.Lock()
	defer c.mountMu.Unlock()
	t, err := c.loadTable(ctx, table)
	if err != nil {
		return err
	}
	idx := -1
	for i, m := range t.Entries {
		if m.Path == path {
			idx = i
		}
	}
	if idx < 0 {
		return nil // Vault: disabling an absent mount succeeds
	}
	m := t.Entries[idx]
	if isBuiltinType(m.Type) {
		return logical.InvalidRequest("cannot unmount %q: it is built in", m.fullPath())
	}
	if table == TableAuth {
		// as Vault: the tokens an auth method issued go with it
		n, err := st.tokens.RevokeByPathPrefix(ctx, m.fullPath())
		if err != nil {
			return fmt.Errorf("revoke the tokens of %s: %w", m.fullPath(), err)
		}
		if n > 0 {
			c.logger.Info("auth method disabled: its tokens were revoked", "path", m.fullPath(), "tokens", n)
		}
	}
	if table == TableMounts {
		// as Vault: the engine's leases are revoked before it goes, and
		// if it cannot revoke them the engine stays
		if n, err := st.leases.RevokePrefix(ctx, m.fullPath(), true); err != nil {
			return fmt.Errorf("revoke the leases of %s (revoke-force drops them without the engine): %w", m.fullPath(), err)
		} else if n > 0 {
			c.logger.Info("secrets engine disabled: its leases were revoked", "path", m.fullPath(), "leases", n)
		}
	}
	t.Entries = append(t.Entries[:idx], t.Entries[idx+1:]...)
	if err := c.saveTable(ctx, table, t); err != nil {
		return err
	}
	nr := st.router.Load().clone()
	if e := nr.byPrefix[m.fullPath()]; e != nil {
		if cl, ok := e.backend.(logical.Cleaner); ok {
			cl.Cleanup(ctx)
		}
	}
	delete(nr.byPrefix, m.fullPath())
	st.router.Store(nr)
	if err := logical.ClearPrefix(ctx, barrier.NewView(c.barrier, m.viewPrefix()), ""); err != nil {
		return fmt.Errorf("clear data of %s: %w", m.fullPath(), err)
	}
	c.logger.Info("mount disabled", "path", m.fullPath())
	return nil
}

// TuneMount changes a mount's tunables; fn edits a copy of the entry.
func (c *Core) TuneMount(ctx context.Context, fullPath string, fn func(m *MountEntry) error) error {
	st, err := c.unsealed()
	if err != nil {
		return err
	}
	c.mountMu.Lock()
	defer c.mountMu.Unlock()
	r := st.router.Load()
	e, rel := r.match(fullPath)
	if e == nil || rel != "" {
		return logical.InvalidRequest("no mount at %q", fullPath)
	}
	t, err := c.loadTable(ctx, e.mount.Table)
	if err != nil {
		return err
	}
	for i, m := range t.Entries {
		if m.Path != e.mount.Path {
			continue
		}
		cp := *m
		if err := fn(&cp); err != nil {
			return err
		}
		t.Entries[i] = &cp
		if err := c.saveTable(ctx, e.mount.Table, t); err != nil {
			return err
		}
		ne := *e
		ne.mount = &cp
		nr := r.clone()
		nr.byPrefix[ne.prefix] = &ne
		st.router.Store(nr)
		return nil
	}
	return logical.InvalidRequest("no mount at %q", fullPath)
}

// Mounts returns the entries of a table, ordered by path.
func (c *Core) Mounts(table string) ([]*MountEntry, error) {
	st, err := c.unsealed()
	if err != nil {
		return nil, err
	}
	var out []*MountEntry
	for _, e := range st.router.Load().byPrefix {
		if e.mount.Table == table {
			out = append(out, e.mount)
		}
	}
	sortMounts(out)
	return out, nil
}

// authMount resolves an auth mount accessor for the identity store.
func (st *unsealedState) authMount(accessor string) (identity.Mount, bool) {
	r := st.router.Load()
	if r == nil {
		return identity.Mount{}, false
	}
	for _, e := range r.byPrefix {
		if e.mount.Table == TableAuth && e.mount.Accessor == accessor {
			return identity.Mount{Type: e.mount.Type, Path: e.prefix}, true
		}
	}
	return identity.Mount{}, false
}
