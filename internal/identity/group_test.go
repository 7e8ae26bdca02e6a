package identity

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestGroupCRUD(t *testing.T) {
	f := newFx(t)
	e := f.login("acc", "frank")
	r := f.write("group", map[string]any{"name": "devs", "policies": "Dev", "member_entity_ids": []any{e.ID, e.ID},
		"metadata": []any{"k=v"}})
	id := r.Data["id"].(string)
	g := f.read("group/id/" + id)
	if g["type"] != "internal" || !reflect.DeepEqual(g["policies"], []string{"dev"}) ||
		!reflect.DeepEqual(g["member_entity_ids"], []string{e.ID}) || g["metadata"].(map[string]string)["k"] != "v" ||
		g["modify_index"] != 1 {
		t.Fatalf("read: %+v", g)
	}
	f.write("group/name/devs", map[string]any{"policies": "dev2"})
	if g := f.read("group/name/DEVS"); !reflect.DeepEqual(g["policies"], []string{"dev2"}) || g["modify_index"] != 2 {
		t.Fatalf("update by name: %+v", g)
	}
	f.write("group/id/"+id, map[string]any{"name": "developers"})
	if f.read("group/name/devs") != nil || f.read("group/name/developers")["id"] != id {
		t.Fatal("rename")
	}
	other := f.write("group/name/ops", nil).Data["id"].(string)
	if got := f.list("group/name"); !reflect.DeepEqual(got, []string{"developers", "ops"}) {
		t.Fatalf("list names %v", got)
	}
	if got := f.read("entity/id/" + e.ID)["direct_group_ids"]; !reflect.DeepEqual(got, []string{id}) {
		t.Fatalf("entity groups %v", got)
	}
	f.do(logical.DeleteOperation, "group/id/"+id, nil)
	f.do(logical.DeleteOperation, "group/name/ops", nil)
	if got := f.list("group/id"); len(got) != 0 {
		t.Fatalf("left %v (%s)", got, other)
	}
	if got := f.read("entity/id/" + e.ID)["group_ids"]; !reflect.DeepEqual(got, []string{}) {
		t.Fatalf("entity still in groups %v", got)
	}
}

func TestGroupWriteErrors(t *testing.T) {
	f := newFx(t)
	a := f.id("group", map[string]any{"name": "a"})
	b := f.id("group", map[string]any{"name": "b", "member_group_ids": a})
	c := f.id("group", map[string]any{"name": "c", "member_group_ids": b})
	cases := []struct {
		path string
		data map[string]any
	}{
		{"group/id/" + a, map[string]any{"type": "external"}}, // type change
		{"group", map[string]any{"name": "x", "type": "weird"}},
		{"group", map[string]any{"name": "x", "member_entity_ids": "missing"}},
		{"group", map[string]any{"name": "x", "member_group_ids": "missing"}},
		{"group", map[string]any{"name": "x", "policies": "root"}},
		{"group", map[string]any{"id": "missing"}},
		{"group/id/missing", map[string]any{"policies": "p"}},
		{"group/id/" + a, map[string]any{"member_group_ids": a}},           // self
		{"group/id/" + a, map[string]any{"member_group_ids": c}},           // a ⊂ b ⊂ c ⊂ a
		{"group/id/" + b, map[string]any{"member_group_ids": a + "," + c}}, // b ⊂ c ⊂ b
		{"group/id/" + a, map[string]any{"name": "B"}},                     // name taken
	}
	for _, tc := range cases {
		_, err := f.do(logical.UpdateOperation, tc.path, tc.data)
		wantKind(t, tc.path+" "+mapString(tc.data), err, logical.ErrInvalidRequest)
	}
	if got := f.read("group/id/" + a)["member_group_ids"]; !reflect.DeepEqual(got, []string{}) {
		t.Fatalf("refused write changed a: %v", got)
	}
}

// TestNestedPolicies checks Vault's inheritance: a group's policies apply
// to its member entities and to the members of its member groups.
func TestNestedPolicies(t *testing.T) {
	f := newFx(t)
	alice, bob := f.login("acc", "alice"), f.login("acc", "bob")
	f.write("entity/id/"+alice.ID, map[string]any{"policies": "own"})
	team := f.id("group", map[string]any{"name": "team", "policies": "team", "member_entity_ids": alice.ID})
	dept := f.id("group", map[string]any{"name": "dept", "policies": "dept,team", "member_group_ids": team,
		"member_entity_ids": bob.ID})
	org := f.id("group", map[string]any{"name": "org", "policies": "org", "member_group_ids": dept})
	cases := []struct {
		who                       *Entity
		policies, direct, inherit []string
	}{
		{alice, []string{"dept", "org", "own", "team"}, []string{team}, sorted(dept, org)},
		{bob, []string{"dept", "org", "team"}, []string{dept}, []string{org}},
	}
	for _, tc := range cases {
		if got := f.policies(tc.who.ID); !reflect.DeepEqual(got, tc.policies) {
			t.Errorf("%s policies %v, want %v", tc.who.Name, got, tc.policies)
		}
		e := f.read("entity/id/" + tc.who.ID)
		if !reflect.DeepEqual(e["direct_group_ids"], tc.direct) || !reflect.DeepEqual(e["inherited_group_ids"], tc.inherit) {
			t.Errorf("%s groups %v %v", tc.who.Name, e["direct_group_ids"], e["inherited_group_ids"])
		}
		ids, _ := f.s.GroupIDs(bg, tc.who.ID)
		if want := sorted(append(tc.direct, tc.inherit...)...); !reflect.DeepEqual(ids, want) {
			t.Errorf("%s GroupIDs %v, want %v", tc.who.Name, ids, want)
		}
	}
	if got := f.read("group/id/" + team)["parent_group_ids"]; !reflect.DeepEqual(got, []string{dept}) {
		t.Errorf("team parents %v", got)
	}
	// deleting the middle group cuts alice off from org, keeps her team
	f.do(logical.DeleteOperation, "group/id/"+dept, nil)
	if got := f.policies(alice.ID); !reflect.DeepEqual(got, []string{"own", "team"}) {
		t.Errorf("after delete: %v", got)
	}
	if got := f.read("group/id/" + org)["member_group_ids"]; !reflect.DeepEqual(got, []string{}) {
		t.Errorf("org still lists dept: %v", got)
	}
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestPolicyCache checks that every kind of write reaches cached answers.
func TestPolicyCache(t *testing.T) {
	f := newFx(t)
	e := f.login("acc", "gina")
	g := f.id("group", map[string]any{"name": "g", "policies": "a", "member_entity_ids": e.ID})
	steps := []struct {
		name  string
		write func()
		want  []string
	}{
		{"initial", func() {}, []string{"a"}},
		{"group policies", func() { f.write("group/id/"+g, map[string]any{"policies": "b"}) }, []string{"b"}},
		{"entity policies", func() { f.write("entity/id/"+e.ID, map[string]any{"policies": "own"}) }, []string{"b", "own"}},
		{"parent group", func() { f.write("group", map[string]any{"name": "p", "policies": "p", "member_group_ids": g}) }, []string{"b", "own", "p"}},
		{"membership removed", func() { f.write("group/id/"+g, map[string]any{"member_entity_ids": ""}) }, []string{"own"}},
		{"entity deleted", func() { f.do(logical.DeleteOperation, "entity/id/"+e.ID, nil) }, nil},
	}
	for _, st := range steps {
		st.write()
		first := f.policies(e.ID)
		if !reflect.DeepEqual(first, st.want) {
			t.Errorf("%s: %v, want %v", st.name, first, st.want)
		}
		// the cached answer is the same slice, read without storage
		if again := f.policies(e.ID); len(again) > 0 && &again[0] != &first[0] {
			t.Errorf("%s: second call was not served from the cache", st.name)
		}
	}
}

// TestIndexesAfterChanges runs the invariant check after each kind of write.
func TestIndexesAfterChanges(t *testing.T) {
	f := newFx(t)
	a, b := f.login("acc", "a"), f.login("acc", "b")
	g1 := f.id("group", map[string]any{"name": "g1", "member_entity_ids": a.ID + "," + b.ID})
	g2 := f.id("group", map[string]any{"name": "g2", "member_group_ids": g1, "member_entity_ids": a.ID})
	checkInvariants(t, f.s)
	f.write("group/id/"+g1, map[string]any{"member_entity_ids": b.ID})
	checkInvariants(t, f.s)
	f.do(logical.DeleteOperation, "entity/id/"+b.ID, nil)
	checkInvariants(t, f.s)
	c := f.login("acc2", "c")
	f.write("group/id/"+g1, map[string]any{"member_entity_ids": c.ID})
	f.write("entity/merge", map[string]any{"to_entity_id": a.ID, "from_entity_ids": c.ID})
	checkInvariants(t, f.s)
	f.do(logical.DeleteOperation, "group/id/"+g1, nil)
	checkInvariants(t, f.s)
	if got := f.read("group/id/" + g2)["member_group_ids"]; !reflect.DeepEqual(got, []string{}) {
		t.Fatalf("g2 members %v", got)
	}
}

// TestPolicyCacheConcurrent checks that a cache fill racing with a write
// never leaves a stale answer behind: after each write returns, the writer
// must see its own change while readers keep refilling the cache.
func TestPolicyCacheConcurrent(t *testing.T) {
	f := newFx(t)
	e := f.login("acc", "u")
	g := f.id("group", map[string]any{"name": "g", "member_entity_ids": e.ID})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					f.s.IdentityPolicies(bg, e.ID)
					f.s.LoginEntity(bg, "acc", "userpass", &logical.Alias{Name: "u"})
				}
			}
		}()
	}
	for i := range 300 {
		want := fmt.Sprintf("p%d", i)
		if _, err := f.do(logical.UpdateOperation, "group/id/"+g, map[string]any{"policies": want}); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.IdentityPolicies(bg, e.ID); !reflect.DeepEqual(got, []string{want}) {
			t.Fatalf("write %d: read %v after the write returned", i, got)
		}
	}
	close(stop)
	wg.Wait()
}
