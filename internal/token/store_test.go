package token

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/storage"
)

func TestCreateRootAndLookup(t *testing.T) {
	e := newEnv(t)
	if !strings.HasPrefix(e.root, "hvs.") || len(e.root) < 4+32 {
		t.Fatalf("root token %q: want hvs. and at least 32 random characters", e.root)
	}
	te := e.lookup(e.root)
	if te == nil {
		t.Fatal("root token not found")
	}
	if te.ID != "" {
		t.Error("Lookup must not return the raw token")
	}
	if !IsRoot(te.Policies) || len(te.Policies) != 1 || !te.ExpireTime.IsZero() || te.Renewable || !te.Orphan {
		t.Errorf("root entry = %+v", te)
	}
	e.clk.Advance(10000 * time.Hour)
	if !e.alive(e.root) {
		t.Error("root token must never expire")
	}
}

func TestCreateRootCustomID(t *testing.T) {
	e := newEnv(t)
	root, err := e.s.CreateRoot(ctx(), "dev-root")
	if err != nil {
		t.Fatal(err)
	}
	if root.ID != "dev-root" || !e.alive("dev-root") {
		t.Fatalf("custom root = %+v", root)
	}
	if _, err := e.s.CreateRoot(ctx(), "dev-root"); err != ErrDuplicateID {
		t.Errorf("duplicate id: err = %v", err)
	}
	if _, err := e.s.CreateRoot(ctx(), "has space"); err == nil {
		t.Error("an ID with spaces must be refused")
	}
}

func TestLookupUnknown(t *testing.T) {
	e := newEnv(t)
	for _, raw := range []string{"", "hvs.nope", strings.Repeat("x", 5000), e.root + "x"} {
		if e.alive(raw) {
			t.Errorf("Lookup(%.20q) found a token", raw)
		}
	}
}

func TestReopenKeepsTokens(t *testing.T) {
	e := newEnv(t)
	s2, err := NewStore(e.store, Options{Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if te, _ := s2.Lookup(ctx(), e.root); te == nil {
		t.Fatal("token not found after reopening the store")
	}
}

func TestStorageHoldsNoRawToken(t *testing.T) {
	e := newEnv(t)
	raws := []string{e.root}
	for i := 0; i < 5; i++ {
		a := e.create(e.root, map[string]any{"policies": "p", "meta": map[string]any{"k": "v"}})
		raws = append(raws, a.ClientToken)
		raws = append(raws, e.create(a.ClientToken, nil).ClientToken)
	}
	custom, err := e.s.CreateRoot(ctx(), "my-custom-root-id")
	if err != nil {
		t.Fatal(err)
	}
	raws = append(raws, custom.ID, strings.TrimPrefix(e.root, "hvs."))
	for _, k := range e.keys("") {
		se, err := e.store.Get(ctx(), k)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range raws {
			if strings.Contains(k, raw) || bytes.Contains(se.Value, []byte(raw)) {
				t.Fatalf("storage key %q holds a raw token", k)
			}
		}
	}
}

func TestUseTokenExhaustion(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.root, map[string]any{"num_uses": 2, "policies": "p"})
	child := e.create(e.root, nil)
	te := e.lookup(a.ClientToken)
	if te.NumUses != 2 {
		t.Fatalf("num_uses = %d", te.NumUses)
	}
	u1, err := e.s.UseToken(ctx(), te)
	if err != nil || u1 == nil || u1.NumUses != 1 {
		t.Fatalf("first use: %+v, %v", u1, err)
	}
	if got := e.lookup(a.ClientToken); got == nil || got.NumUses != 1 {
		t.Fatalf("after one use: %+v", got)
	}
	u2, err := e.s.UseToken(ctx(), te)
	if err != nil || u2 == nil || u2.NumUses != 0 {
		t.Fatalf("last use: %+v, %v", u2, err)
	}
	if e.alive(a.ClientToken) {
		t.Fatal("token must be revoked after its last use")
	}
	if u3, err := e.s.UseToken(ctx(), te); err != nil || u3 != nil {
		t.Fatalf("use after exhaustion: %+v, %v", u3, err)
	}
	if !e.alive(child.ClientToken) {
		t.Fatal("an unrelated token was revoked")
	}
	unlimited := e.lookup(child.ClientToken)
	if u, _ := e.s.UseToken(ctx(), unlimited); u != unlimited {
		t.Fatal("unlimited token must be returned unchanged")
	}
}

func TestUseTokenConcurrent(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.root, map[string]any{"num_uses": 5, "policies": "p"})
	te := e.lookup(a.ClientToken)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if u, err := e.s.UseToken(ctx(), te); err == nil && u != nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 5 {
		t.Fatalf("%d uses succeeded, want exactly 5", ok.Load())
	}
	if e.alive(a.ClientToken) {
		t.Fatal("exhausted token still alive")
	}
}

func TestExpiryAndLazyRevoke(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.root, map[string]any{"ttl": "1h", "policies": "p"})
	c := e.create(a.ClientToken, map[string]any{"ttl": "10h"})
	e.clk.Advance(59 * time.Minute)
	if !e.alive(a.ClientToken) {
		t.Fatal("token expired early")
	}
	e.clk.Advance(time.Minute)
	if e.alive(a.ClientToken) {
		t.Fatal("token alive at its expire time")
	}
	if e.alive(c.ClientToken) {
		t.Fatal("child must be revoked with its expired parent")
	}
	if ks := e.keys("id/"); len(ks) != 1 {
		t.Fatalf("want only the root entry left, got %v", ks)
	}
}

func TestCreateTTLRules(t *testing.T) {
	cases := []struct {
		name                       string
		entry                      Entry
		wantTTL, wantMax           time.Duration
		wantWarnings               int
		wantRenewable, wantExpires bool
	}{
		{"default ttl", Entry{Policies: []string{"p"}, Renewable: true}, time.Hour, 0, 0, true, true},
		{"capped by max", Entry{Policies: []string{"p"}, TTL: 48 * time.Hour, Renewable: true}, 24 * time.Hour, 0, 1, true, true},
		{"capped by explicit", Entry{Policies: []string{"p"}, TTL: 2 * time.Hour, ExplicitMaxTTL: 30 * time.Minute}, 30 * time.Minute, 30 * time.Minute, 1, false, true},
		{"explicit capped by max", Entry{Policies: []string{"p"}, TTL: time.Hour, ExplicitMaxTTL: 48 * time.Hour}, time.Hour, 24 * time.Hour, 1, false, true},
		{"periodic escapes max", Entry{Policies: []string{"p"}, Period: 48 * time.Hour, Renewable: true}, 48 * time.Hour, 0, 0, true, true},
		{"periodic bounded by explicit", Entry{Policies: []string{"p"}, Period: 2 * time.Hour, ExplicitMaxTTL: time.Hour}, time.Hour, time.Hour, 1, false, true},
		{"root never expires", Entry{Policies: []string{"root"}, Renewable: true}, 0, 0, 0, false, false},
		{"root with explicit", Entry{Policies: []string{"root"}, ExplicitMaxTTL: time.Hour}, time.Hour, time.Hour, 0, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			en := tc.entry
			en.CreationTime = time.Unix(1000, 0)
			w := applyTTL(&en, limits{def: time.Hour, max: 24 * time.Hour})
			if en.TTL != tc.wantTTL || en.ExplicitMaxTTL != tc.wantMax || len(w) != tc.wantWarnings ||
				en.Renewable != tc.wantRenewable || en.ExpireTime.IsZero() == tc.wantExpires {
				t.Fatalf("got ttl=%v max=%v warnings=%q renewable=%v expire=%v", en.TTL, en.ExplicitMaxTTL, w, en.Renewable, en.ExpireTime)
			}
			if tc.wantExpires && !en.ExpireTime.Equal(en.CreationTime.Add(tc.wantTTL)) {
				t.Fatalf("expire time %v", en.ExpireTime)
			}
		})
	}
}

func TestRenewRules(t *testing.T) {
	created := time.Unix(0, 0)
	lim := limits{def: time.Hour, max: 10 * time.Hour}
	cases := []struct {
		name             string
		e                Entry
		at, incr         time.Duration
		period, explicit time.Duration
		want             time.Duration
		wantErr          error
	}{
		{"increment", Entry{TTL: time.Hour}, 30 * time.Minute, 2 * time.Hour, 0, 0, 2 * time.Hour, nil},
		{"creation ttl", Entry{TTL: 3 * time.Hour}, time.Hour, 0, 0, 0, 3 * time.Hour, nil},
		{"capped by max", Entry{TTL: time.Hour}, 9 * time.Hour, 5 * time.Hour, 0, 0, time.Hour, nil},
		{"capped by explicit", Entry{TTL: time.Hour}, 50 * time.Minute, time.Hour, 0, 90 * time.Minute, 40 * time.Minute, nil},
		{"past max", Entry{TTL: time.Hour}, 10 * time.Hour, time.Hour, 0, 0, 0, ErrPastMaxTTL},
		{"period ignores max", Entry{TTL: time.Hour}, 100 * time.Hour, 5 * time.Hour, time.Hour, 0, time.Hour, nil},
		{"period bounded by explicit", Entry{TTL: time.Hour}, 110 * time.Minute, 0, time.Hour, 2 * time.Hour, 10 * time.Minute, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.e.CreationTime = created
			got, _, err := renewTTL(&tc.e, created.Add(tc.at), tc.incr, tc.period, tc.explicit, lim)
			if err != tc.wantErr || got != tc.want {
				t.Fatalf("renewTTL = %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestRevokeTreeIsIterative(t *testing.T) {
	e := newEnv(t)
	// A chain deeper than any sane recursion budget would like.
	top := e.create(e.root, map[string]any{"policies": "p"})
	cur := top.ClientToken
	var chain []string
	for i := 0; i < 300; i++ {
		cur = e.create(cur, nil).ClientToken
		chain = append(chain, cur)
	}
	if err := e.s.Revoke(ctx(), top.ClientToken); err != nil {
		t.Fatal(err)
	}
	for _, raw := range append(chain, top.ClientToken) {
		if e.alive(raw) {
			t.Fatal("a token of the chain survived")
		}
	}
	if ks := e.keys("parent/"); len(ks) != 0 {
		t.Fatalf("parent index left behind: %d keys", len(ks))
	}
	if ks := e.keys("accessor/"); len(ks) != 1 {
		t.Fatalf("want only the root's accessor left, got %d", len(ks))
	}
}

func TestRevokeCycleInIndex(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.root, map[string]any{"policies": "p"})
	b := e.create(a.ClientToken, nil)
	ha, hb := e.lookup(a.ClientToken).Hash, e.lookup(b.ClientToken).Hash
	// Corrupt the index: b claims a as its child.
	if err := e.store.Put(ctx(), &storage.Entry{Key: "parent/" + hb + "/" + ha, Value: []byte{}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.s.Revoke(ctx(), a.ClientToken) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("revocation loops on a cyclic index")
	}
	if e.alive(a.ClientToken) || e.alive(b.ClientToken) {
		t.Fatal("tokens survived")
	}
}

func TestOnRevokeHook(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var seen []string
	e.s.OnRevoke = func(_ context.Context, te *Entry) {
		mu.Lock()
		seen = append(seen, te.Hash)
		mu.Unlock()
	}
	a := e.create(e.root, map[string]any{"policies": "p"})
	e.create(a.ClientToken, nil)
	if err := e.s.Revoke(ctx(), a.ClientToken); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 {
		t.Fatalf("OnRevoke called %d times, want 2", len(seen))
	}
}

func TestTidy(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.root, map[string]any{"ttl": "1h", "policies": "p"})
	e.create(a.ClientToken, map[string]any{"ttl": "5h"})
	keep := e.create(e.root, map[string]any{"ttl": "5h", "policies": "p"})
	kid := e.create(keep.ClientToken, map[string]any{"ttl": "5h"})
	// A child whose parent vanished without its index being cleaned.
	hk := e.lookup(keep.ClientToken).Hash
	if err := e.store.Delete(ctx(), "id/"+hk); err != nil {
		t.Fatal(err)
	}
	e.s.cacheDelete(mustKey(t, hk))
	e.clk.Advance(2 * time.Hour)
	n, err := e.s.Tidy(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("Tidy removed %d tokens, want 2", n)
	}
	if got := e.lookup(kid.ClientToken); got == nil || !got.Orphan || got.Parent != "" {
		t.Fatalf("child of a missing parent should be an orphan, got %+v", got)
	}
	if ks := e.keys("accessor/"); len(ks) != 2 {
		t.Fatalf("accessor index: %d keys, want 2 (root and kid)", len(ks))
	}
	if ks := e.keys("parent/"); len(ks) != 0 {
		t.Fatalf("parent index left: %v", ks)
	}
}

func TestTidyFinishesPendingRevocation(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.root, map[string]any{"policies": "p"})
	if _, _, err := e.s.markPending(ctx(), e.lookup(a.ClientToken).Hash, ""); err != nil {
		t.Fatal(err)
	}
	if e.alive(a.ClientToken) {
		t.Fatal("a token being revoked must not authenticate")
	}
	if n, err := e.s.Tidy(ctx()); err != nil || n != 1 {
		t.Fatalf("Tidy = %d, %v", n, err)
	}
	if ks := e.keys("id/"); len(ks) != 1 {
		t.Fatalf("entries left: %v", ks)
	}
}

func TestLookupRevokeRace(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 50; i++ {
		a := e.create(e.root, map[string]any{"policies": "p"})
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						_, _ = e.s.Lookup(ctx(), a.ClientToken)
					}
				}
			}()
		}
		err := e.s.Revoke(ctx(), a.ClientToken)
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if e.alive(a.ClientToken) {
			t.Fatalf("iteration %d: revoked token back in the cache", i)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"dev", "dev", true}, {"dev", "devx", false}, {"dev-*", "dev-a", true}, {"dev-*", "dev-", true},
		{"*-ro", "kv-ro", true}, {"*-ro", "kv-rw", false}, {"a*b*c", "abc", true}, {"a*b*c", "axxbyyc", true},
		{"a*b*c", "acb", false}, {"*", "", true}, {"a*a", "a", false},
	}
	for _, tc := range cases {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func TestRandomBase62(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		s, err := randomBase62(tokenChars)
		if err != nil || len(s) != tokenChars || strings.Trim(s, base62) != "" || seen[s] {
			t.Fatalf("randomBase62 = %q, %v", s, err)
		}
		seen[s] = true
	}
}

func FuzzLookup(f *testing.F) {
	e := newEnv(f)
	for _, s := range []string{"", "hvs.", e.root, "\x00\xff", strings.Repeat("a", 2000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		te, err := e.s.Lookup(ctx(), raw)
		if err != nil {
			t.Fatalf("Lookup error: %v", err)
		}
		if te != nil && raw != e.root {
			t.Fatalf("Lookup(%q) found a token", raw)
		}
		if _, err := e.s.LookupAccessor(ctx(), raw); err != nil {
			t.Fatalf("LookupAccessor error: %v", err)
		}
	})
}

func BenchmarkLookupCached(b *testing.B) {
	e := newEnv(b)
	raw := e.create(e.root, map[string]any{"policies": "p"}).ClientToken
	if !e.alive(raw) {
		b.Fatal("setup")
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if te, _ := e.s.Lookup(ctx(), raw); te == nil {
				b.Fatal("miss")
			}
		}
	})
}

func BenchmarkCreate(b *testing.B) {
	e := newEnv(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		te := &Entry{Policies: []string{"default", "p"}, Path: "auth/userpass/login/bob", DisplayName: fmt.Sprint("u", i%10), Renewable: true}
		if err := e.s.Create(ctx(), te); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRevokeSkipsStaleEdge(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.root, map[string]any{"policies": "p"})
	b := e.create(a.ClientToken, nil)
	c := e.create(e.root, map[string]any{"policies": "p", "no_parent": true})
	ha, hc := e.lookup(a.ClientToken).Hash, e.lookup(c.ClientToken).Hash
	// A stale edge, as left by a crash in the middle of revoke-orphan.
	if err := e.store.Put(ctx(), &storage.Entry{Key: "parent/" + ha + "/" + hc, Value: []byte{}}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Revoke(ctx(), a.ClientToken); err != nil {
		t.Fatal(err)
	}
	if e.alive(a.ClientToken) || e.alive(b.ClientToken) {
		t.Fatal("tree survived")
	}
	if !e.alive(c.ClientToken) {
		t.Fatal("a token reached only through a stale index edge was revoked")
	}
	if ks := e.keys("parent/"); len(ks) != 0 {
		t.Fatalf("edges left: %v", ks)
	}
}
