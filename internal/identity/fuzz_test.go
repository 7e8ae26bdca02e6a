package identity

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// checkInvariants verifies the store's documented invariants.
func checkInvariants(t *testing.T, s *Store) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, e := range s.entities {
		if s.entityByName(e.Name) != e {
			t.Fatalf("entity %s: name index does not lead back to it", id)
		}
		for _, p := range e.Policies {
			if p == "root" || p != strings.ToLower(strings.TrimSpace(p)) || p == "" {
				t.Fatalf("entity %s: bad policy %q", id, p)
			}
		}
	}
	if len(s.entityNames) != len(s.entities) || len(s.groupNames) != len(s.groups) {
		t.Fatalf("name indexes out of step: %d/%d entities, %d/%d groups",
			len(s.entityNames), len(s.entities), len(s.groupNames), len(s.groups))
	}
	for id, g := range s.groups {
		if s.groupByName(g.Name) != g {
			t.Fatalf("group %s: name index does not lead back to it", id)
		}
		for _, c := range g.MemberGroupIDs {
			if s.groups[c] == nil || s.reaches(c, id) {
				t.Fatalf("group %s: member group %s missing or cyclic", id, c)
			}
		}
		for _, e := range g.MemberEntityIDs {
			if s.entities[e] == nil {
				t.Fatalf("group %s: member entity %s missing", id, e)
			}
		}
		if slices.Contains(g.Policies, "root") {
			t.Fatalf("group %s has root", id)
		}
		checkGroupAlias(t, s, g)
	}
	if len(s.galiasIDs) != len(s.galiasKeys) {
		t.Fatalf("group alias indexes out of step: %d IDs, %d keys", len(s.galiasIDs), len(s.galiasKeys))
	}
	direct, parents := map[string][]string{}, map[string][]string{}
	for id, g := range s.groups {
		for _, e := range g.MemberEntityIDs {
			direct[e] = append(direct[e], id)
		}
		for _, c := range g.MemberGroupIDs {
			parents[c] = append(parents[c], id)
		}
	}
	for _, m := range []map[string][]string{direct, parents} {
		for _, l := range m {
			slices.Sort(l)
		}
	}
	if !reflect.DeepEqual(direct, s.directGroups) || !reflect.DeepEqual(parents, s.parentGroups) {
		t.Fatalf("membership indexes out of step with the groups")
	}
}

// checkGroupAlias verifies a group's type rules and its alias indexes
// (caller holds mu).
func checkGroupAlias(t *testing.T, s *Store, g *Group) {
	t.Helper()
	switch {
	case g.Type != groupTypeInternal && g.Type != groupTypeExternal:
		t.Fatalf("group %s has type %q", g.ID, g.Type)
	case g.Type == groupTypeInternal && g.Alias != nil:
		t.Fatalf("internal group %s has an alias", g.ID)
	case g.Type == groupTypeExternal && len(g.MemberGroupIDs) > 0:
		t.Fatalf("external group %s has member groups", g.ID)
	case g.Type == groupTypeExternal && g.Alias == nil && len(g.MemberEntityIDs) > 0:
		t.Fatalf("external group %s has members but no alias", g.ID)
	case g.Alias == nil:
	case g.Alias.CanonicalID != g.ID || s.galiasIDs[g.Alias.ID] != g.ID ||
		s.groupByAlias(g.Alias.MountAccessor, g.Alias.Name) != g:
		t.Fatalf("group %s: alias %+v not indexed", g.ID, g.Alias)
	}
}

// wantUserError fails on an error that is not a user-facing one.
func wantUserError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if _, ok := logical.UserMessage(err); !ok {
		t.Fatalf("internal error: %v", err)
	}
}

func FuzzEntityWrite(f *testing.F) {
	f.Add("alice", "p1,P2, p1", "k=v", "true", false)
	f.Add("", "", "", "", true)
	f.Add("a/b", "root", "novalue", "maybe", false)
	f.Add("ALICE", "x", "=", "0", true)
	fx := newFx(f)
	f.Fuzz(func(t *testing.T, name, policies, meta, disabled string, byName bool) {
		data := map[string]any{"policies": policies, "metadata": []any{meta}, "disabled": disabled}
		path := "entity"
		if byName && name != "" && !strings.Contains(name, "/") {
			path = "entity/name/" + name
		} else {
			data["name"] = name
		}
		_, err := fx.do(logical.UpdateOperation, path, data)
		wantUserError(t, err)
		checkInvariants(t, fx.s)
		if err == nil && name != "" {
			if r, err := fx.do(logical.ReadOperation, "entity/name/"+name, nil); err != nil || r == nil {
				t.Fatalf("entity %q written but not readable: %v", name, err)
			}
		}
	})
}

func FuzzGroupWrite(f *testing.F) {
	f.Add(0, "team", "internal", "dev", "e0,e1", "g1,g2")
	f.Add(1, "", "external", "root", "", "g0")
	f.Add(2, "x", "", "", "nope", "g2")
	f.Add(0, "G", "INTERNAL", "a,b", "e0", "g0,g0,g1")
	fx := newFx(f)
	var groups, entities []string
	for _, n := range []string{"g0", "g1", "g2"} {
		groups = append(groups, fx.id("group", map[string]any{"name": n}))
	}
	for _, n := range []string{"e0", "e1"} {
		entities = append(entities, fx.id("entity", map[string]any{"name": n}))
	}
	resolve := func(list string) string {
		parts := strings.Split(list, ",")
		for i, p := range parts {
			var n int
			switch {
			case len(p) == 2 && p[0] == 'g' && p[1] >= '0' && p[1] <= '2':
				n = int(p[1] - '0')
				parts[i] = groups[n]
			case len(p) == 2 && p[0] == 'e' && p[1] >= '0' && p[1] <= '1':
				n = int(p[1] - '0')
				parts[i] = entities[n]
			}
		}
		return strings.Join(parts, ",")
	}
	f.Fuzz(func(t *testing.T, target int, name, typ, policies, members, memberGroups string) {
		path := "group"
		if target >= 0 {
			path = "group/id/" + groups[target%len(groups)]
		}
		data := map[string]any{"name": name, "type": typ, "policies": policies,
			"member_entity_ids": resolve(members), "member_group_ids": resolve(memberGroups)}
		_, err := fx.do(logical.UpdateOperation, path, data)
		wantUserError(t, err)
		checkInvariants(t, fx.s)
		for _, e := range entities {
			if _, err := fx.s.IdentityPolicies(bg, e); err != nil {
				t.Fatalf("IdentityPolicies: %v", err)
			}
		}
	})
}

// FuzzGroupAliasWrite mixes group alias writes with login syncs and checks
// the invariants (alias indexes, external groups without an alias have no
// members) after each.
func FuzzGroupAliasWrite(f *testing.F) {
	f.Add(-1, 0, "devs", uint8(0), "devs,ops")
	f.Add(0, 3, "ops", uint8(1), "")
	f.Add(0, -1, "DEVS", uint8(2), "devs")
	f.Add(-1, 1, "", uint8(3), "a,,b")
	fx := newExtFx(f)
	var groups []string
	for _, n := range []string{"g0", "g1", "g2"} {
		groups = append(groups, fx.id("group", map[string]any{"name": n, "type": "external", "policies": n}))
	}
	groups = append(groups, fx.id("group", map[string]any{"name": "i0", "policies": "i0", "member_group_ids": groups[0]}))
	e := fx.login("acc", "ann")
	accessors := []string{jwtAcc, oidcAcc, "auth_nope", ""}
	f.Fuzz(func(t *testing.T, target, canonical int, name string, acc uint8, names string) {
		path, data := "group-alias", map[string]any{"name": name, "mount_accessor": accessors[acc%4]}
		fx.s.mu.RLock()
		keys, many := slices.Sorted(maps.Keys(fx.s.galiasIDs)), len(fx.s.groups) > 40
		fx.s.mu.RUnlock()
		if canonical >= 0 || many {
			data["canonical_id"] = groups[(canonical&0xff)%len(groups)]
		}
		if target >= 0 && len(keys) > 0 {
			path = "group-alias/id/" + keys[target%len(keys)]
		}
		_, err := fx.do(logical.UpdateOperation, path, data)
		wantUserError(t, err)
		checkInvariants(t, fx.s)
		if err := fx.s.SyncExternalGroups(bg, e.ID, accessors[acc%2], strings.Split(names, ",")); err != nil {
			t.Fatalf("sync: %v", err)
		}
		checkInvariants(t, fx.s)
		if _, err := fx.s.IdentityPolicies(bg, e.ID); err != nil {
			t.Fatalf("IdentityPolicies: %v", err)
		}
	})
}
