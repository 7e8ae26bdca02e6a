package approle

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestRoleCreateReadDefaults(t *testing.T) {
	e := newEnv(t)
	resp := e.ok(logical.CreateOperation, "role/Web", nil)
	if resp != nil {
		t.Errorf("create response = %+v, want none", resp)
	}
	got := e.ok(logical.ReadOperation, "role/web", nil).Data
	want := map[string]any{
		"bind_secret_id": true, "secret_id_bound_cidrs": []string{}, "secret_id_num_uses": 0,
		"secret_id_ttl": int64(0), "local_secret_ids": false,
		"token_policies": []string{}, "token_ttl": int64(0), "token_max_ttl": int64(0),
		"token_explicit_max_ttl": int64(0), "token_period": int64(0), "token_no_default_policy": false,
		"token_num_uses": 0, "token_bound_cidrs": []string{}, "token_type": "default",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read = %#v\nwant %#v", got, want)
	}
	if _, ok := got["hmac_key"]; ok {
		t.Error("read shows the role's HMAC key")
	}
	keys := e.ok(logical.ListOperation, "role/", nil).Data["keys"]
	if !reflect.DeepEqual(keys, []string{"web"}) {
		t.Errorf("list = %v, want [web] (names are lower-cased)", keys)
	}
	id := e.ok(logical.ReadOperation, "role/WEB/role-id", nil).Data["role_id"].(string)
	if len(id) != 36 || id[14] != '4' {
		t.Errorf("role_id %q is not a random UUID", id)
	}
}

func TestRoleWriteSettings(t *testing.T) {
	e := newEnv(t)
	e.ok(logical.CreateOperation, "role/web", map[string]any{
		"policies": "a,b", "period": "1h", "secret_id_num_uses": 4, "secret_id_ttl": "10m",
		"bound_cidr_list": []any{"10.0.0.0/8"}, "token_bound_cidrs": "192.0.2.0/24", "token_num_uses": 2,
		"local_secret_ids": true,
	})
	got := e.ok(logical.ReadOperation, "role/web", nil).Data
	checks := map[string]any{
		"token_policies": []string{"a", "b"}, "policies": []string{"a", "b"}, "token_period": int64(3600),
		"period": int64(3600), "secret_id_num_uses": 4, "secret_id_ttl": int64(600),
		"secret_id_bound_cidrs": []string{"10.0.0.0/8"}, "token_bound_cidrs": []string{"192.0.2.0/24"},
		"token_num_uses": 2, "local_secret_ids": true,
	}
	for k, v := range checks {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	// Setting the new names drops the deprecated mirrors.
	e.ok(logical.UpdateOperation, "role/web", map[string]any{"token_policies": "c", "token_period": 60})
	got = e.ok(logical.ReadOperation, "role/web", nil).Data
	if _, ok := got["policies"]; ok {
		t.Errorf("policies still shown after token_policies was set: %v", got["policies"])
	}
	if _, ok := got["period"]; ok || got["token_period"] != int64(60) {
		t.Errorf("period = %v, token_period = %v", got["period"], got["token_period"])
	}
	// Fields not sent keep their value on update.
	if got["secret_id_num_uses"] != 4 || got["local_secret_ids"] != true {
		t.Errorf("update reset unsent fields: %v", got)
	}
}

func TestRoleWriteErrors(t *testing.T) {
	e := newEnv(t)
	e.role("web", nil)
	e.role("other", map[string]any{"role_id": "taken"})
	tests := []struct {
		name string
		op   logical.Operation
		path string
		data map[string]any
		kind error
		msg  string
	}{
		{"update of missing role", logical.UpdateOperation, "role/nope", nil, logical.ErrUnsupportedPath, `role name "nope" doesn't exist`},
		{"no constraint", logical.CreateOperation, "role/x", map[string]any{"bind_secret_id": false}, logical.ErrInvalidRequest, ""},
		{"drop last constraint", logical.UpdateOperation, "role/web", map[string]any{"bind_secret_id": false}, logical.ErrInvalidRequest, ""},
		{"local_secret_ids on update", logical.UpdateOperation, "role/web", map[string]any{"local_secret_ids": true},
			logical.ErrInvalidRequest, "local_secret_ids can only be modified during role creation"},
		{"negative num uses", logical.CreateOperation, "role/x", map[string]any{"secret_id_num_uses": -1},
			logical.ErrInvalidRequest, "secret_id_num_uses cannot be negative"},
		{"bad cidr", logical.CreateOperation, "role/x", map[string]any{"secret_id_bound_cidrs": "10.0.0.0/33"}, logical.ErrInvalidRequest, ""},
		{"bad token cidr", logical.CreateOperation, "role/x", map[string]any{"token_bound_cidrs": "nope"}, logical.ErrInvalidRequest, ""},
		{"root policy", logical.CreateOperation, "role/x", map[string]any{"token_policies": "root"}, logical.ErrInvalidRequest, ""},
		{"ttl over max", logical.CreateOperation, "role/x", map[string]any{"token_ttl": 20, "token_max_ttl": 10}, logical.ErrInvalidRequest, ""},
		{"period over mount max", logical.CreateOperation, "role/x", map[string]any{"token_period": "800h"}, logical.ErrInvalidRequest, ""},
		{"role_id in use", logical.UpdateOperation, "role/web", map[string]any{"role_id": "taken"}, logical.ErrInvalidRequest, "role_id already in use"},
		{"empty role_id", logical.UpdateOperation, "role/web", map[string]any{"role_id": " "}, logical.ErrInvalidRequest, ""},
		{"bad type", logical.CreateOperation, "role/x", map[string]any{"secret_id_num_uses": "many"}, logical.ErrInvalidRequest, ""},
		{"long name", logical.CreateOperation, "role/" + strings.Repeat("a", maxInputLength+1), nil, logical.ErrInvalidRequest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.fail(tc.op, tc.path, tc.data, tc.kind, tc.msg)
		})
	}
	e.t = t
	if n := e.countKeys(rolePrefix); n != 2 {
		t.Errorf("%d roles stored after failed writes, want 2", n)
	}
}

func TestRoleWarnings(t *testing.T) {
	e := newEnv(t)
	resp := e.ok(logical.CreateOperation, "role/web", map[string]any{"token_max_ttl": "1000h", "bogus": 1})
	if resp == nil || len(resp.Warnings) != 2 {
		t.Fatalf("warnings = %+v, want token_max_ttl and unknown-field warnings", resp)
	}
}

func TestRoleDelete(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", nil)
	e.secret("web", nil)
	e.secret("web", map[string]any{"num_uses": 3})
	if resp := e.ok(logical.DeleteOperation, "role/web", nil); resp != nil {
		t.Errorf("delete response = %+v", resp)
	}
	for _, k := range e.keys() {
		if k != saltKey {
			t.Errorf("key %q left after role delete", k)
		}
	}
	if resp := e.ok(logical.ReadOperation, "role/web", nil); resp != nil {
		t.Errorf("read after delete = %+v", resp)
	}
	e.ok(logical.DeleteOperation, "role/web", nil) // deleting twice is fine
	// A new role of the same name does not inherit anything.
	if e.role("web", nil) == roleID {
		t.Error("recreated role got the old role ID")
	}
}

func TestRoleIDEndpoint(t *testing.T) {
	e := newEnv(t)
	e.role("web", nil)
	e.role("other", nil)
	e.fail(logical.UpdateOperation, "role/web/role-id", nil, logical.ErrInvalidRequest, "missing role_id")
	e.fail(logical.UpdateOperation, "role/nope/role-id", map[string]any{"role_id": "x"}, logical.ErrUnsupportedPath, "")
	e.ok(logical.UpdateOperation, "role/web/role-id", map[string]any{"role_id": "mine"})
	e.fail(logical.UpdateOperation, "role/other/role-id", map[string]any{"role_id": "mine"}, logical.ErrInvalidRequest, "role_id already in use")
	if got := e.ok(logical.ReadOperation, "role/web/role-id", nil).Data["role_id"]; got != "mine" {
		t.Errorf("role_id = %v", got)
	}
	if resp := e.ok(logical.ReadOperation, "role/nope/role-id", nil); resp != nil {
		t.Errorf("role-id of missing role = %+v", resp)
	}
	// Re-setting the same value is not a conflict.
	e.ok(logical.UpdateOperation, "role/web/role-id", map[string]any{"role_id": "mine"})
}

func TestRoleFieldEndpoints(t *testing.T) {
	tests := []struct {
		suffix string
		set    map[string]any
		want   map[string]any // read after set
		reset  map[string]any // read after delete
	}{
		{"policies", map[string]any{"token_policies": "x,y"}, map[string]any{"token_policies": []string{"x", "y"}},
			map[string]any{"token_policies": []string{}}},
		{"policies", map[string]any{"policies": "x"}, map[string]any{"token_policies": []string{"x"}, "policies": []string{"x"}},
			map[string]any{"token_policies": []string{}}},
		{"secret-id-num-uses", map[string]any{"secret_id_num_uses": 7}, map[string]any{"secret_id_num_uses": 7},
			map[string]any{"secret_id_num_uses": 0}},
		{"secret-id-ttl", map[string]any{"secret_id_ttl": "1h"}, map[string]any{"secret_id_ttl": int64(3600)},
			map[string]any{"secret_id_ttl": int64(0)}},
		{"token-ttl", map[string]any{"token_ttl": 60}, map[string]any{"token_ttl": int64(60)}, map[string]any{"token_ttl": int64(0)}},
		{"token-max-ttl", map[string]any{"token_max_ttl": "2h"}, map[string]any{"token_max_ttl": int64(7200)},
			map[string]any{"token_max_ttl": int64(0)}},
		{"token-num-uses", map[string]any{"token_num_uses": 5}, map[string]any{"token_num_uses": 5}, map[string]any{"token_num_uses": 0}},
		{"bind-secret-id", map[string]any{"bind_secret_id": false}, map[string]any{"bind_secret_id": false},
			map[string]any{"bind_secret_id": true}},
		{"secret-id-bound-cidrs", map[string]any{"secret_id_bound_cidrs": "10.0.0.0/8"},
			map[string]any{"secret_id_bound_cidrs": []string{"10.0.0.0/8"}}, map[string]any{"secret_id_bound_cidrs": []string{}}},
		{"bound-cidr-list", map[string]any{"bound_cidr_list": "10.0.0.0/8"},
			map[string]any{"bound_cidr_list": []string{"10.0.0.0/8"}}, map[string]any{"bound_cidr_list": []string{}}},
		{"token-bound-cidrs", map[string]any{"token_bound_cidrs": "10.0.0.0/8"},
			map[string]any{"token_bound_cidrs": []string{"10.0.0.0/8"}}, map[string]any{"token_bound_cidrs": []string{}}},
		{"period", map[string]any{"token_period": 30}, map[string]any{"token_period": int64(30)}, map[string]any{"token_period": int64(0)}},
		{"period", map[string]any{"period": 30}, map[string]any{"token_period": int64(30), "period": int64(30)},
			map[string]any{"token_period": int64(0)}},
	}
	for _, tc := range tests {
		t.Run(tc.suffix, func(t *testing.T) {
			e := newEnv(t)
			// A CIDR binding keeps bind-secret-id=false valid.
			e.role("web", map[string]any{"token_bound_cidrs": "127.0.0.0/8"})
			path := "role/web/" + tc.suffix
			if tc.suffix == "token-bound-cidrs" {
				e.ok(logical.UpdateOperation, "role/web/secret-id-bound-cidrs", map[string]any{"secret_id_bound_cidrs": "127.0.0.0/8"})
			}
			e.fail(logical.UpdateOperation, path, map[string]any{}, logical.ErrInvalidRequest, "")
			e.fail(logical.UpdateOperation, "role/nope/"+tc.suffix, tc.set, logical.ErrUnsupportedPath, "")
			e.ok(logical.UpdateOperation, path, tc.set)
			if got := e.ok(logical.ReadOperation, path, nil).Data; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("after set: %#v, want %#v", got, tc.want)
			}
			e.ok(logical.DeleteOperation, path, nil)
			if got := e.ok(logical.ReadOperation, path, nil).Data; !reflect.DeepEqual(got, tc.reset) {
				t.Errorf("after delete: %#v, want %#v", got, tc.reset)
			}
			if resp := e.ok(logical.ReadOperation, "role/nope/"+tc.suffix, nil); resp != nil {
				t.Errorf("read of missing role = %+v", resp)
			}
			e.ok(logical.DeleteOperation, "role/nope/"+tc.suffix, nil)
		})
	}
}

func TestRoleFieldValidation(t *testing.T) {
	e := newEnv(t)
	e.role("web", map[string]any{"token_ttl": 100})
	tests := []struct {
		suffix string
		data   map[string]any
	}{
		{"secret-id-num-uses", map[string]any{"secret_id_num_uses": -1}},
		{"token-max-ttl", map[string]any{"token_max_ttl": 50}},
		{"token-num-uses", map[string]any{"token_num_uses": -1}},
		{"policies", map[string]any{"token_policies": "root"}},
		{"secret-id-bound-cidrs", map[string]any{"secret_id_bound_cidrs": "bad"}},
		{"secret-id-bound-cidrs", map[string]any{"secret_id_bound_cidrs": ""}},
		{"bind-secret-id", map[string]any{"bind_secret_id": false}}, // no constraint left
		{"period", map[string]any{"period": "800h"}},
	}
	for _, tc := range tests {
		t.Run(tc.suffix, func(t *testing.T) {
			e.t = t
			e.fail(logical.UpdateOperation, "role/web/"+tc.suffix, tc.data, logical.ErrInvalidRequest, "")
		})
	}
	e.t = t
	if got := e.ok(logical.ReadOperation, "role/web/local-secret-ids", nil).Data; got["local_secret_ids"] != false {
		t.Errorf("local-secret-ids = %v", got)
	}
	e.fail(logical.UpdateOperation, "role/web/local-secret-ids", map[string]any{}, logical.ErrUnsupportedOp, "")
}

func TestRoleExistenceCheck(t *testing.T) {
	e := newEnv(t)
	req := &logical.Request{Operation: logical.UpdateOperation, Path: "role/web", Storage: e.s}
	found, exists, err := e.b.HandleExistenceCheck(t.Context(), req)
	if err != nil || !found || exists {
		t.Fatalf("before create: found %v exists %v err %v", found, exists, err)
	}
	e.role("web", nil)
	if found, exists, err = e.b.HandleExistenceCheck(t.Context(), req); err != nil || !found || !exists {
		t.Fatalf("after create: found %v exists %v err %v", found, exists, err)
	}
}

func TestHelpAndUnknownPath(t *testing.T) {
	e := newEnv(t)
	if resp := e.ok(logical.HelpOperation, "role/web/secret-id", nil); resp.Data["help"] == "" {
		t.Error("no help text")
	}
	e.fail(logical.ReadOperation, "nope", nil, logical.ErrUnsupportedPath, "")
	e.fail(logical.ReadOperation, "login", nil, logical.ErrUnsupportedOp, "")
	special := e.b.SpecialPaths()
	if !reflect.DeepEqual(special.Unauthenticated, []string{"login", "login/*"}) {
		t.Errorf("unauthenticated paths = %v", special.Unauthenticated)
	}
}
