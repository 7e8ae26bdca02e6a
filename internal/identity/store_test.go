package identity

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

type fx struct {
	t  testing.TB
	s  *Store
	b  logical.Backend
	st *inmem.Backend
}

func newFx(t testing.TB) *fx {
	st := inmem.New()
	s, err := NewStore(st, Options{Now: func() time.Time { return time.Unix(1_700_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return &fx{t: t, s: s, b: s.Backend(), st: st}
}

func (f *fx) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return f.b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data, Storage: f.st})
}

func (f *fx) mustID(path string, data map[string]any) string {
	f.t.Helper()
	r, err := f.do(logical.UpdateOperation, path, data)
	if err != nil || r == nil {
		f.t.Fatalf("%s: %+v %v", path, r, err)
	}
	return r.Data["id"].(string)
}

func TestLoginEntityAndPolicies(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	e1, err := f.s.LoginEntity(ctx, "userpass_1", "userpass", &logical.Alias{Name: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := f.s.LoginEntity(ctx, "userpass_1", "userpass", &logical.Alias{Name: "bob"})
	e3, _ := f.s.LoginEntity(ctx, "approle_2", "approle", &logical.Alias{Name: "bob"})
	if e1.ID != e2.ID || e1.ID == e3.ID {
		t.Fatalf("alias mapping: %s %s %s", e1.ID, e2.ID, e3.ID)
	}
	if _, err := f.do(logical.UpdateOperation, "entity/id/"+e1.ID, map[string]any{"policies": "Own"}); err != nil {
		t.Fatal(err)
	}
	inner := f.mustID("group", map[string]any{"name": "devs", "policies": "dev", "member_entity_ids": e1.ID})
	f.mustID("group", map[string]any{"name": "eng", "policies": "eng,dev", "member_group_ids": inner})
	p, _ := f.s.IdentityPolicies(ctx, e1.ID)
	if !reflect.DeepEqual(p, []string{"dev", "eng", "own"}) {
		t.Fatalf("policies %v", p)
	}
	if p, _ := f.s.IdentityPolicies(ctx, e3.ID); len(p) != 0 {
		t.Fatalf("unrelated entity policies %v", p)
	}
	// cache cleared by writes
	f.do(logical.UpdateOperation, "group/name/devs", map[string]any{"policies": "dev2"})
	if p, _ := f.s.IdentityPolicies(ctx, e1.ID); !reflect.DeepEqual(p, []string{"dev", "dev2", "eng", "own"}) {
		t.Fatalf("after group update %v", p)
	}
	r, _ := f.do(logical.ReadOperation, "entity/id/"+e1.ID, nil)
	if !reflect.DeepEqual(r.Data["direct_group_ids"], []string{inner}) || len(r.Data["aliases"].([]map[string]any)) != 1 {
		t.Fatalf("entity read: %+v", r.Data)
	}
	// cycle rejected
	outer, _ := f.do(logical.ReadOperation, "group/name/eng", nil)
	if _, err := f.do(logical.UpdateOperation, "group/id/"+inner, map[string]any{"member_group_ids": outer.Data["id"]}); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("cycle accepted: %v", err)
	}
	// disabled entity: no login, no policies
	f.do(logical.UpdateOperation, "entity/id/"+e1.ID, map[string]any{"disabled": true})
	if _, err := f.s.LoginEntity(ctx, "userpass_1", "userpass", &logical.Alias{Name: "bob"}); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("disabled entity logged in: %v", err)
	}
	if p, _ := f.s.IdentityPolicies(ctx, e1.ID); len(p) != 0 {
		t.Fatalf("disabled entity keeps policies %v", p)
	}
	// reload from storage gives the same answers
	s2, err := NewStore(f.st, Options{})
	if err != nil || len(s2.entities) != 2 || len(s2.groups) != 2 || len(s2.aliases) != 2 {
		t.Fatalf("reload: %v %d %d %d", err, len(s2.entities), len(s2.groups), len(s2.aliases))
	}
	// delete removes aliases and memberships
	f.do(logical.DeleteOperation, "entity/id/"+e1.ID, nil)
	g, _ := f.do(logical.ReadOperation, "group/name/devs", nil)
	if len(g.Data["member_entity_ids"].([]string)) != 0 || len(f.s.aliases) != 1 {
		t.Fatalf("delete left references: %+v %d", g.Data, len(f.s.aliases))
	}
}

func TestBadWrites(t *testing.T) {
	f := newFx(t)
	e := f.mustID("entity", map[string]any{"name": "alice"})
	cases := []struct {
		path string
		data map[string]any
	}{
		{"entity/id/nope", map[string]any{"policies": "a"}},
		{"entity", map[string]any{"id": "nope"}},
		{"group", map[string]any{"name": "g", "type": "external"}},
		{"group", map[string]any{"name": "g", "member_entity_ids": "missing"}},
		{"group", map[string]any{"name": "g", "member_group_ids": "missing"}},
		{"entity-alias", map[string]any{"name": "x"}},
		{"entity-alias", map[string]any{"name": "x", "canonical_id": "missing", "mount_accessor": "m"}},
	}
	for _, tc := range cases {
		if _, err := f.do(logical.UpdateOperation, tc.path, tc.data); !errors.Is(err, logical.ErrInvalidRequest) {
			t.Errorf("%s %v: %v", tc.path, tc.data, err)
		}
	}
	f.mustID("entity-alias", map[string]any{"name": "a", "canonical_id": e, "mount_accessor": "m"})
	if _, err := f.do(logical.UpdateOperation, "entity-alias", map[string]any{"name": "a", "canonical_id": e, "mount_accessor": "m"}); err == nil {
		t.Fatal("duplicate alias accepted")
	}
	r, err := f.do(logical.UpdateOperation, "lookup/entity", map[string]any{"alias_name": "a", "alias_mount_accessor": "m"})
	if err != nil || r.Data["name"] != "alice" {
		t.Fatalf("lookup: %+v %v", r, err)
	}
}

func FuzzEntityWrite(f *testing.F) {
	f.Add("alice", "p1,p2", "k=v", true)
	f.Add("", "", "", false)
	fxt := newFx(f)
	f.Fuzz(func(t *testing.T, name, policies, meta string, disabled bool) {
		_, err := fxt.do(logical.UpdateOperation, "entity", map[string]any{"name": name, "policies": policies, "metadata": []any{meta}, "disabled": disabled})
		if err != nil {
			if _, ok := logical.UserMessage(err); !ok {
				t.Fatalf("internal error: %v", err)
			}
		}
	})
}

func BenchmarkIdentityPoliciesCached(b *testing.B) {
	f := newFx(b)
	e, _ := f.s.LoginEntity(context.Background(), "m", "userpass", &logical.Alias{Name: "bob"})
	f.mustID("group", map[string]any{"name": "g", "policies": "a,b", "member_entity_ids": e.ID})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if p, _ := f.s.IdentityPolicies(context.Background(), e.ID); len(p) != 2 {
				b.Fatal(p)
			}
		}
	})
}
