package userpass

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// fails makes n failed logins for name, each answered as a wrong password.
func (e *env) fails(name string, n int) {
	e.t.Helper()
	for range n {
		e.badLogin(name, "wrong")
	}
}

func TestLockoutDefaults(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "pw"})
	e.fails("bob", 5)
	// Locked: even the right password is refused, with 403.
	e.lockedLogin("bob", "pw")
	e.lockedLogin("BOB", "wrong")
	e.clock.Advance(15*time.Minute - time.Second)
	e.lockedLogin("bob", "pw")
	e.clock.Advance(time.Second)
	e.mustLogin("bob", "pw")
	// The success reset the counter: four failures do not lock.
	e.fails("bob", 4)
	e.mustLogin("bob", "pw")
	e.fails("bob", 4)
	e.mustLogin("bob", "pw")
}

func TestLockoutCounterReset(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "pw"})
	e.fails("bob", 4)
	e.clock.Advance(15*time.Minute + time.Second) // no failure for the reset period
	e.fails("bob", 4)
	e.mustLogin("bob", "pw")
	// Failures just inside the reset period keep counting.
	e.fails("bob", 4)
	e.clock.Advance(14 * time.Minute)
	e.fails("bob", 1)
	e.lockedLogin("bob", "pw")
}

// TestLockoutAfterExpiry follows Vault: once a lockout ends, the count is
// still at the threshold until it resets, so one more failure locks again.
func TestLockoutAfterExpiry(t *testing.T) {
	e := newEnv(t)
	e.ok(logical.UpdateOperation, "config/lockout", map[string]any{"lockout_duration": "1m", "lockout_counter_reset": "1h"})
	e.user("bob", map[string]any{"password": "pw"})
	e.fails("bob", 5)
	e.lockedLogin("bob", "pw")
	e.clock.Advance(time.Minute)
	e.fails("bob", 1)
	e.lockedLogin("bob", "pw")
	e.clock.Advance(time.Minute)
	e.mustLogin("bob", "pw")
}

func TestLockoutScope(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "pw"})
	e.user("carol", map[string]any{"password": "pw"})
	// Failures from many addresses count together (per user, not per IP).
	for i := range 5 {
		e.remote = fmt.Sprintf("198.51.100.%d:1000", i)
		e.badLogin("Bob", "wrong")
	}
	e.remote = "127.0.0.1:1"
	e.lockedLogin("bob", "pw")
	e.mustLogin("carol", "pw")
	// Unknown usernames lock the same way, so lockout cannot tell them apart.
	e.fails("ghost", 5)
	e.lockedLogin("ghost", "pw")
	// Another mount has its own counters.
	other := newEnv(t)
	other.user("bob", map[string]any{"password": "pw"})
	other.mustLogin("bob", "pw")
}

// TestLockoutCIDRRefusal checks a refused source address neither counts
// as a failure nor resets the count.
func TestLockoutCIDRRefusal(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "pw", "token_bound_cidrs": "10.0.0.0/8"})
	e.fails("bob", 4)
	for range 10 {
		e.lockedLogin("bob", "pw")
	}
	e.remote = "10.0.0.1:1"
	e.mustLogin("bob", "pw")
	e.remote = "127.0.0.1:1"
	e.fails("bob", 4)
	e.lockedLogin("bob", "pw") // CIDR refusal
	e.badLogin("bob", "wrong") // fifth failure
	e.remote = "10.0.0.1:1"
	e.lockedLogin("bob", "pw") // locked now
}

func TestLockoutConfigPath(t *testing.T) {
	e := newEnv(t)
	read := func() map[string]any { return e.ok(logical.ReadOperation, "config/lockout", nil).Data }
	want := map[string]any{"lockout_threshold": 5, "lockout_duration": int64(900), "lockout_counter_reset": int64(900), "lockout_disable": false}
	if got := read(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("defaults = %v", got)
	}
	e.ok(logical.UpdateOperation, "config/lockout", map[string]any{"lockout_threshold": "2", "lockout_duration": "1h"})
	want["lockout_threshold"], want["lockout_duration"] = 2, int64(3600)
	if got := read(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after update = %v", got)
	}
	e.user("bob", map[string]any{"password": "pw"})
	e.fails("bob", 2)
	e.lockedLogin("bob", "pw")
	e.clock.Advance(30 * time.Minute)
	e.lockedLogin("bob", "pw")

	e.ok(logical.UpdateOperation, "config/lockout", map[string]any{"lockout_disable": true})
	e.mustLogin("bob", "pw")
	e.fails("bob", 20)
	e.mustLogin("bob", "pw")

	e.ok(logical.UpdateOperation, "config/lockout", map[string]any{"lockout_threshold": 0})
	if got := read(); got["lockout_threshold"] != 5 || got["lockout_disable"] != true {
		t.Errorf("threshold 0 should inherit the default: %v", got)
	}
	e.ok(logical.DeleteOperation, "config/lockout", nil)
	want["lockout_threshold"], want["lockout_duration"] = 5, int64(900)
	if got := read(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after delete = %v", got)
	}
	e.fail(logical.UpdateOperation, "config/lockout", map[string]any{"lockout_threshold": -1}, logical.ErrInvalidRequest, "lockout_threshold cannot be negative")
	e.fail(logical.UpdateOperation, "config/lockout", map[string]any{"lockout_duration": "later"}, logical.ErrInvalidRequest, "")
}

func TestLockoutMountOptions(t *testing.T) {
	e := newEnvWith(t, map[string]string{"lockout_threshold": "3", "lockout_duration": "60", "lockout_counter_reset": "10m"}, 4)
	got := e.ok(logical.ReadOperation, "config/lockout", nil).Data
	if got["lockout_threshold"] != 3 || got["lockout_duration"] != int64(60) || got["lockout_counter_reset"] != int64(600) {
		t.Errorf("config from options = %v", got)
	}
	e.user("bob", map[string]any{"password": "pw"})
	e.fails("bob", 3)
	e.lockedLogin("bob", "pw")
	e.clock.Advance(time.Minute)
	e.mustLogin("bob", "pw")
	// config/lockout overrides the options field by field.
	e.ok(logical.UpdateOperation, "config/lockout", map[string]any{"lockout_threshold": 1})
	if got := e.ok(logical.ReadOperation, "config/lockout", nil).Data; got["lockout_threshold"] != 1 || got["lockout_duration"] != int64(60) {
		t.Errorf("override = %v", got)
	}

	disabled := newEnvWith(t, map[string]string{"lockout_disable": "true"}, 4)
	disabled.user("bob", map[string]any{"password": "pw"})
	disabled.fails("bob", 10)
	disabled.mustLogin("bob", "pw")

	for _, opts := range []map[string]string{
		{"lockout_threshold": "many"}, {"lockout_threshold": "-1"}, {"lockout_duration": "soon"},
		{"lockout_counter_reset": "-5"}, {"lockout_disable": "perhaps"},
	} {
		_, err := Factory(context.Background(), &logical.BackendConfig{StorageView: inmem.New(), Config: opts})
		if !errors.Is(err, logical.ErrInvalidRequest) {
			t.Errorf("Factory(%v) = %v, want an invalid request", opts, err)
		}
	}
}

// TestLockoutConcurrentGuesses checks that guesses in flight at the same
// time cannot exceed the threshold: exactly five are checked, the rest
// refused as locked out.
func TestLockoutConcurrentGuesses(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "pw"})
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.login("bob", fmt.Sprintf("guess-%d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, logical.ErrPermissionDenied):
				counts["locked"]++
			case err != nil && err.Error() == msgInvalid:
				counts["invalid"]++
			default:
				counts[fmt.Sprint(err)]++
			}
		}()
	}
	wg.Wait()
	if counts["invalid"] != 5 || counts["locked"] != 35 {
		t.Errorf("outcomes = %v, want 5 invalid and 35 locked", counts)
	}
	e.lockedLogin("bob", "pw")
}

func TestTrackerBounds(t *testing.T) {
	tr := newLockoutTracker()
	cfg := defaultLockout
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		k := newCounterKey(fmt.Sprintf("real-%d", i), true)
		tr.begin(k, "", now, cfg)
		tr.end(k, now, cfg, attemptFailed)
	}
	// A spray of unknown names stays bounded and evicts no real counter.
	for i := range maxUnknownCounters + 500 {
		k := newCounterKey(fmt.Sprintf("spray-%d", i), false)
		if !tr.begin(k, "", now, cfg) {
			t.Fatalf("begin %d refused", i)
		}
		tr.end(k, now, cfg, attemptFailed)
	}
	if n := tr.size(); n != maxUnknownCounters+10 {
		t.Errorf("size = %d, want %d", n, maxUnknownCounters+10)
	}
	for i := range 10 {
		if _, ok := tr.counters[newCounterKey(fmt.Sprintf("real-%d", i), true)]; !ok {
			t.Fatalf("real counter %d evicted", i)
		}
	}
	// Stale counters are swept once the map has grown.
	later := now.Add(16 * time.Minute)
	tr.sweepAt = 0
	k := newCounterKey("fresh", true)
	tr.begin(k, "", later, cfg)
	tr.end(k, later, cfg, attemptFailed)
	if n := tr.size(); n != 1 {
		t.Errorf("size after sweep = %d, want 1", n)
	}
	// Success and aborted attempts leave nothing behind.
	k2 := newCounterKey("ok", true)
	tr.begin(k2, "", later, cfg)
	tr.end(k2, later, cfg, attemptAborted)
	tr.begin(k, "", later, cfg)
	tr.end(k, later, cfg, attemptSucceeded)
	if n := tr.size(); n != 0 {
		t.Errorf("size after success = %d, want 0", n)
	}
}
