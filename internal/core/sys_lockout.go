package core

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Vault's user lockout API: sys/locked-users lists the users that auth
// methods with lockout (logical.LockedUserLister, e.g. userpass) hold
// locked out now, and sys/locked-users/:mount_accessor/unlock/:alias
// unlocks one. As in Vault, neither needs sudo: policies on
// sys/locked-users and sys/locked-users/* govern them. Kinko has no
// namespaces, so by_namespace has one entry, the root namespace.

// lockoutPaths are sys/locked-users and its unlock path.
func (b *systemBackend) lockoutPaths() []*logical.Path {
	accessor := &logical.FieldSchema{Type: logical.TypeString,
		Description: "Accessor of the auth mount the user belongs to (as listed by sys/auth)."}
	return []*logical.Path{
		{
			Pattern: "locked-users",
			Fields:  map[string]*logical.FieldSchema{"mount_accessor": accessor},
			Operations: ops(map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation: b.handleLockedUsers,
			}),
			HelpSynopsis: "List the users locked out by auth methods, by mount accessor.",
			HelpDescription: `Returns by_namespace (one entry: the root namespace) with the locked-out
aliases of each auth mount that has any, most first, and the total.
mount_accessor restricts the answer to one mount.`,
		},
		{
			Pattern: "locked-users/(?P<mount_accessor>[^/]+)/unlock/(?P<alias_identifier>.+)",
			Fields: map[string]*logical.FieldSchema{
				"mount_accessor": accessor,
				"alias_identifier": {Type: logical.TypeString,
					Description: "The user's alias in that mount: for userpass, the username."},
			},
			Operations: ops(map[logical.Operation]logical.OperationFunc{
				logical.UpdateOperation: b.handleUnlockUser,
			}),
			HelpSynopsis: "Unlock a locked-out user.",
			HelpDescription: `Clears the failed-login count of the alias in the auth mount with the given
accessor, so the user may log in at once. Unlocking a user that is not
locked out succeeds and does nothing, as in Vault.`,
		},
	}
}

// lockoutMount is an auth mount whose method implements user lockout.
type lockoutMount struct {
	e      *routeEntry
	lister logical.LockedUserLister
}

// authMountByAccessor finds the auth mount with accessor, refusing an
// unknown one.
func authMountByAccessor(st *unsealedState, accessor string) (*routeEntry, error) {
	for _, e := range st.router.Load().byPrefix {
		if e.mount.Table == TableAuth && e.mount.Accessor == accessor {
			return e, nil
		}
	}
	return nil, logical.InvalidRequest("no auth method with mount accessor %q (see sys/auth for the accessors)", accessor)
}

// lockoutMounts returns the auth mounts with user lockout, ordered by
// accessor; with accessor set, only that one (refused if unknown, empty if
// its method has no lockout).
func lockoutMounts(st *unsealedState, accessor string) ([]lockoutMount, error) {
	var out []lockoutMount
	if accessor != "" {
		e, err := authMountByAccessor(st, accessor)
		if err != nil {
			return nil, err
		}
		if l, ok := e.backend.(logical.LockedUserLister); ok {
			out = append(out, lockoutMount{e, l})
		}
		return out, nil
	}
	for _, e := range st.router.Load().byPrefix {
		if l, ok := e.backend.(logical.LockedUserLister); ok && e.mount.Table == TableAuth {
			out = append(out, lockoutMount{e, l})
		}
	}
	slices.SortFunc(out, func(a, b lockoutMount) int { return strings.Compare(a.e.mount.Accessor, b.e.mount.Accessor) })
	return out, nil
}

// backendMountConfig is the MountConfig core gives m's backend.
func backendMountConfig(m *MountEntry) logical.MountConfig {
	return logical.MountConfig{DefaultLeaseTTL: m.Config.DefaultLeaseTTL, MaxLeaseTTL: m.Config.MaxLeaseTTL,
		UserLockout: m.Config.UserLockout}
}

func (b *systemBackend) handleLockedUsers(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	accessor := d.Get("mount_accessor").(string)
	mounts, err := lockoutMounts(st, accessor)
	if err != nil {
		return nil, err
	}
	byMount := []map[string]any{}
	total := 0
	for _, lm := range mounts {
		names, err := lm.lister.LockedUsers(ctx, lm.e.view, backendMountConfig(lm.e.mount))
		if err != nil {
			return nil, err
		}
		if len(names) == 0 && accessor == "" {
			continue
		}
		total += len(names)
		byMount = append(byMount, map[string]any{"mount_accessor": lm.e.mount.Accessor,
			"counts": len(names), "alias_identifiers": append([]string{}, names...)})
	}
	if accessor != "" && len(byMount) == 0 { // a known mount without lockout
		byMount = append(byMount, map[string]any{"mount_accessor": accessor, "counts": 0, "alias_identifiers": []string{}})
	}
	slices.SortStableFunc(byMount, func(a, b map[string]any) int { return cmp.Compare(b["counts"].(int), a["counts"].(int)) })
	return logical.DataResponse(map[string]any{
		"by_namespace": []map[string]any{{"namespace_id": "root", "namespace_path": "", "counts": total,
			"mount_accessors": byMount}},
		"total": total,
	}), nil
}

func (b *systemBackend) handleUnlockUser(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	alias := d.Get("alias_identifier").(string)
	if strings.TrimSpace(alias) == "" {
		return nil, logical.InvalidRequest("missing alias_identifier")
	}
	e, err := authMountByAccessor(st, d.Get("mount_accessor").(string))
	if err != nil {
		return nil, err
	}
	l, ok := e.backend.(logical.LockedUserLister)
	if !ok {
		return nil, logical.InvalidRequest("the %s auth method at %s has no user lockout", e.mount.Type, e.prefix)
	}
	return nil, l.UnlockUser(ctx, e.view, alias)
}

// checkLockoutTunable refuses user_lockout_config for a mount whose
// method has no user lockout (Vault allows it for userpass, ldap and
// approle; kinko for every method implementing it).
func (b *systemBackend) checkLockoutTunable(full string) error {
	st, err := b.state()
	if err != nil {
		return err
	}
	e, rel := st.router.Load().match(strings.TrimSuffix(full, "/"))
	if e == nil || rel != "" {
		return logical.InvalidRequest("no mount at %q", full)
	}
	if _, ok := e.backend.(logical.LockedUserLister); !ok || e.mount.Table != TableAuth {
		return logical.InvalidRequest("tuning of user lockout configuration for %s type %q not allowed: it has no user lockout",
			kindName(e.mount.Table), e.mount.Type)
	}
	return nil
}

// userLockoutInfo shows a tuned lockout as Vault does in tune reads and
// in the config of mount listings (seconds; 0 for unset fields).
func userLockoutInfo(lc *logical.UserLockoutConfig) map[string]any {
	return map[string]any{
		"user_lockout_threshold":              lc.Threshold,
		"user_lockout_duration":               secs(lc.Duration),
		"user_lockout_counter_reset_duration": secs(lc.CounterReset),
		"user_lockout_disable":                lc.Disable != nil && *lc.Disable,
	}
}
