package identity

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestEntityCRUD(t *testing.T) {
	f := newFx(t)
	r := f.write("entity", map[string]any{"name": "alice", "policies": "Dev, ops,dev", "metadata": map[string]any{"team": "a"}})
	id := r.Data["id"].(string)
	if r.Data["name"] != "alice" || len(id) != 36 {
		t.Fatalf("create: %+v", r.Data)
	}
	e := f.read("entity/id/" + id)
	if !reflect.DeepEqual(e["policies"], []string{"dev", "ops"}) || e["metadata"].(map[string]string)["team"] != "a" ||
		e["disabled"] != false || e["creation_time"] == "" || e["namespace_id"] != "root" {
		t.Fatalf("read: %+v", e)
	}
	if _, ok := e["mfa_secrets"]; ok {
		t.Fatal("entity read shows mfa_secrets")
	}
	// POST entity with an existing name updates it (Vault), returning no body
	if r := f.write("entity", map[string]any{"name": "ALICE", "policies": "x"}); r != nil {
		t.Fatalf("update by name returned %+v", r)
	}
	if got := f.read("entity/name/alice")["policies"]; !reflect.DeepEqual(got, []string{"x"}) {
		t.Fatalf("update by name: %v", got)
	}
	// rename by ID, then the old name is free
	f.write("entity/id/"+id, map[string]any{"name": "alice2"})
	if f.read("entity/name/alice") != nil || f.read("entity/name/alice2")["id"] != id {
		t.Fatal("rename not visible")
	}
	// entity/name/:name creates
	bob := f.write("entity/name/bob", map[string]any{"policies": "b"}).Data["id"].(string)
	if got := f.list("entity/name"); !reflect.DeepEqual(got, []string{"alice2", "bob"}) {
		t.Fatalf("list names %v", got)
	}
	ids := f.list("entity/id")
	want := []string{id, bob}
	slices.Sort(want)
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("list ids %v want %v", ids, want)
	}
	if _, err := f.do(logical.DeleteOperation, "entity/name/bob", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.do(logical.DeleteOperation, "entity/id/"+id, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.list("entity/id"); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
}

func TestEntityWriteErrors(t *testing.T) {
	f := newFx(t)
	f.write("entity", map[string]any{"name": "taken"})
	other := f.id("entity", map[string]any{"name": "other"})
	cases := []struct {
		path string
		data map[string]any
	}{
		{"entity/id/nope", map[string]any{"policies": "a"}},
		{"entity", map[string]any{"id": "nope"}},
		{"entity", map[string]any{"name": "x", "policies": "a,root"}},
		{"entity", map[string]any{"name": "a/b"}},
		{"entity", map[string]any{"name": "a\nb"}},
		{"entity", map[string]any{"name": "x", "disabled": "maybe"}},
		{"entity", map[string]any{"name": "x", "metadata": 7}},
		{"entity/id/" + other, map[string]any{"name": "Taken"}},
	}
	for _, tc := range cases {
		_, err := f.do(logical.UpdateOperation, tc.path, tc.data)
		wantKind(t, tc.path+" "+mapString(tc.data), err, logical.ErrInvalidRequest)
	}
	if got := f.list("entity/name"); !reflect.DeepEqual(got, []string{"other", "taken"}) {
		t.Fatalf("failed writes changed entities: %v", got)
	}
}

func mapString(m map[string]any) string {
	out := ""
	for k, v := range m {
		out += k + "=" + fmtAny(v) + " "
	}
	return out
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return reflect.ValueOf(v).Kind().String()
}

func TestLoginEntity(t *testing.T) {
	f := newFx(t)
	e1 := f.login("userpass_1", "bob")
	e2 := f.login("userpass_1", "Bob") // alias names are case-insensitive
	e3 := f.login("approle_2", "bob")
	if e1.ID != e2.ID || e1.ID == e3.ID {
		t.Fatalf("alias mapping: %s %s %s", e1.ID, e2.ID, e3.ID)
	}
	if e1.Name != "entity_"+e1.ID[:8] {
		t.Fatalf("entity name %q", e1.Name)
	}
	if _, err := f.s.LoginEntity(bg, "userpass_1", "userpass", &logical.Alias{}); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("empty alias: %v", err)
	}
	// login metadata is stored on the alias, and updated when it changes
	meta := map[string]string{"role": "r1"}
	if _, err := f.s.LoginEntity(bg, "userpass_1", "userpass", &logical.Alias{Name: "bob", Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	aliases := f.read("entity/id/" + e1.ID)["aliases"].([]any)
	if len(aliases) != 1 || aliases[0].(map[string]any)["metadata"].(map[string]string)["role"] != "r1" ||
		aliases[0].(map[string]any)["mount_type"] != "userpass" {
		t.Fatalf("aliases %+v", aliases)
	}
	// returned entities are copies
	e1.Policies = append(e1.Policies, "hacked")
	if got, _ := f.s.Entity(bg, e1.ID); slices.Contains(got.Policies, "hacked") {
		t.Fatal("LoginEntity returned the stored entity")
	}
	// disabled: login refused with ErrEntityDisabled, policies refused too
	f.write("entity/id/"+e1.ID, map[string]any{"disabled": true})
	_, err := f.s.LoginEntity(bg, "userpass_1", "userpass", &logical.Alias{Name: "bob"})
	if !errors.Is(err, ErrEntityDisabled) || !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("disabled entity login: %v", err)
	}
	if _, err := f.s.IdentityPolicies(bg, e1.ID); !errors.Is(err, ErrEntityDisabled) {
		t.Fatalf("disabled entity policies: %v", err)
	}
	if got := len(f.list("entity/id")); got != 2 {
		t.Fatalf("%d entities, want 2", got)
	}
}

func TestAliasCRUD(t *testing.T) {
	mounts := map[string]Mount{"auth_userpass_1": {Type: "userpass", Path: "userpass/"}, "auth_approle_2": {Type: "approle", Path: "approle/"}}
	f := newFxOpts(t, Options{Mounts: func(a string) (Mount, bool) { m, ok := mounts[a]; return m, ok }})
	alice := f.id("entity", map[string]any{"name": "alice"})
	r := f.write("entity-alias", map[string]any{"name": "al", "canonical_id": alice, "mount_accessor": "auth_userpass_1",
		"custom_metadata": map[string]any{"k": "v"}})
	aid := r.Data["id"].(string)
	if r.Data["canonical_id"] != alice {
		t.Fatalf("create: %+v", r.Data)
	}
	a := f.read("entity-alias/id/" + aid)
	if a["mount_type"] != "userpass" || a["mount_path"] != "userpass/" || a["custom_metadata"].(map[string]string)["k"] != "v" {
		t.Fatalf("read: %+v", a)
	}
	// a login through that mount with that name lands on alice
	if e := f.login("auth_userpass_1", "AL"); e.ID != alice {
		t.Fatalf("login entity %s, want %s", e.ID, alice)
	}
	// an alias without canonical_id gets a new entity
	r = f.write("entity-alias", map[string]any{"name": "solo", "mount_accessor": "auth_approle_2"})
	solo := r.Data["canonical_id"].(string)
	if solo == alice || f.read("entity/id/"+solo) == nil {
		t.Fatalf("no new entity: %+v", r.Data)
	}
	// move the alias to alice: allowed (alice has nothing on approle)
	f.write("entity-alias/id/"+r.Data["id"].(string), map[string]any{"canonical_id": alice})
	if got := len(f.read("entity/id/" + alice)["aliases"].([]any)); got != 2 {
		t.Fatalf("alice has %d aliases, want 2", got)
	}
	errs := []map[string]any{
		{"name": "x"}, // no accessor
		{"name": "x", "mount_accessor": "auth_nope"},
		{"name": "x", "mount_accessor": "auth_userpass_1", "canonical_id": "missing"},
		{"name": "other", "mount_accessor": "auth_userpass_1", "canonical_id": alice}, // one alias per mount
		{"id": "missing", "name": "x"},
		{"id": aid, "name": "solo", "mount_accessor": "auth_approle_2"}, // taken on that mount
		{"name": "x", "mount_accessor": "auth_userpass_1", "custom_metadata": map[string]any{"": "v"}},
	}
	for _, d := range errs {
		_, err := f.do(logical.UpdateOperation, "entity-alias", d)
		wantKind(t, "entity-alias "+mapString(d), err, logical.ErrInvalidRequest)
	}
	if got := f.list("entity-alias/id"); len(got) != 2 {
		t.Fatalf("aliases %v", got)
	}
	// deleting the entity deletes its aliases
	f.do(logical.DeleteOperation, "entity/id/"+alice, nil)
	if got := f.list("entity-alias/id"); len(got) != 0 {
		t.Fatalf("aliases left: %v", got)
	}
	if e := f.login("auth_userpass_1", "al"); e.ID == alice {
		t.Fatal("deleted entity's alias still logs in")
	}
}

func TestLookup(t *testing.T) {
	f := newFx(t)
	e := f.login("acc", "carol")
	f.write("entity/id/"+e.ID, map[string]any{"name": "carol"})
	aid := f.read("entity/id/" + e.ID)["aliases"].([]any)[0].(map[string]any)["id"].(string)
	g := f.id("group", map[string]any{"name": "g1", "member_entity_ids": e.ID})
	for _, d := range []map[string]any{{"id": e.ID}, {"name": "CAROL"}, {"alias_id": aid}, {"alias_name": "carol", "alias_mount_accessor": "acc"}} {
		r, err := f.do(logical.UpdateOperation, "lookup/entity", d)
		if err != nil || r == nil || r.Data["id"] != e.ID || !reflect.DeepEqual(r.Data["group_ids"], []string{g}) {
			t.Errorf("lookup %v: %+v %v", d, r, err)
		}
	}
	if r, err := f.do(logical.UpdateOperation, "lookup/entity", map[string]any{"name": "nobody"}); r != nil || err != nil {
		t.Errorf("missing entity: %+v %v", r, err)
	}
	for _, d := range []map[string]any{{}, {"id": "a", "name": "b"}, {"alias_name": "carol"}} {
		_, err := f.do(logical.UpdateOperation, "lookup/entity", d)
		wantKind(t, "lookup "+mapString(d), err, logical.ErrInvalidRequest)
	}
	if r, err := f.do(logical.UpdateOperation, "lookup/group", map[string]any{"name": "G1"}); err != nil || r.Data["id"] != g {
		t.Errorf("lookup group: %+v %v", r, err)
	}
	// an entity alias ID is not a group alias ID
	if r, err := f.do(logical.UpdateOperation, "lookup/group", map[string]any{"alias_id": aid}); r != nil || err != nil {
		t.Errorf("lookup group by unknown alias: %+v %v", r, err)
	}
}

func TestMerge(t *testing.T) {
	f := newFx(t)
	to := f.login("acc_a", "dave")
	from := f.login("acc_b", "dave")
	clash := f.login("acc_a", "dave2") // alias on acc_a, like to
	g := f.id("group", map[string]any{"name": "g", "policies": "gp", "member_entity_ids": from.ID + "," + clash.ID})
	mid, _ := f.enrol(from.ID, nil)
	f.write("entity/merge", map[string]any{"to_entity_id": to.ID, "from_entity_ids": from.ID})
	if f.read("entity/id/"+from.ID) != nil || f.login("acc_b", "dave").ID != to.ID {
		t.Fatal("from entity survives or its alias did not move")
	}
	if got := f.policies(from.ID); !reflect.DeepEqual(got, []string{"gp"}) {
		t.Fatalf("merged-away ID does not resolve to the survivor: %v", got)
	}
	if got := f.read("group/id/" + g)["member_entity_ids"]; !slices.Contains(got.([]string), to.ID) {
		t.Fatalf("membership not moved: %v", got)
	}
	if ok, _ := f.st.Get(bg, secretPrefix+mid+"/"+to.ID); ok == nil {
		t.Fatal("MFA secret not moved")
	}
	// alias clash on acc_a: refused until told which alias to keep
	_, err := f.do(logical.UpdateOperation, "entity/merge", map[string]any{"to_entity_id": to.ID, "from_entity_ids": clash.ID})
	wantKind(t, "merge with clash", err, logical.ErrInvalidRequest)
	keep := f.read("entity/id/" + clash.ID)["aliases"].([]any)[0].(map[string]any)["id"].(string)
	f.write("entity/merge", map[string]any{"to_entity_id": to.ID, "from_entity_ids": clash.ID, "conflicting_alias_ids_to_keep": keep})
	if f.login("acc_a", "dave2").ID != to.ID {
		t.Fatal("kept alias not moved")
	}
	if e := f.login("acc_a", "dave"); e.ID == to.ID {
		t.Fatal("dropped alias still maps to the survivor")
	}
	for _, d := range []map[string]any{{"from_entity_ids": to.ID}, {"to_entity_id": to.ID}, {"to_entity_id": to.ID, "from_entity_ids": to.ID},
		{"to_entity_id": "nope", "from_entity_ids": "x"}, {"to_entity_id": to.ID, "from_entity_ids": "missing"}} {
		_, err := f.do(logical.UpdateOperation, "entity/merge", d)
		wantKind(t, "merge "+mapString(d), err, logical.ErrInvalidRequest)
	}
}

func TestReload(t *testing.T) {
	f := newFx(t)
	e := f.login("acc", "erin")
	inner := f.id("group", map[string]any{"name": "inner", "policies": "p1", "member_entity_ids": e.ID})
	f.write("group", map[string]any{"name": "outer", "policies": "p2", "member_group_ids": inner})
	mid, _ := f.enrol(e.ID, nil)
	f.write("mfa/login-enforcement/all", map[string]any{"mfa_method_ids": mid, "auth_method_types": "userpass"})
	s2, err := NewStore(f.st, Options{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := s2.IdentityPolicies(bg, e.ID); !reflect.DeepEqual(p, []string{"p1", "p2"}) {
		t.Fatalf("reloaded policies %v", p)
	}
	if e2, _ := s2.LoginEntity(bg, "acc", "userpass", &logical.Alias{Name: "erin"}); e2.ID != e.ID {
		t.Fatal("reloaded alias maps elsewhere")
	}
	if req, _ := s2.LoginMFARequirement(bg, "acc", "userpass", e); req == nil || req.Methods[0].ID != mid {
		t.Fatalf("reloaded enforcement: %+v", req)
	}
}
