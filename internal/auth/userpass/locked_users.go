package userpass

import (
	"context"

	"github.com/kinko-dev/kinko/internal/logical"
)

var _ logical.LockedUserLister = (*backend)(nil)

// LockedUsers returns the usernames locked out now (lower-case, sorted),
// for sys/locked-users. Unknown usernames, locked like real ones, are not
// listed. With lockout disabled nothing is locked.
func (b *backend) LockedUsers(ctx context.Context, s logical.Storage, mc logical.MountConfig) ([]string, error) {
	cfg, err := b.lockoutConfig(ctx, s, mc)
	if err != nil {
		return nil, err
	}
	if cfg.Disable {
		return nil, nil
	}
	return b.lockouts.locked(b.now(), cfg), nil
}

// UnlockUser clears the failed-login count of a username (any case), for
// sys/locked-users/:accessor/unlock/:username.
func (b *backend) UnlockUser(ctx context.Context, s logical.Storage, alias string) error {
	b.lockouts.unlock(normalizeUsername(alias))
	return nil
}
