package jwt

import (
	"reflect"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestRoleCRUD(t *testing.T) {
	e := newEnv(t)
	e.ok(logical.CreateOperation, "role/CI", map[string]any{
		"role_type": "jwt", "bound_audiences": "a,b", "bound_claims": map[string]any{"ref": "main, dev", "n": 1},
		"claim_mappings": map[string]any{"ref": "ref"}, "token_policies": "p1,P2", "token_ttl": 60,
	})
	got := e.ok(logical.ReadOperation, "role/ci", nil).Data
	want := map[string]any{
		"role_type": "jwt", "user_claim": "sub", "bound_claims_type": "string",
		"bound_audiences": []string{"a", "b"}, "clock_skew_leeway": int64(60), "expiration_leeway": int64(150),
		"not_before_leeway": int64(150), "token_policies": []string{"p1", "p2"}, "token_ttl": int64(60),
		"bound_claims":   map[string]any{"ref": []any{"main", "dev"}, "n": float64(1)},
		"claim_mappings": map[string]string{"ref": "ref"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	// Update keeps fields not sent; disable_bound_claims_parsing keeps commas.
	e.ok(logical.UpdateOperation, "role/ci", map[string]any{"disable_bound_claims_parsing": true, "bound_claims": map[string]any{"x": "a,b"}})
	got = e.ok(logical.ReadOperation, "role/ci", nil).Data
	if !reflect.DeepEqual(got["bound_claims"], map[string]any{"x": "a,b"}) || !reflect.DeepEqual(got["bound_audiences"], []string{"a", "b"}) {
		t.Errorf("after update: %v %v", got["bound_claims"], got["bound_audiences"])
	}
	e.ok(logical.CreateOperation, "role/other", map[string]any{"role_type": "jwt", "bound_subject": "s"})
	keys := e.ok(logical.ListOperation, "role/", nil).Data["keys"]
	if !reflect.DeepEqual(keys, []string{"ci", "other"}) {
		t.Errorf("list = %v", keys)
	}
	e.ok(logical.DeleteOperation, "role/ci", nil)
	if r := e.ok(logical.ReadOperation, "role/ci", nil); r != nil {
		t.Errorf("read after delete = %+v", r)
	}
}

func TestRoleValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		data map[string]any
		msg  string
	}{
		{"oidc without redirect URIs", map[string]any{"role_type": "oidc", "bound_subject": "s"}, "'allowed_redirect_uris' must be set"},
		{"default type is oidc", map[string]any{"role_type": nil, "bound_subject": "s"}, "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified"},
		{"relative redirect URI", map[string]any{"role_type": "oidc", "allowed_redirect_uris": "/cb"}, "invalid redirect URI"},
		{"redirect URI with fragment", map[string]any{"role_type": "oidc", "allowed_redirect_uris": "https://x/cb#f"}, "invalid redirect URI"},
		{"negative max_age", map[string]any{"role_type": "oidc", "allowed_redirect_uris": "https://x/cb", "max_age": -5}, "max_age"},
		{"bad type", map[string]any{"role_type": "saml", "bound_subject": "s"}, "invalid 'role_type'"},
		{"no constraint", map[string]any{"token_policies": "p"}, "must have at least one bound constraint"},
		{"empty user claim", map[string]any{"bound_subject": "s", "user_claim": ""}, "a user claim must be defined on the role"},
		{"bad claims type", map[string]any{"bound_subject": "s", "bound_claims_type": "regex"}, "invalid 'bound_claims_type'"},
		{"glob non-string", map[string]any{"bound_claims_type": "glob", "bound_claims": map[string]any{"n": 1}}, "must be a string or a list of strings"},
		{"nested bound claim", map[string]any{"bound_claims": map[string]any{"n": map[string]any{"a": "b"}}}, "is not a string, number, boolean"},
		{"reserved mapping", map[string]any{"bound_subject": "s", "claim_mappings": map[string]any{"x": "role"}}, `metadata key "role" is reserved`},
		{"duplicate mapping", map[string]any{"bound_subject": "s", "claim_mappings": map[string]any{"x": "m", "y": "m"}}, `multiple keys are mapped to metadata key "m"`},
		{"bad leeway", map[string]any{"bound_subject": "s", "clock_skew_leeway": "soon"}, "invalid clock_skew_leeway"},
		{"root policy", map[string]any{"bound_subject": "s", "token_policies": "root"}, "root policy"},
		{"bad cidr", map[string]any{"token_bound_cidrs": "nope"}, "invalid CIDR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := with(tc.data, "role_type", "jwt") // JWT unless the case says
			if v, ok := tc.data["role_type"]; ok {
				data = with(tc.data, "role_type", v) // nil: not sent
			}
			e.fail(logical.CreateOperation, "role/r", data, logical.ErrInvalidRequest, tc.msg)
		})
	}
	if keys := e.ok(logical.ListOperation, "role/", nil).Data["keys"]; !reflect.DeepEqual(keys, []string{}) {
		t.Errorf("refused writes stored roles: %v", keys)
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"", "", true}, {"", "a", false},
		{"repo:org/*", "repo:org/x:ref:refs/heads/main", true}, {"repo:org/*", "repo:org2/x", false},
		{"*:ref:refs/heads/main", "repo:org/x:ref:refs/heads/main", true},
		{"repo:*:ref:refs/tags/v*", "repo:org/x:ref:refs/tags/v1.2", true},
		{"repo:*:ref:refs/tags/v*", "repo:org/x:ref:refs/heads/v1", false},
		{"a*b*c", "abc", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
		{"a?c", "abc", false}, {"**", "x", true}, {"abc", "abc", true}, {"abc", "abcd", false},
	}
	for _, tc := range tests {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestGetClaimPointer(t *testing.T) {
	all := map[string]any{"a": map[string]any{"b/c": []any{"x", map[string]any{"~d": "deep"}}}, "top": "t"}
	tests := []struct {
		key  string
		want any
	}{
		{"top", "t"}, {"/top", "t"}, {"/a/b~1c/0", "x"}, {"/a/b~1c/1/~0d", "deep"},
		{"/a/b~1c/2", nil}, {"/a/b~1c/01", nil}, {"/missing/x", nil}, {"/top/x", nil},
	}
	for _, tc := range tests {
		if got := getClaim(all, tc.key, false); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("getClaim(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}
