package userpass

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// lockedUsers lists the locked-out users as sys/locked-users asks.
func (e *env) lockedUsers() []string {
	e.t.Helper()
	names, err := e.b.LockedUsers(context.Background(), e.s, e.mountConfig())
	if err != nil {
		e.t.Fatal(err)
	}
	return names
}

func (e *env) unlock(alias string) {
	e.t.Helper()
	if err := e.b.UnlockUser(context.Background(), e.s, alias); err != nil {
		e.t.Fatal(err)
	}
}

// TestLockoutPrecedence checks the effective settings field by field:
// the mount's tune, then config/lockout, then the mount options, then
// Vault's defaults.
func TestLockoutPrecedence(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name    string
		options map[string]string
		stored  map[string]any
		tune    *logical.UserLockoutConfig
		want    map[string]any
	}{
		{"defaults", nil, nil, nil,
			map[string]any{"lockout_threshold": 5, "lockout_duration": int64(900), "lockout_counter_reset": int64(900), "lockout_disable": false}},
		{"tune over everything", map[string]string{"lockout_threshold": "3"},
			map[string]any{"lockout_threshold": 4, "lockout_duration": "1h"},
			&logical.UserLockoutConfig{Threshold: 2, CounterReset: time.Minute},
			map[string]any{"lockout_threshold": 2, "lockout_duration": int64(3600), "lockout_counter_reset": int64(60), "lockout_disable": false}},
		{"tune enables what config/lockout disabled", nil, map[string]any{"lockout_disable": true},
			&logical.UserLockoutConfig{Disable: &no},
			map[string]any{"lockout_threshold": 5, "lockout_duration": int64(900), "lockout_counter_reset": int64(900), "lockout_disable": false}},
		{"tune disables", map[string]string{"lockout_duration": "60"}, nil,
			&logical.UserLockoutConfig{Disable: &yes},
			map[string]any{"lockout_threshold": 5, "lockout_duration": int64(60), "lockout_counter_reset": int64(900), "lockout_disable": true}},
		{"unset tune fields inherit", map[string]string{"lockout_counter_reset": "2m"}, map[string]any{"lockout_threshold": 7},
			&logical.UserLockoutConfig{},
			map[string]any{"lockout_threshold": 7, "lockout_duration": int64(900), "lockout_counter_reset": int64(120), "lockout_disable": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, tt.options, 4)
			e.tune = tt.tune
			if tt.stored != nil {
				e.ok(logical.UpdateOperation, "config/lockout", tt.stored)
			}
			if got := e.ok(logical.ReadOperation, "config/lockout", nil).Data; fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("effective = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLockoutTuneApplies checks logins follow the tuned settings.
func TestLockoutTuneApplies(t *testing.T) {
	e := newEnv(t)
	e.ok(logical.UpdateOperation, "config/lockout", map[string]any{"lockout_threshold": 10})
	e.tune = &logical.UserLockoutConfig{Threshold: 2, Duration: time.Minute}
	e.user("bob", map[string]any{"password": "pw"})
	e.fails("bob", 2)
	e.lockedLogin("bob", "pw")
	e.clock.Advance(time.Minute)
	e.mustLogin("bob", "pw")

	disabled := true
	e.tune = &logical.UserLockoutConfig{Threshold: 2, Disable: &disabled}
	e.fails("bob", 6)
	e.mustLogin("bob", "pw")
}

func TestLockedUsersAndUnlock(t *testing.T) {
	e := newEnv(t)
	e.tune = &logical.UserLockoutConfig{Threshold: 3, Duration: 10 * time.Minute}
	for _, name := range []string{"bob", "carol", "dave"} {
		e.user(name, map[string]any{"password": "pw"})
	}
	if got := e.lockedUsers(); len(got) != 0 {
		t.Fatalf("locked at start: %v", got)
	}
	e.fails("Dave", 3)
	e.fails("bob", 3)
	e.fails("carol", 2) // below the threshold
	e.fails("ghost", 3) // unknown users lock but are never listed
	if got := e.lockedUsers(); !slices.Equal(got, []string{"bob", "dave"}) {
		t.Fatalf("locked = %v, want [bob dave]", got)
	}
	e.lockedLogin("ghost", "pw")

	e.unlock("BOB")
	e.unlock("ghost")
	e.unlock("nobody") // not locked: nothing happens
	if got := e.lockedUsers(); !slices.Equal(got, []string{"dave"}) {
		t.Fatalf("after unlock = %v, want [dave]", got)
	}
	e.mustLogin("bob", "pw")
	e.badLogin("ghost", "pw")
	// The unlock cleared the count: it takes the full threshold again.
	e.fails("bob", 2)
	e.mustLogin("bob", "pw")

	// A lockout that expired is no longer listed.
	e.clock.Advance(10 * time.Minute)
	if got := e.lockedUsers(); len(got) != 0 {
		t.Errorf("after expiry = %v", got)
	}
	// Nothing is locked while lockout is disabled.
	e.fails("carol", 1) // her third failure within the counter reset
	if got := e.lockedUsers(); !slices.Equal(got, []string{"carol"}) {
		t.Fatalf("locked = %v, want [carol]", got)
	}
	disabled := true
	e.tune = &logical.UserLockoutConfig{Threshold: 3, Disable: &disabled}
	if got := e.lockedUsers(); len(got) != 0 {
		t.Errorf("disabled = %v", got)
	}
}

// TestTrackerUnlockInFlight checks an unlock racing a login attempt keeps
// the in-flight bookkeeping consistent.
func TestTrackerUnlockInFlight(t *testing.T) {
	tr := newLockoutTracker()
	cfg := lockoutConfig{Threshold: 2, Duration: time.Minute, CounterReset: time.Minute}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	k := newCounterKey("bob", true)
	for range 2 {
		tr.begin(k, "bob", now, cfg)
		tr.end(k, now, cfg, attemptFailed)
	}
	if got := tr.locked(now, cfg); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("locked = %v", got)
	}
	tr.unlock("bob")
	if !tr.begin(k, "bob", now, cfg) {
		t.Fatal("begin refused after unlock")
	}
	tr.unlock("bob") // while the attempt is in flight
	tr.end(k, now, cfg, attemptFailed)
	c := tr.counters[k]
	if c == nil || c.count != 1 || c.inflight != 0 {
		t.Fatalf("counter after in-flight unlock = %+v", c)
	}
	tr.begin(k, "bob", now, cfg)
	tr.end(k, now, cfg, attemptSucceeded)
	if n := tr.size(); n != 0 {
		t.Errorf("size = %d, want 0", n)
	}
}
