package identity

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Auth mounts the external group tests know.
const (
	jwtAcc  = "auth_jwt_1"
	oidcAcc = "auth_oidc_2"
)

func testMounts(acc string) (Mount, bool) {
	switch acc {
	case jwtAcc:
		return Mount{Type: "jwt", Path: "jwt/"}, true
	case oidcAcc:
		return Mount{Type: "oidc", Path: "oidc/"}, true
	case "acc":
		return Mount{Type: "userpass", Path: "userpass/"}, true
	}
	return Mount{}, false
}

func newExtFx(t testing.TB) *fx { return newFxOpts(t, Options{Mounts: testMounts}) }

// external creates an external group with policies and an alias on acc
// named alias; it returns the group and alias IDs.
func (f *fx) external(name, policies, acc, alias string) (string, string) {
	f.t.Helper()
	gid := f.id("group", map[string]any{"name": name, "type": "external", "policies": policies})
	r := f.write("group-alias", map[string]any{"name": alias, "mount_accessor": acc, "canonical_id": gid})
	if r.Data["canonical_id"] != gid {
		f.t.Fatalf("alias on %s: %v", name, r.Data)
	}
	return gid, r.Data["id"].(string)
}

func (f *fx) sync(entityID, acc string, names ...string) {
	f.t.Helper()
	if err := f.s.SyncExternalGroups(bg, entityID, acc, names); err != nil {
		f.t.Fatalf("sync %s %v: %v", acc, names, err)
	}
}

func TestGroupAliasCRUD(t *testing.T) {
	f := newExtFx(t)
	gid, aid := f.external("devs", "dev", jwtAcc, "Devs")
	want := map[string]any{"id": aid, "canonical_id": gid, "name": "Devs", "mount_accessor": jwtAcc,
		"mount_type": "jwt", "mount_path": "jwt/"}
	for _, path := range []string{"group-alias/id/" + aid} {
		got := f.read(path)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", path, k, got[k], v)
			}
		}
	}
	g := f.read("group/id/" + gid)
	if alias := g["alias"].(map[string]any); g["type"] != "external" || alias["id"] != aid || alias["mount_path"] != "jwt/" ||
		alias["name"] != "Devs" || alias["mount_type"] != "jwt" {
		t.Fatalf("group read: %+v", g)
	}
	r, _ := f.do(logical.ListOperation, "group-alias/id", nil)
	if keys := r.Data["keys"].([]string); !reflect.DeepEqual(keys, []string{aid}) ||
		r.Data["key_info"].(map[string]any)[aid].(map[string]any)["canonical_id"] != gid {
		t.Fatalf("list: %+v", r.Data)
	}
	for _, q := range []map[string]any{{"alias_id": aid}, {"alias_name": "devs", "alias_mount_accessor": jwtAcc}} {
		if got := f.write("lookup/group", q); got == nil || got.Data["id"] != gid {
			t.Errorf("lookup %v: %v", q, got)
		}
	}
	if got := f.write("lookup/group", map[string]any{"alias_name": "devs", "alias_mount_accessor": oidcAcc}); got != nil {
		t.Errorf("lookup on another mount found %v", got.Data)
	}
	// update by id: rename and re-mount; resending the same is a no-op
	f.write("group-alias/id/"+aid, map[string]any{"name": "developers", "mount_accessor": oidcAcc})
	if a := f.read("group-alias/id/" + aid); a["name"] != "developers" || a["mount_type"] != "oidc" || a["canonical_id"] != gid {
		t.Fatalf("after update: %+v", a)
	}
	if r := f.write("group-alias", map[string]any{"id": aid, "name": "developers"}); r != nil {
		t.Errorf("no-op update answered %v", r.Data)
	}
	// an alias without canonical_id gets a new external group
	r = f.write("group-alias", map[string]any{"name": "ops", "mount_accessor": jwtAcc})
	ng := f.read("group/id/" + r.Data["canonical_id"].(string))
	if ng["type"] != "external" || ng["alias"].(map[string]any)["id"] != r.Data["id"] {
		t.Fatalf("new group: %+v", ng)
	}
	// deleting the alias keeps the group; deleting a group drops its alias
	f.do(logical.DeleteOperation, "group-alias/id/"+aid, nil)
	if f.read("group-alias/id/"+aid) != nil || len(f.read("group/id/" + gid)["alias"].(map[string]any)) != 0 {
		t.Fatal("alias not deleted")
	}
	f.do(logical.DeleteOperation, "group/id/"+ng["id"].(string), nil)
	if got := f.list("group-alias/id"); len(got) != 0 {
		t.Fatalf("aliases left: %v", got)
	}
	checkInvariants(t, f.s)
}

func TestGroupAliasErrors(t *testing.T) {
	f := newExtFx(t)
	internal := f.id("group", map[string]any{"name": "int"})
	ext, aid := f.external("ext", "", jwtAcc, "devs")
	bare := f.id("group", map[string]any{"name": "bare", "type": "external"})
	e := f.login("acc", "ann")
	cases := []struct {
		name, path string
		data       map[string]any
		kind       error
	}{
		{"internal group", "group-alias", map[string]any{"name": "x", "mount_accessor": jwtAcc, "canonical_id": internal}, logical.ErrInvalidRequest},
		{"duplicate", "group-alias", map[string]any{"name": "DEVS", "mount_accessor": jwtAcc, "canonical_id": bare}, logical.ErrInvalidRequest},
		{"unknown accessor", "group-alias", map[string]any{"name": "x", "mount_accessor": "auth_nope", "canonical_id": bare}, logical.ErrInvalidRequest},
		{"missing name", "group-alias", map[string]any{"mount_accessor": jwtAcc}, logical.ErrInvalidRequest},
		{"missing accessor", "group-alias", map[string]any{"name": "x"}, logical.ErrInvalidRequest},
		{"unknown group", "group-alias", map[string]any{"name": "x", "mount_accessor": jwtAcc, "canonical_id": "nope"}, logical.ErrInvalidRequest},
		{"second alias", "group-alias", map[string]any{"name": "y", "mount_accessor": oidcAcc, "canonical_id": ext}, logical.ErrInvalidRequest},
		{"unknown alias ID", "group-alias/id/nope", map[string]any{"name": "x"}, logical.ErrInvalidRequest},
		{"bad name", "group-alias", map[string]any{"name": "a\x00b", "mount_accessor": jwtAcc}, logical.ErrInvalidRequest},
		{"move to internal", "group-alias/id/" + aid, map[string]any{"canonical_id": internal}, logical.ErrInvalidRequest},
		{"re-mount unknown", "group-alias/id/" + aid, map[string]any{"mount_accessor": "auth_nope"}, logical.ErrInvalidRequest},
		{"external members", "group/id/" + ext, map[string]any{"member_entity_ids": e.ID}, logical.ErrInvalidRequest},
		{"external member groups", "group/id/" + ext, map[string]any{"member_group_ids": internal}, logical.ErrInvalidRequest},
		{"new external with members", "group", map[string]any{"name": "n", "type": "external", "member_entity_ids": e.ID}, logical.ErrInvalidRequest},
		{"type change", "group/id/" + ext, map[string]any{"type": "internal"}, logical.ErrInvalidRequest},
		{"bad type", "group", map[string]any{"name": "n", "type": "ldap"}, logical.ErrInvalidRequest},
		{"empty member lists ignored", "group/id/" + ext, map[string]any{"member_entity_ids": "", "member_group_ids": []any{}}, nil},
		{"same type accepted", "group/id/" + ext, map[string]any{"type": "EXTERNAL", "policies": "p"}, nil},
	}
	for _, tc := range cases {
		_, err := f.do(logical.UpdateOperation, tc.path, tc.data)
		wantKind(t, tc.name, err, tc.kind)
	}
	if a := f.read("group-alias/id/" + aid); a["name"] != "devs" || a["canonical_id"] != ext || a["mount_accessor"] != jwtAcc {
		t.Fatalf("refused writes changed the alias: %+v", a)
	}
	if _, err := f.do(logical.UpdateOperation, "lookup/group", map[string]any{"alias_name": "devs"}); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Errorf("lookup without accessor: %v", err)
	}
	checkInvariants(t, f.s)
}

// TestSyncExternalGroups walks one entity through logins on two mounts; an
// internal group listing the external group "devs" gives its policy too.
func TestSyncExternalGroups(t *testing.T) {
	f := newExtFx(t)
	devs, _ := f.external("devs", "dev", jwtAcc, "devs")
	f.external("ops", "ops", jwtAcc, "ops")
	f.external("odevs", "odev", oidcAcc, "devs")
	f.id("group", map[string]any{"name": "eng", "policies": "eng", "member_group_ids": devs})
	f.id("group", map[string]any{"name": "loose", "type": "external", "policies": "loose"})
	e := f.login("acc", "ann")
	steps := []struct {
		acc   string
		names []string
		want  []string
	}{
		{jwtAcc, []string{"devs"}, []string{"dev", "eng"}},
		{jwtAcc, []string{"DEVS", "ops", "unknown", "loose"}, []string{"dev", "eng", "ops"}},
		{oidcAcc, []string{"devs"}, []string{"dev", "eng", "odev", "ops"}},
		{jwtAcc, []string{"ops"}, []string{"odev", "ops"}},
		{jwtAcc, []string{}, []string{"odev"}},
		{oidcAcc, nil, nil},
		{jwtAcc, []string{"devs", "devs"}, []string{"dev", "eng"}},
	}
	for i, st := range steps {
		f.policies(e.ID) // fill the cache: the sync must reach it
		f.sync(e.ID, st.acc, st.names...)
		if got := f.policies(e.ID); !reflect.DeepEqual(got, st.want) {
			t.Errorf("step %d (%s %v): policies %v, want %v", i, st.acc, st.names, got, st.want)
		}
		checkInvariants(t, f.s)
	}
	g := f.read("group/id/" + devs)
	if !reflect.DeepEqual(g["member_entity_ids"], []string{e.ID}) {
		t.Fatalf("devs members %v", g["member_entity_ids"])
	}
	idx := g["modify_index"]
	f.sync(e.ID, jwtAcc, "devs")
	if got := f.read("group/id/" + devs)["modify_index"]; got != idx {
		t.Errorf("an unchanged sync wrote the group: modify_index %v → %v", idx, got)
	}
	ent := f.read("entity/id/" + e.ID)
	if len(ent["direct_group_ids"].([]string)) != 1 || len(ent["inherited_group_ids"].([]string)) != 1 {
		t.Errorf("entity groups: %v %v", ent["direct_group_ids"], ent["inherited_group_ids"])
	}
	// memberships and aliases survive a restart
	s2, err := NewStore(f.st, Options{Mounts: testMounts})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.IdentityPolicies(bg, e.ID); !reflect.DeepEqual(got, []string{"dev", "eng"}) {
		t.Errorf("after reload: %v", got)
	}
	checkInvariants(t, s2)
}

func TestSyncEntityErrors(t *testing.T) {
	f := newExtFx(t)
	f.external("devs", "dev", jwtAcc, "devs")
	if err := f.s.SyncExternalGroups(bg, "nope", jwtAcc, []string{"devs"}); !errors.Is(err, logical.ErrNotFound) {
		t.Errorf("unknown entity: %v", err)
	}
	a, b := f.login("acc", "a"), f.login(jwtAcc, "b")
	if err := f.s.SyncExternalGroups(bg, a.ID, "", []string{"devs"}); err == nil {
		t.Error("sync without accessor accepted")
	}
	// a merged-away entity's ID leads to the surviving entity
	f.write("entity/merge", map[string]any{"to_entity_id": a.ID, "from_entity_ids": b.ID})
	f.sync(b.ID, jwtAcc, "devs")
	if got := f.policies(a.ID); !reflect.DeepEqual(got, []string{"dev"}) {
		t.Errorf("merged: %v", got)
	}
	checkInvariants(t, f.s)
}

// TestAliasChangesDropMembers checks that members gained under one alias
// do not carry over to another name or group.
func TestAliasChangesDropMembers(t *testing.T) {
	f := newExtFx(t)
	gid, aid := f.external("devs", "dev", jwtAcc, "devs")
	other := f.id("group", map[string]any{"name": "other", "type": "external", "policies": "other"})
	e := f.login("acc", "ann")
	steps := []struct {
		name   string
		change func()
		want   []string
	}{
		{"case-only rename keeps", func() { f.write("group-alias/id/"+aid, map[string]any{"name": "DEVS"}) }, []string{"dev"}},
		{"rename drops", func() { f.write("group-alias/id/"+aid, map[string]any{"name": "admins"}) }, nil},
		{"re-mount drops", func() { f.write("group-alias/id/"+aid, map[string]any{"name": "devs", "mount_accessor": oidcAcc}) }, nil},
		{"move drops", func() { f.write("group-alias/id/"+aid, map[string]any{"canonical_id": other}) }, nil},
		{"delete drops", func() { f.do(logical.DeleteOperation, "group-alias/id/"+aid, nil) }, nil},
	}
	for _, st := range steps {
		a := f.read("group-alias/id/" + aid)
		f.sync(e.ID, a["mount_accessor"].(string), a["name"].(string))
		if len(f.policies(e.ID)) == 0 {
			t.Fatalf("%s: sync gave nothing", st.name)
		}
		st.change()
		if got := f.policies(e.ID); !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: %v, want %v", st.name, got, st.want)
		}
		checkInvariants(t, f.s)
		if st.name == "move drops" { // put it back for the next step
			f.write("group-alias/id/"+aid, map[string]any{"canonical_id": gid, "mount_accessor": jwtAcc})
		}
	}
}

// TestSyncConcurrent runs logins of many entities at once; each ends up a
// member of the group its last sync named.
func TestSyncConcurrent(t *testing.T) {
	f := newExtFx(t)
	a, _ := f.external("a", "pa", jwtAcc, "a")
	b, _ := f.external("b", "pb", jwtAcc, "b")
	var ents []*Entity
	for i := range 16 {
		ents = append(ents, f.login("acc", fmt.Sprintf("u%d", i)))
	}
	var wg sync.WaitGroup
	for i, e := range ents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				name := []string{"a", "b"}[(i+j)%2]
				if err := f.s.SyncExternalGroups(bg, e.ID, jwtAcc, []string{name}); err != nil {
					t.Error(err)
				}
				f.s.IdentityPolicies(bg, e.ID)
			}
		}()
	}
	wg.Wait()
	checkInvariants(t, f.s)
	for i, e := range ents {
		want := []string{"pb", "pa"}[i%2] // j = 19 is the last sync
		if got := f.policies(e.ID); !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("entity %d: %v, want %s", i, got, want)
		}
	}
	na := len(f.read("group/id/" + a)["member_entity_ids"].([]string))
	nb := len(f.read("group/id/" + b)["member_entity_ids"].([]string))
	if na != 8 || nb != 8 {
		t.Errorf("members a=%d b=%d", na, nb)
	}
}
