package identity

import (
	"reflect"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestLoginMFARequirement(t *testing.T) {
	f := newFx(t)
	alice, bob, carol := f.login("acc_up", "alice"), f.login("acc_up", "bob"), f.login("acc_up", "carol")
	team := f.id("group", map[string]any{"name": "team", "member_entity_ids": alice.ID})
	org := f.id("group", map[string]any{"name": "org", "member_group_ids": team})
	m1 := f.id("mfa/method/totp", map[string]any{"issuer": "k", "method_name": "m1"})
	m2 := f.id("mfa/method/totp", map[string]any{"issuer": "k", "method_name": "m2"})
	method := func(id, name string) MFAMethod {
		return MFAMethod{ID: id, Type: "totp", Name: name, UsesPasscode: true}
	}

	// no enforcement: nothing required
	if req, err := f.s.LoginMFARequirement(bg, "acc_up", "userpass", alice); req != nil || err != nil {
		t.Fatalf("no enforcement: %+v %v", req, err)
	}
	f.write("mfa/login-enforcement/by-accessor", map[string]any{"mfa_method_ids": m1, "auth_method_accessors": "acc_ldap"})
	f.write("mfa/login-enforcement/by-type", map[string]any{"mfa_method_ids": []any{m1, m2}, "auth_method_types": "approle"})
	f.write("mfa/login-enforcement/by-entity", map[string]any{"mfa_method_ids": m2, "identity_entity_ids": bob.ID})
	f.write("mfa/login-enforcement/by-group", map[string]any{"mfa_method_ids": m1, "identity_group_ids": org})

	cases := []struct {
		name          string
		accessor, typ string
		e             *Entity
		enforcements  []string
		methods       []MFAMethod
	}{
		{"nothing matches", "acc_up", "userpass", carol, nil, nil},
		{"accessor", "acc_ldap", "ldap", carol, []string{"by-accessor"}, []MFAMethod{method(m1, "m1")}},
		{"type", "acc_ar", "approle", carol, []string{"by-type"}, []MFAMethod{method(m1, "m1"), method(m2, "m2")}},
		{"entity", "acc_up", "userpass", bob, []string{"by-entity"}, []MFAMethod{method(m2, "m2")}},
		{"inherited group", "acc_up", "userpass", alice, []string{"by-group"}, []MFAMethod{method(m1, "m1")}},
		{"several", "acc_ar", "approle", bob, []string{"by-entity", "by-type"}, []MFAMethod{method(m2, "m2"), method(m1, "m1")}},
		{"no entity", "acc_ldap", "ldap", nil, []string{"by-accessor"}, []MFAMethod{method(m1, "m1")}},
	}
	for _, tc := range cases {
		req, err := f.s.LoginMFARequirement(bg, tc.accessor, tc.typ, tc.e)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.enforcements == nil {
			if req != nil {
				t.Errorf("%s: got %+v, want none", tc.name, req)
			}
			continue
		}
		var names []string
		for _, en := range req.Enforcements {
			names = append(names, en.Name)
		}
		if !reflect.DeepEqual(names, tc.enforcements) || !reflect.DeepEqual(req.Methods, tc.methods) {
			t.Errorf("%s: enforcements %v methods %+v, want %v %+v", tc.name, names, req.Methods, tc.enforcements, tc.methods)
		}
	}
	// removing alice from the inner group ends the group enforcement for her
	f.write("group/id/"+team, map[string]any{"member_entity_ids": ""})
	if req, _ := f.s.LoginMFARequirement(bg, "acc_up", "userpass", alice); req != nil {
		t.Fatalf("after leaving the group: %+v", req)
	}
}

func TestEnforcementCRUD(t *testing.T) {
	mounts := map[string]Mount{"acc_up": {Type: "userpass", Path: "userpass/"}}
	f := newFxOpts(t, Options{Mounts: func(a string) (Mount, bool) { m, ok := mounts[a]; return m, ok }})
	e := f.login("acc_up", "u")
	mid := f.id("mfa/method/totp", map[string]any{"issuer": "k"})
	if r := f.write("mfa/login-enforcement/e1", map[string]any{"mfa_method_ids": mid, "auth_method_accessors": "acc_up",
		"identity_entity_ids": e.ID}); r != nil {
		t.Fatalf("write returned %+v", r)
	}
	got := f.read("mfa/login-enforcement/e1")
	if got["name"] != "e1" || !reflect.DeepEqual(got["mfa_method_ids"], []string{mid}) ||
		!reflect.DeepEqual(got["auth_method_types"], []string{}) || got["id"] == "" {
		t.Fatalf("read: %+v", got)
	}
	id := got["id"]
	f.write("mfa/login-enforcement/e1", map[string]any{"mfa_method_ids": mid, "auth_method_types": "userpass"})
	if got := f.read("mfa/login-enforcement/e1"); got["id"] != id || !reflect.DeepEqual(got["auth_method_accessors"], []string{}) {
		t.Fatalf("update: %+v", got)
	}
	bad := []map[string]any{
		{"auth_method_types": "userpass"},
		{"mfa_method_ids": mid},
		{"mfa_method_ids": "missing", "auth_method_types": "userpass"},
		{"mfa_method_ids": mid, "auth_method_accessors": "acc_missing"},
		{"mfa_method_ids": mid, "identity_group_ids": "missing"},
		{"mfa_method_ids": mid, "identity_entity_ids": "missing"},
	}
	for _, d := range bad {
		_, err := f.do(logical.UpdateOperation, "mfa/login-enforcement/e2", d)
		wantKind(t, "enforcement "+mapString(d), err, logical.ErrInvalidRequest)
	}
	if keys := f.list("mfa/login-enforcement"); !reflect.DeepEqual(keys, []string{"e1"}) {
		t.Fatalf("list %v", keys)
	}
	_, err := f.do(logical.DeleteOperation, "mfa/method/totp/"+mid, nil)
	wantKind(t, "delete method in use", err, logical.ErrInvalidRequest)
	f.do(logical.DeleteOperation, "mfa/login-enforcement/e1", nil)
	if _, err := f.do(logical.DeleteOperation, "mfa/method/totp/"+mid, nil); err != nil {
		t.Fatalf("delete unused method: %v", err)
	}
	if req, _ := f.s.LoginMFARequirement(bg, "acc_up", "userpass", e); req != nil {
		t.Fatalf("requirement after delete: %+v", req)
	}
}
