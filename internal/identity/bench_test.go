package identity

import (
	"fmt"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// BenchmarkIdentityPoliciesCached is the per-request path of a token with
// an entity: 1,000 entities, each in a group nested two deep.
func BenchmarkIdentityPoliciesCached(b *testing.B) {
	f := newFx(b)
	outer := f.id("group", map[string]any{"name": "outer", "policies": "o"})
	var ids []string
	for i := range 1000 {
		e := f.login("acc", fmt.Sprintf("user%d", i))
		ids = append(ids, e.ID)
	}
	f.write("group", map[string]any{"name": "inner", "policies": "a,b", "member_entity_ids": ids, "member_group_ids": outer})
	f.write("group/id/"+outer, map[string]any{"member_group_ids": ""})
	f.write("group", map[string]any{"name": "top", "policies": "t", "member_group_ids": f.read("group/name/inner")["id"]})
	for _, id := range ids {
		f.policies(id) // warm the cache
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if p, _ := f.s.IdentityPolicies(bg, ids[i%len(ids)]); len(p) != 3 {
				b.Fatal(p)
			}
			i++
		}
	})
}

// BenchmarkIdentityPoliciesMiss measures the answer after a write
// emptied the cache.
func BenchmarkIdentityPoliciesMiss(b *testing.B) {
	f := newFx(b)
	e := f.login("acc", "u")
	f.write("group", map[string]any{"name": "g", "policies": "a,b", "member_entity_ids": e.ID})
	b.ReportAllocs()
	for b.Loop() {
		f.s.mu.Lock()
		f.s.invalidate()
		f.s.mu.Unlock()
		if p, _ := f.s.IdentityPolicies(bg, e.ID); len(p) != 2 {
			b.Fatal(p)
		}
	}
}

// BenchmarkValidateTOTP is one successful validation: storage read, three
// HMACs (skew 1), storage write of the last used step.
func BenchmarkValidateTOTP(b *testing.B) {
	f := newFx(b)
	e := f.login("acc", "u")
	mid, key := f.enrol(e.ID, nil)
	b.ReportAllocs()
	for b.Loop() {
		f.clock.Advance(30 * time.Second) // a fresh code each time: the last one cannot be reused
		if err := f.s.ValidateTOTP(bg, mid, e.ID, code(b, key, f.clock.Now(), 30, 6, "SHA1")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginEntityExisting is the identity part of a repeat login.
func BenchmarkLoginEntityExisting(b *testing.B) {
	f := newFx(b)
	f.login("acc", "u")
	alias := &logical.Alias{Name: "u"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.s.LoginEntity(bg, "acc", "userpass", alias); err != nil {
				b.Fatal(err)
			}
		}
	})
}
