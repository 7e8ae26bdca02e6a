package userpass

import (
	"context"
	"fmt"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathLockoutConfig() *logical.Path {
	return &logical.Path{
		Pattern: "config/lockout",
		Fields: map[string]*logical.FieldSchema{
			"lockout_threshold": {Type: logical.TypeInt,
				Description: "Failed logins after which a username is locked out (0: inherit the mount option or the default, 5)."},
			"lockout_duration": {Type: logical.TypeDurationSecond,
				Description: "How long a username stays locked out after its latest failure (0: inherit, default 15m)."},
			"lockout_counter_reset": {Type: logical.TypeDurationSecond,
				Description: "Time without failures after which the failure count restarts (0: inherit, default 15m)."},
			"lockout_disable": {Type: logical.TypeBool, Description: "Turn user lockout off for this mount."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.readLockoutConfig,
			logical.UpdateOperation: b.writeLockoutConfig,
			logical.DeleteOperation: b.deleteLockoutConfig,
		},
		HelpSynopsis: "Configure user lockout for this mount.",
		HelpDescription: `User lockout is set, as in Vault, with sys/auth/:path/tune
user_lockout_config; kinko also takes the same settings here and as mount
options at enable time. A field tuned on the mount wins over this path,
which wins over the mount options, then Vault's defaults. A read shows the
effective settings; a write changes the fields sent (0 restores the lower
setting); a delete restores them all. Locked-out users are listed and
unlocked with sys/locked-users.`,
	}
}

// storedLockout reads the config/lockout overrides (empty when unset).
func storedLockout(ctx context.Context, s logical.Storage) (lockoutOverrides, error) {
	var o lockoutOverrides
	if _, err := logical.GetJSON(ctx, s, lockoutConfigPath, &o); err != nil {
		return o, fmt.Errorf("userpass: read lockout config: %w", err)
	}
	return o, nil
}

// lockoutConfig is the mount's effective lockout policy, field by field:
// the mount's tune (mc.UserLockout), else config/lockout, else the mount
// options, else Vault's defaults.
func (b *backend) lockoutConfig(ctx context.Context, s logical.Storage, mc logical.MountConfig) (lockoutConfig, error) {
	o, err := storedLockout(ctx, s)
	if err != nil {
		return lockoutConfig{}, err
	}
	return tunedOverrides(mc.UserLockout).apply(o.apply(b.mountLockout.apply(defaultLockout))), nil
}

func (b *backend) readLockoutConfig(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	c, err := b.lockoutConfig(ctx, req.Storage, req.MountConfig)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"lockout_threshold":     c.Threshold,
		"lockout_duration":      int64(c.Duration / time.Second),
		"lockout_counter_reset": int64(c.CounterReset / time.Second),
		"lockout_disable":       c.Disable,
	}), nil
}

func (b *backend) writeLockoutConfig(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.configMu.Lock()
	defer b.configMu.Unlock()
	o, err := storedLockout(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if v, ok, _ := d.GetOk("lockout_threshold"); ok {
		n := v.(int)
		if n < 0 {
			return nil, logical.InvalidRequest("lockout_threshold cannot be negative")
		}
		o.Threshold = nil
		if n > 0 {
			o.Threshold = &n
		}
	}
	for _, f := range []struct {
		name string
		dst  **time.Duration
	}{{"lockout_duration", &o.Duration}, {"lockout_counter_reset", &o.CounterReset}} {
		if v, ok, _ := d.GetOk(f.name); ok {
			dur := v.(time.Duration)
			if dur < 0 {
				return nil, logical.InvalidRequest("%s cannot be negative", f.name)
			}
			*f.dst = nil
			if dur > 0 {
				*f.dst = &dur
			}
		}
	}
	if v, ok, _ := d.GetOk("lockout_disable"); ok {
		dis := v.(bool)
		o.Disable = &dis
	}
	return nil, logical.PutJSON(ctx, req.Storage, lockoutConfigPath, &o)
}

func (b *backend) deleteLockoutConfig(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Delete(ctx, lockoutConfigPath)
}
