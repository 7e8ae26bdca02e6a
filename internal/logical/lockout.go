package logical

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// UserLockoutConfig is the user lockout a mount was tuned with
// (sys/auth/:path/tune user_lockout_config, Vault's shape). Zero fields
// and a nil Disable are unset: the auth method's own settings or its
// defaults apply to them. Core stores it in the mount table and hands it
// to the backend in MountConfig; backends must not modify it.
type UserLockoutConfig struct {
	// Threshold is the number of failed logins that locks a user out.
	Threshold int `json:"lockout_threshold,omitempty"`
	// Duration is how long a user stays locked out after the latest failure.
	Duration time.Duration `json:"lockout_duration,omitempty"`
	// CounterReset is the time without failures after which the count
	// restarts.
	CounterReset time.Duration `json:"lockout_counter_reset,omitempty"`
	// Disable, when set, turns lockout off (true) or on (false) whatever
	// the method's own settings say.
	Disable *bool `json:"lockout_disable,omitempty"`
}

// IsZero reports whether no field is set.
func (c *UserLockoutConfig) IsZero() bool {
	return c == nil || (c.Threshold == 0 && c.Duration == 0 && c.CounterReset == 0 && c.Disable == nil)
}

// LockedUserLister is an optional interface of auth methods that lock
// users out after repeated failed logins (Vault's user lockout). Core
// finds it by type assertion: only such methods accept user_lockout_config
// in sys/auth/:path/tune, and sys/locked-users lists and unlocks through
// it. An alias is the name the method gives the user's identity alias
// (for userpass, the lower-case username).
type LockedUserLister interface {
	// LockedUsers returns the aliases locked out now, sorted. s is the
	// mount's storage and mc its current tunables (lockout among them).
	LockedUsers(ctx context.Context, s Storage, mc MountConfig) ([]string, error)
	// UnlockUser clears the failed-login count of alias, so it may log in
	// again at once. Unlocking an alias that is not locked does nothing.
	UnlockUser(ctx context.Context, s Storage, alias string) error
}

// Limits on tuned lockout values, generous but finite so a typo cannot
// lock users out for years.
const (
	MaxLockoutThreshold = 1 << 20
	MaxLockoutDuration  = 10 * 365 * 24 * time.Hour
)

// lockoutKeys are the keys of user_lockout_config. Vault documents
// lockout_counter_reset and its client sends lockout_counter_reset_duration:
// both are accepted.
var lockoutKeys = []string{"lockout_threshold", "lockout_duration", "lockout_counter_reset",
	"lockout_counter_reset_duration", "lockout_disable"}

// ApplyUserLockoutConfig returns cur updated by the user_lockout_config
// object of a tune request, as Vault parses it: lockout_threshold a whole
// number (0 unsets it), lockout_duration and lockout_counter_reset (or
// lockout_counter_reset_duration) a duration such as "15m" or a number of
// seconds ("system" or 0 unsets it), lockout_disable a boolean. Fields not
// sent keep their value. cur is not modified; the result is nil when
// nothing is set. Errors are ErrInvalidRequest with a message naming the
// field.
func ApplyUserLockoutConfig(cur *UserLockoutConfig, raw map[string]any) (*UserLockoutConfig, error) {
	var out UserLockoutConfig
	if cur != nil {
		out = *cur
	}
	if err := checkLockoutKeys(raw); err != nil {
		return nil, err
	}
	if v, ok := raw["lockout_threshold"]; ok {
		n, err := parseLockoutThreshold(v)
		if err != nil {
			return nil, err
		}
		out.Threshold = n
	}
	for _, f := range []struct {
		key string
		dst *time.Duration
	}{{"lockout_duration", &out.Duration}, {"lockout_counter_reset", &out.CounterReset},
		{"lockout_counter_reset_duration", &out.CounterReset}} {
		if v, ok := raw[f.key]; ok {
			d, err := parseLockoutDuration(f.key, v)
			if err != nil {
				return nil, err
			}
			*f.dst = d
		}
	}
	if v, ok := raw["lockout_disable"]; ok {
		b, err := toBool(v)
		if err != nil {
			return nil, InvalidRequest("invalid user_lockout_config.lockout_disable %s: use true or false", describe(v))
		}
		out.Disable = &b
	}
	if out.IsZero() {
		return nil, nil
	}
	return &out, nil
}

// checkLockoutKeys refuses unknown keys, and the two names of the counter
// reset sent with different values.
func checkLockoutKeys(raw map[string]any) error {
	var unknown []string
	for k := range raw {
		if !contains(lockoutKeys, k) {
			unknown = append(unknown, describe(k))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return InvalidRequest("unknown user_lockout_config field(s) %s: use %s",
			strings.Join(unknown, ", "), strings.Join(lockoutKeys, ", "))
	}
	a, aok := raw["lockout_counter_reset"]
	b, bok := raw["lockout_counter_reset_duration"]
	if aok && bok && fmt.Sprint(a) != fmt.Sprint(b) {
		return InvalidRequest("user_lockout_config.lockout_counter_reset and lockout_counter_reset_duration differ: send one")
	}
	return nil
}

func parseLockoutThreshold(v any) (int, error) {
	n, err := toInt(v)
	if err != nil || n < 0 || n > MaxLockoutThreshold {
		return 0, InvalidRequest("invalid user_lockout_config.lockout_threshold %s: use a whole number of failed logins from 0 (unset) to %d",
			describe(v), MaxLockoutThreshold)
	}
	return n, nil
}

func parseLockoutDuration(key string, v any) (time.Duration, error) {
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "system" {
		return 0, nil
	}
	d, err := ParseDuration(v)
	if err != nil || d < 0 || d > MaxLockoutDuration {
		return 0, InvalidRequest(`invalid user_lockout_config.%s %s: use a duration such as "15m" or a number of seconds, up to 10 years ("system" or 0 unsets it)`,
			key, describe(v))
	}
	if d > 0 && d < time.Second {
		return 0, InvalidRequest("invalid user_lockout_config.%s %s: the shortest duration is 1s", key, describe(v))
	}
	return d, nil
}

// describe quotes a caller's value for an error message, shortened so a
// huge value cannot flood the response.
func describe(v any) string {
	r := []rune(fmt.Sprint(v))
	if len(r) > 32 {
		return fmt.Sprintf("%q", string(r[:32])+"...")
	}
	return fmt.Sprintf("%q", string(r))
}
