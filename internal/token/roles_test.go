package token

import (
	"slices"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestRoleCRUD(t *testing.T) {
	e := newEnv(t)
	if resp, _ := e.call(read, "roles/nomad", e.root, false, nil); resp != nil {
		t.Fatalf("unknown role read = %+v", resp)
	}
	e.mustCall(update, "roles/Nomad", e.root, false, map[string]any{
		"allowed_policies": "dev, Ops", "orphan": true, "token_period": "1h", "path_suffix": "/v1/",
		"allowed_entity_aliases": []any{"web-*"},
	})
	d := e.mustCall(read, "roles/nomad", e.root, false, nil).Data
	want := map[string]any{
		"name": "nomad", "orphan": true, "renewable": true, "path_suffix": "v1", "token_period": int64(3600),
		"period": int64(3600), "explicit_max_ttl": int64(0), "token_type": "default-service", "token_num_uses": 0,
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("role %s = %#v, want %#v", k, d[k], v)
		}
	}
	if !slices.Equal(d["allowed_policies"].([]string), []string{"dev", "ops"}) || len(d["disallowed_policies"].([]string)) != 0 {
		t.Errorf("role policies = %v / %v", d["allowed_policies"], d["disallowed_policies"])
	}
	// An update keeps what it does not send.
	e.mustCall(update, "roles/nomad", e.root, false, map[string]any{"renewable": false, "explicit_max_ttl": 7200})
	d = e.mustCall(read, "roles/nomad", e.root, false, nil).Data
	if d["renewable"] != false || d["orphan"] != true || d["token_explicit_max_ttl"] != int64(7200) {
		t.Errorf("after update: %v", d)
	}
	e.mustCall(update, "roles/other", e.root, false, nil)
	keys := e.mustCall(list, "roles/", e.root, false, nil).Data["keys"].([]string)
	if !slices.Equal(keys, []string{"nomad", "other"}) {
		t.Errorf("roles = %v", keys)
	}
	e.mustCall(logical.DeleteOperation, "roles/nomad", e.root, false, nil)
	if resp, _ := e.call(read, "roles/nomad", e.root, false, nil); resp != nil {
		t.Error("role still readable after delete")
	}
	exists := func(name string) bool {
		_, ok, err := e.s.Backend().(logical.ExistenceChecker).HandleExistenceCheck(ctx(), &logical.Request{Path: "roles/" + name})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !exists("other") || exists("nomad") {
		t.Error("existence check wrong")
	}
}

func TestRoleWriteValidation(t *testing.T) {
	cases := []struct {
		name string
		data map[string]any
		msg  string
	}{
		{"batch", map[string]any{"token_type": "batch"}, "batch tokens are not supported"},
		{"bad type", map[string]any{"token_type": "odd"}, "invalid token_type"},
		{"dotdot", map[string]any{"path_suffix": "a/../b"}, "path_suffix cannot contain"},
		{"cidrs", map[string]any{"token_bound_cidrs": "10.0.0.0/8"}, "not supported"},
		{"uses", map[string]any{"token_num_uses": -2}, "cannot be negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.call(update, "roles/r", e.root, false, tc.data)
			wantErr(t, err, logical.ErrInvalidRequest, tc.msg)
		})
	}
}

func TestCreateWithRole(t *testing.T) {
	cases := []struct {
		name     string
		role     map[string]any
		parent   []string
		data     map[string]any
		want     []string
		wantErr  string
		check    func(t *testing.T, e *env, a *logical.Auth)
		viaField bool
	}{
		{name: "allowed supplies defaults", role: map[string]any{"allowed_policies": "a,b"}, parent: []string{"x"}, want: []string{"a", "b", "default"}},
		{name: "allowed subset", role: map[string]any{"allowed_policies": "a,b"}, parent: []string{"x"}, data: map[string]any{"policies": "b"}, want: []string{"b", "default"}},
		{name: "outside allowed", role: map[string]any{"allowed_policies": "a"}, parent: []string{"x"}, data: map[string]any{"policies": "c"}, wantErr: "must be subset of the role's allowed policies"},
		{name: "allowed glob", role: map[string]any{"allowed_policies_glob": "team-*"}, parent: []string{"x"}, data: map[string]any{"policies": "team-a"}, want: []string{"default", "team-a"}},
		{name: "disallowed requested", role: map[string]any{"disallowed_policies": "secret"}, parent: []string{"a", "secret"}, data: map[string]any{"policies": "secret"}, wantErr: "disallowed by this role"},
		{name: "disallowed inherited dropped", role: map[string]any{"disallowed_policies": "secret"}, parent: []string{"a", "secret"}, want: []string{"a", "default"}},
		{name: "disallowed default", role: map[string]any{"allowed_policies": "a", "disallowed_policies": "default"}, parent: []string{"x"}, want: []string{"a"}},
		{name: "no allowed: parent subset", role: map[string]any{}, parent: []string{"a"}, data: map[string]any{"policies": "b"}, wantErr: "child policies must be subset of parent"},
		{name: "role no default", role: map[string]any{"allowed_policies": "a", "token_no_default_policy": true}, parent: []string{"x"}, want: []string{"a"}},
		{
			name: "orphan, period, path, uses", role: map[string]any{"allowed_policies": "a", "orphan": true, "token_period": "30m", "path_suffix": "v2", "token_num_uses": 4},
			parent: []string{"x"}, want: []string{"a", "default"},
			check: func(t *testing.T, e *env, a *logical.Auth) {
				te := e.lookup(a.ClientToken)
				if !te.Orphan || te.Period != 30*time.Minute || te.TTL != 30*time.Minute || te.Role != "r" ||
					te.Path != "auth/token/create/r/v2" || te.NumUses != 4 {
					t.Fatalf("entry = %+v", te)
				}
			},
		},
		{
			name: "role not renewable, explicit max", role: map[string]any{"allowed_policies": "a", "renewable": false, "token_explicit_max_ttl": "10m"},
			parent: []string{"x"}, data: map[string]any{"ttl": "1h"}, want: []string{"a", "default"},
			check: func(t *testing.T, e *env, a *logical.Auth) {
				if a.Renewable || a.TTL != 10*time.Minute {
					t.Fatalf("auth = %+v", a)
				}
			},
		},
		{name: "role by field", role: map[string]any{"allowed_policies": "a"}, parent: []string{"x"}, want: []string{"a", "default"}, viaField: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mustCall(update, "roles/r", e.root, false, tc.role)
			parent := e.create(e.root, map[string]any{"policies": tc.parent}).ClientToken
			path, data := "create/r", tc.data
			if tc.viaField {
				path, data = "create", map[string]any{"role_name": "r"}
			}
			resp, err := e.call(update, path, parent, false, data)
			if tc.wantErr != "" {
				wantErr(t, err, logical.ErrInvalidRequest, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.Auth.Policies, tc.want) {
				t.Fatalf("policies = %v, want %v", resp.Auth.Policies, tc.want)
			}
			if tc.check != nil {
				tc.check(t, e, resp.Auth)
			}
		})
	}
}

func TestCreateWithUnknownRole(t *testing.T) {
	e := newEnv(t)
	_, err := e.call(update, "create/missing", e.root, false, nil)
	wantErr(t, err, logical.ErrInvalidRequest, "unknown role missing")
}

func TestRoleRenewFollowsRole(t *testing.T) {
	e := newEnv(t)
	e.mustCall(update, "roles/r", e.root, false, map[string]any{"allowed_policies": "a", "token_period": "1h"})
	a := e.create(e.root, map[string]any{"role_name": "r"})
	e.mustCall(update, "roles/r", e.root, false, map[string]any{"token_period": "2h"})
	resp := e.mustCall(update, "renew-self", a.ClientToken, false, nil)
	if resp.Auth.TTL != 2*time.Hour {
		t.Fatalf("renewal must use the role's current period, got %v", resp.Auth.TTL)
	}
	e.mustCall(logical.DeleteOperation, "roles/r", e.root, false, nil)
	_, err := e.call(update, "renew-self", a.ClientToken, false, nil)
	wantErr(t, err, logical.ErrInvalidRequest, "could not be found")
}
