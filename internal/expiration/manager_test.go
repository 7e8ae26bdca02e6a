package expiration

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

// engine is the test's stand-in for a secrets engine: it records what it
// was asked to revoke and can be made to fail, like a database that is
// down.
type engine struct {
	mu      sync.Mutex
	revoked map[string]int
	down    bool
	maxTTL  time.Duration
}

func (e *engine) RevokeLease(_ context.Context, l *Lease, s *logical.Secret) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return errors.New("connect to postgresql 127.0.0.1:5432/postgres: connection refused")
	}
	if e.revoked == nil {
		e.revoked = map[string]int{}
	}
	e.revoked[s.LeaseID]++
	return nil
}

func (e *engine) RenewLease(_ context.Context, l *Lease, s *logical.Secret) (*logical.Response, error) {
	return &logical.Response{Secret: &logical.Secret{LeaseOptions: logical.LeaseOptions{TTL: s.TTL, MaxTTL: e.maxTTL}}}, nil
}

func (e *engine) setDown(v bool) {
	e.mu.Lock()
	e.down = v
	e.mu.Unlock()
}

func (e *engine) count(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.revoked[id]
}

type fixture struct {
	m     *Manager
	eng   *engine
	clock *testclock.Clock
	store logical.Storage
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{eng: &engine{}, clock: testclock.New(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)), store: inmem.New()}
	f.start(t)
	return f
}

func (f *fixture) start(t testing.TB) int {
	t.Helper()
	f.m = New(f.store, f.eng, Options{Now: f.clock.Now, Workers: 4, RetryBase: time.Second, RetryMax: 8 * time.Second})
	n, err := f.m.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.m.Stop)
	return n
}

func (f *fixture) register(t testing.TB, path, token string, ttl, max time.Duration) *Lease {
	t.Helper()
	s := &logical.Secret{InternalData: map[string]any{"username": "v-app"}, LeaseOptions: logical.LeaseOptions{Renewable: true}}
	l, err := f.m.Register(context.Background(), path, token, s, ttl, max)
	if err != nil {
		t.Fatal(err)
	}
	if s.LeaseID != l.ID || !strings.HasPrefix(l.ID, path+"/") {
		t.Fatalf("lease id %q (secret says %q) not below %q", l.ID, s.LeaseID, path)
	}
	return l
}

// advance moves the clock and wakes the scheduler.
func (f *fixture) advance(d time.Duration) {
	f.clock.Advance(d)
	f.m.kick()
}

// waitGone polls until the lease is deleted from storage.
func (f *fixture) waitGone(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := f.m.Lookup(context.Background(), id); errors.Is(err, ErrNotFound) {
			return
		}
		f.m.kick()
		time.Sleep(2 * time.Millisecond) // polling a background worker, not waiting for time to pass
	}
	t.Fatalf("lease %s was not revoked", id)
}

func TestRegisterAndLookup(t *testing.T) {
	f := newFixture(t)
	l := f.register(t, "database/creds/app", "hash1", time.Hour, 2*time.Hour)
	got, err := f.m.Lookup(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TTL(f.clock.Now()) != time.Hour || !got.Renewable || got.TokenHash != "hash1" || got.InternalData["username"] != "v-app" {
		t.Fatalf("lookup = %+v", got)
	}
	keys, err := f.m.List(context.Background(), "database/creds/")
	if err != nil || len(keys) != 1 || keys[0] != "app/" {
		t.Fatalf("list = %v, %v", keys, err)
	}
	if _, err := f.m.Lookup(context.Background(), "database/creds/app/nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown lease: %v", err)
	}
}

func TestExpiryRevokes(t *testing.T) {
	f := newFixture(t)
	short := f.register(t, "database/creds/app", "", time.Minute, 0)
	long := f.register(t, "database/creds/app", "", time.Hour, 0)
	f.advance(61 * time.Second)
	f.waitGone(t, short.ID)
	if f.eng.count(short.ID) != 1 {
		t.Fatalf("engine asked %d times to revoke", f.eng.count(short.ID))
	}
	if _, err := f.m.Lookup(context.Background(), long.ID); err != nil {
		t.Fatalf("long lease revoked early: %v", err)
	}
}

func TestRevocationRetriedWhileEngineDown(t *testing.T) {
	f := newFixture(t)
	l := f.register(t, "database/creds/app", "", time.Minute, 0)
	f.eng.setDown(true)
	f.advance(time.Minute)
	// the failure is recorded with a next attempt
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := f.m.Lookup(context.Background(), l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RevokeAttempts > 0 {
			if !strings.Contains(got.LastError, "connection refused") || !got.NextAttempt.After(f.clock.Now()) {
				t.Fatalf("failed attempt recorded as %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no revocation attempt recorded")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if _, _, err := f.m.Renew(context.Background(), l.ID, time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("renewing a lease being revoked: %v", err)
	}
	f.eng.setDown(false)
	f.advance(time.Minute)
	f.waitGone(t, l.ID)
}

func TestRestartRevokesWhatExpiredWhileDown(t *testing.T) {
	f := newFixture(t)
	l := f.register(t, "database/creds/app", "tok", time.Minute, 0)
	keep := f.register(t, "database/creds/app", "tok", time.Hour, 0)
	f.m.Stop()
	f.clock.Advance(2 * time.Minute)
	if n := f.start(t); n != 2 {
		t.Fatalf("restart loaded %d leases, want 2", n)
	}
	f.waitGone(t, l.ID)
	if _, err := f.m.Lookup(context.Background(), keep.ID); err != nil {
		t.Fatal(err)
	}
}

func TestRenew(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := f.register(t, "database/creds/app", "", time.Minute, 10*time.Minute)
	f.clock.Advance(30 * time.Second)
	got, warn, err := f.m.Renew(ctx, l.ID, 5*time.Minute)
	if err != nil || len(warn) != 0 {
		t.Fatal(err, warn)
	}
	if got.TTL(f.clock.Now()) != 5*time.Minute || got.LastRenewal != f.clock.Now() {
		t.Fatalf("renewed to %v", got.TTL(f.clock.Now()))
	}
	got, warn, err = f.m.Renew(ctx, l.ID, time.Hour)
	if err != nil || len(warn) != 1 {
		t.Fatal(err, warn)
	}
	if want := l.IssueTime.Add(10 * time.Minute); !got.ExpireTime.Equal(want) {
		t.Fatalf("capped expiry %v, want %v", got.ExpireTime, want)
	}
	f.eng.maxTTL = 2 * time.Minute // the engine's (role's) max is lower
	got, _, err = f.m.Renew(ctx, l.ID, time.Hour)
	if err != nil || !got.ExpireTime.Equal(l.IssueTime.Add(2*time.Minute)) {
		t.Fatalf("engine cap: %v %v", got.ExpireTime, err)
	}
	s := &logical.Secret{}
	fixed, err := f.m.Register(ctx, "pki/issue/web", "", s, time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.m.Renew(ctx, fixed.ID, time.Hour); !errors.Is(err, ErrNotRenewable) {
		t.Fatalf("renew of non-renewable: %v", err)
	}
	f.clock.Advance(time.Hour)
	if _, _, err := f.m.Renew(ctx, l.ID, time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("renew of expired: %v", err)
	}
}

func TestRevokeVariants(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		act         func(f *fixture, ids []string) error
		gone        []int
		engineAsked bool
	}{
		{"revoke one sync", func(f *fixture, ids []string) error { return f.m.Revoke(ctx, ids[0], true) }, []int{0}, true},
		{"revoke one async", func(f *fixture, ids []string) error { return f.m.Revoke(ctx, ids[0], false) }, []int{0}, true},
		{"revoke unknown", func(f *fixture, ids []string) error { return f.m.Revoke(ctx, "database/creds/app/none", true) }, nil, false},
		{"revoke prefix", func(f *fixture, ids []string) error {
			_, err := f.m.RevokePrefix(ctx, "database/creds/app", true)
			return err
		}, []int{0, 1}, true},
		{"revoke prefix with slash", func(f *fixture, ids []string) error {
			_, err := f.m.RevokePrefix(ctx, "database/creds/", true)
			return err
		}, []int{0, 1, 2}, true},
		{"revoke force", func(f *fixture, ids []string) error {
			_, err := f.m.RevokeForce(ctx, "database/")
			return err
		}, []int{0, 1, 2}, false},
		{"revoke by token", func(f *fixture, ids []string) error {
			_, err := f.m.RevokeByToken(ctx, "tokA")
			return err
		}, []int{0, 2, 3}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ids := []string{
				f.register(t, "database/creds/app", "tokA", time.Hour, 0).ID,
				f.register(t, "database/creds/app", "tokB", time.Hour, 0).ID,
				f.register(t, "database/creds/web", "tokA", time.Hour, 0).ID,
				f.register(t, "databases/creds/app", "tokA", time.Hour, 0).ID, // a sibling mount, never matched
			}
			if err := tc.act(f, ids); err != nil {
				t.Fatal(err)
			}
			goneSet := map[int]bool{}
			for _, i := range tc.gone {
				goneSet[i] = true
				f.waitGone(t, ids[i])
				if asked := f.eng.count(ids[i]) == 1; asked != tc.engineAsked {
					t.Fatalf("lease %d: engine asked=%v, want %v", i, asked, tc.engineAsked)
				}
			}
			for i, id := range ids {
				if goneSet[i] {
					continue
				}
				if _, err := f.m.Lookup(ctx, id); err != nil {
					t.Fatalf("lease %d should remain: %v", i, err)
				}
			}
		})
	}
}

func TestSyncRevokeFailureKeepsLease(t *testing.T) {
	f := newFixture(t)
	l := f.register(t, "database/creds/app", "", time.Hour, 0)
	f.eng.setDown(true)
	err := f.m.Revoke(context.Background(), l.ID, true)
	if err == nil || !strings.Contains(err.Error(), l.ID) {
		t.Fatalf("sync revoke with engine down: %v", err)
	}
	got, err := f.m.Lookup(context.Background(), l.ID)
	if err != nil || got.RevokeAttempts != 1 || got.TTL(f.clock.Now()) != 0 {
		t.Fatalf("lease after failed revoke: %+v, %v", got, err)
	}
	f.eng.setDown(false)
	f.advance(2 * time.Second)
	f.waitGone(t, l.ID)
}

func TestTidy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	live := f.register(t, "database/creds/app", "alive", time.Hour, 0)
	dead := f.register(t, "database/creds/app", "dead", time.Hour, 0)
	// an index entry whose lease is gone (a crash between two writes)
	if err := f.store.Put(ctx, &logical.StorageEntry{Key: tokenIndexKey("alive", "database/creds/app/gone"), Value: []byte("database/creds/app/gone")}); err != nil {
		t.Fatal(err)
	}
	res, err := f.m.Tidy(ctx, func(_ context.Context, h string) (bool, error) { return h == "alive", nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.StaleIndex != 1 || res.Orphaned != 1 {
		t.Fatalf("tidy = %+v", res)
	}
	f.waitGone(t, dead.ID)
	if _, err := f.m.Lookup(ctx, live.ID); err != nil {
		t.Fatal(err)
	}
}

func TestValidateID(t *testing.T) {
	tests := []struct {
		id     string
		prefix bool
		ok     bool
	}{
		{"database/creds/app/abc", false, true},
		{"database/creds/", true, true},
		{"database/creds/", false, false},
		{"", false, false},
		{"a//b", false, false},
		{"a/../b", true, false},
		{"./a", false, false},
		{strings.Repeat("a", 2000), false, false},
	}
	for _, tc := range tests {
		if err := ValidateID(tc.id, tc.prefix); (err == nil) != tc.ok {
			t.Errorf("ValidateID(%q, %v) = %v", tc.id, tc.prefix, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	m := New(inmem.New(), &engine{}, Options{RetryBase: time.Second, RetryMax: 10 * time.Second})
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := m.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}
