package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

const readSecret = `path "secret/*" { capabilities = ["read"] }`

func TestStoreBuiltins(t *testing.T) {
	ctx := context.Background()
	s := NewStore(inmem.New())
	root, err := s.Get(ctx, "ROOT")
	if err != nil || !root.IsRoot() {
		t.Fatalf("Get(root) = %v, %v", root, err)
	}
	def, err := s.Get(ctx, "default")
	if err != nil || def == nil || def.Raw != DefaultPolicy {
		t.Fatalf("Get(default) = %v, %v", def, err)
	}
	for _, name := range []string{"nope", "a/b", ""} {
		if p, err := s.Get(ctx, name); p != nil || err != nil {
			t.Errorf("Get(%q) = %v, %v; want nil, nil", name, p, err)
		}
	}
	for _, tc := range []struct {
		name string
		fn   func() error
	}{
		{"set root", func() error { return s.Set(ctx, "root", readSecret) }},
		{"delete root", func() error { return s.Delete(ctx, "Root") }},
		{"delete default", func() error { return s.Delete(ctx, "default") }},
		{"set bad name", func() error { return s.Set(ctx, "a/b", readSecret) }},
	} {
		if err := tc.fn(); !errors.Is(err, logical.ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", tc.name, err)
		}
	}
}

func TestStoreSetGetDeleteList(t *testing.T) {
	ctx := context.Background()
	view := inmem.New()
	s := NewStore(view)
	if err := s.Set(ctx, "Dev", readSecret); err != nil {
		t.Fatal(err)
	}
	e, err := view.Get(ctx, "acl/dev")
	if err != nil || e == nil {
		t.Fatalf("stored entry = %v, %v", e, err)
	}
	var sp struct{ Name, Raw string }
	if err := json.Unmarshal(e.Value, &sp); err != nil || sp.Name != "dev" || sp.Raw != readSecret {
		t.Errorf("stored %s (%v)", e.Value, err)
	}
	// A fresh store reads what the first one wrote.
	p, err := NewStore(view).Get(ctx, "dev")
	if err != nil || p == nil || p.Name != "dev" || len(p.Paths) != 1 {
		t.Fatalf("Get(dev) = %+v, %v", p, err)
	}
	err = s.Set(ctx, "broken", `path "x" { capabilities = ["reed"] }`)
	if !errors.Is(err, logical.ErrInvalidRequest) {
		t.Errorf("Set(broken) err = %v", err)
	}
	if e, _ := view.Get(ctx, "acl/broken"); e != nil {
		t.Error("a policy that failed to parse was written")
	}
	if err := s.Set(ctx, "default", `path "x" { capabilities = ["read"] }`); err != nil {
		t.Fatalf("overwrite default: %v", err)
	}
	if p, _ := s.Get(ctx, "default"); p == nil || p.Paths[0].Path != "x" {
		t.Errorf("default after overwrite = %+v", p)
	}
	list, err := s.List(ctx)
	if want := []string{"default", "dev", "root"}; err != nil || !reflect.DeepEqual(list, want) {
		t.Errorf("List = %v, %v; want %v", list, err, want)
	}
	if err := s.Delete(ctx, "dev"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "never-existed"); err != nil {
		t.Errorf("Delete of absent policy: %v", err)
	}
	if p, err := s.Get(ctx, "dev"); p != nil || err != nil {
		t.Errorf("Get after delete = %v, %v", p, err)
	}
	list, _ = s.List(ctx)
	if want := []string{"default", "root"}; !reflect.DeepEqual(list, want) {
		t.Errorf("List after delete = %v; want %v", list, want)
	}
}

func TestStoreStoredGarbage(t *testing.T) {
	ctx := context.Background()
	view := inmem.New()
	_ = logical.PutJSON(ctx, view, "acl/bad", storedPolicy{Name: "bad", Raw: `path "x" { capabilities = ["reed"] }`})
	_, err := NewStore(view).Get(ctx, "bad")
	if err == nil || errors.Is(err, logical.ErrInvalidRequest) {
		t.Errorf("Get of unparsable stored policy: err = %v, want an internal error", err)
	}
}

func TestStoreACL(t *testing.T) {
	ctx := context.Background()
	s := NewStore(inmem.New())
	if err := s.Set(ctx, "dev", readSecret); err != nil {
		t.Fatal(err)
	}
	a1, err := s.ACL(ctx, []string{"dev", "default", "unknown"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := a1.Allow(logical.ReadOperation, "secret/x", nil); !ok {
		t.Error("dev policy not applied")
	}
	if ok, _ := a1.Allow(logical.ReadOperation, "auth/token/lookup-self", nil); !ok {
		t.Error("default policy not applied")
	}
	a2, _ := s.ACL(ctx, []string{" Default", "unknown", "DEV", "dev"})
	if a1 != a2 {
		t.Error("same set of names in another order/case was not served from the cache")
	}
	if err := s.Set(ctx, "dev", `path "secret/*" { capabilities = ["deny"] }`); err != nil {
		t.Fatal(err)
	}
	a3, _ := s.ACL(ctx, []string{"default", "dev", "unknown"})
	if a3 == a1 {
		t.Fatal("cache not invalidated by Set")
	}
	if ok, _ := a3.Allow(logical.ReadOperation, "secret/x", nil); ok {
		t.Error("updated policy not applied")
	}
	if err := s.Delete(ctx, "dev"); err != nil {
		t.Fatal(err)
	}
	a4, _ := s.ACL(ctx, []string{"default", "dev"})
	if got := a4.Capabilities("secret/x"); !reflect.DeepEqual(got, []string{"deny"}) {
		t.Errorf("after delete: %v", got)
	}
	r, err := s.ACL(ctx, []string{"default", "root"})
	if err != nil || !r.Root() {
		t.Errorf("names with root: %v root=%v", err, r != nil && r.Root())
	}
	none, err := s.ACL(ctx, nil)
	if err != nil || none.Root() || len(none.Capabilities("x")) != 1 {
		t.Errorf("no names: %v", err)
	}
}

// TestStoreConcurrent races ACL lookups against writes; after the last write
// returns, every lookup must see it.
func TestStoreConcurrent(t *testing.T) {
	ctx := context.Background()
	s := NewStore(inmem.New())
	names := []string{"default", "p"}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.ACL(ctx, names); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 50 {
		if err := s.Set(ctx, "p", fmt.Sprintf(`path "v/%d" { capabilities = ["read"] }`, i)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	a, _ := s.ACL(ctx, names)
	if ok, _ := a.Allow(logical.ReadOperation, "v/49", nil); !ok {
		t.Error("final policy version not visible")
	}
	if ok, _ := a.Allow(logical.ReadOperation, "v/48", nil); ok {
		t.Error("stale policy version served")
	}
}

func TestACLKey(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a\nb"},
		{[]string{"b", "A", "a"}, "a\nb"},
		{[]string{"x/y", "a"}, "a"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := aclKey(tt.in); got != tt.want {
			t.Errorf("aclKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
