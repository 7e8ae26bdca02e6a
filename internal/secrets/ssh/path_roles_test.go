package ssh

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestRoleReadShape(t *testing.T) {
	e := newEnv(t)
	e.ok(logical.UpdateOperation, "roles/dev@team", map[string]any{
		"key_type": "ca", "allow_user_certificates": true, "allowed_users": []any{"alice", " bob "},
		"default_user": "alice", "ttl": "1h", "max_ttl": 7200, "default_extensions": map[string]any{"permit-pty": ""},
		"allowed_extensions": "permit-pty,permit-port-forwarding", "allowed_user_key_lengths": map[string]any{"rsa": []any{json.Number("3072"), 4096.0}, "ed25519": 0},
	})
	got := e.ok(logical.ReadOperation, "roles/dev@team", nil).Data
	want := map[string]any{
		"key_type": "ca", "default_user": "alice", "default_user_template": false,
		"allowed_users": "alice,bob", "allowed_users_template": false,
		"allowed_domains": "", "allow_bare_domains": false, "allow_subdomains": false,
		"allow_user_certificates": true, "allow_host_certificates": false, "allow_empty_principals": false,
		"allowed_extensions": "permit-pty,permit-port-forwarding", "default_extensions": map[string]string{"permit-pty": ""},
		"allowed_critical_options": "", "default_critical_options": map[string]string{},
		"allow_user_key_ids": false, "key_id_format": "",
		"ttl": int64(3600), "max_ttl": int64(7200), "algorithm_signer": "default", "not_before_duration": int64(30),
		"allowed_user_key_lengths": map[string][]int{"rsa": {3072, 4096}, "ed25519": {0}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("role read\n got %#v\nwant %#v", got, want)
	}
}

func TestRoleValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		data map[string]any
		msg  string
	}{
		{"no key_type", map[string]any{"allow_user_certificates": true}, `missing required field "key_type"`},
		{"otp", map[string]any{"key_type": "otp", "allow_user_certificates": true}, "use key_type=ca"},
		{"dynamic", map[string]any{"key_type": "dynamic"}, "not supported"},
		{"bogus type", map[string]any{"key_type": "x"}, "invalid key_type"},
		{"no cert kind", map[string]any{"key_type": "ca"}, "allow_user_certificates or allow_host_certificates"},
		{"ttl above max", map[string]any{"key_type": "ca", "allow_user_certificates": true, "ttl": "2h", "max_ttl": "1h"}, `"ttl" value must be less than "max_ttl"`},
		{"bad signer", map[string]any{"key_type": "ca", "allow_user_certificates": true, "algorithm_signer": "md5"}, `invalid value for "algorithm_signer"`},
		{"bad ttl", map[string]any{"key_type": "ca", "allow_user_certificates": true, "ttl": "soon"}, `invalid value for "ttl"`},
		{"bad key lengths", map[string]any{"key_type": "ca", "allow_user_certificates": true, "allowed_user_key_lengths": map[string]any{"dsa": 1024}}, "unknown key type"},
		{"bad key size", map[string]any{"key_type": "ca", "allow_user_certificates": true, "allowed_user_key_lengths": map[string]any{"rsa": "big"}}, "whole numbers"},
		{"nested extension", map[string]any{"key_type": "ca", "allow_user_certificates": true, "default_extensions": map[string]any{"x": map[string]any{}}}, "must be a string"},
		{"template", map[string]any{"key_type": "ca", "allow_user_certificates": true, "allowed_users_template": true, "allowed_users": "{{identity.entity.name}}"}, "renders only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.fail(logical.UpdateOperation, "roles/r", tc.data, tc.msg)
			if resp, err := e.do(logical.ReadOperation, "roles/r", nil); err != nil || resp != nil {
				t.Fatalf("a refused role was stored: %+v, %v", resp, err)
			}
		})
	}
}

func TestRoleListDeleteExistence(t *testing.T) {
	e := newEnv(t)
	if resp := e.ok(logical.ListOperation, "roles/", nil); len(resp.Data["keys"].([]string)) != 0 {
		t.Fatalf("empty list: %+v", resp.Data)
	}
	e.role("b", nil)
	e.role("a", map[string]any{"allow_host_certificates": true})
	resp := e.ok(logical.ListOperation, "roles", nil)
	if !reflect.DeepEqual(resp.Data["keys"], []string{"a", "b"}) {
		t.Fatalf("keys = %v", resp.Data["keys"])
	}
	if info := resp.Data["key_info"].(map[string]any)["a"]; !reflect.DeepEqual(info, map[string]any{"key_type": "ca"}) {
		t.Fatalf("key_info[a] = %v", info)
	}
	req := &logical.Request{Operation: logical.UpdateOperation, Path: "roles/a", Storage: e.s}
	if found, exists, err := e.b.HandleExistenceCheck(t.Context(), req); !found || !exists || err != nil {
		t.Fatalf("existence of a: %v %v %v", found, exists, err)
	}
	e.ok(logical.DeleteOperation, "roles/a", nil)
	if found, exists, err := e.b.HandleExistenceCheck(t.Context(), req); !found || exists || err != nil {
		t.Fatalf("existence of deleted a: %v %v %v", found, exists, err)
	}
	if resp := e.ok(logical.ReadOperation, "roles/a", nil); resp != nil {
		t.Fatalf("deleted role reads %+v", resp)
	}
	// A write replaces the whole role, as in Vault.
	e.role("b", map[string]any{"allowed_users": "x"})
	e.role("b", map[string]any{"default_user": "y"})
	if got := e.ok(logical.ReadOperation, "roles/b", nil).Data["allowed_users"]; got != "" {
		t.Fatalf("allowed_users survived a rewrite: %q", got)
	}
}
