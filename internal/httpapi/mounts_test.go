package httpapi_test

import (
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/testserver"
)

func TestMountLifecycle(t *testing.T) {
	s := testserver.Start(t)
	root := s.RootToken
	steps := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"enable kv v1", "POST", "/v1/sys/mounts/kv1", `{"type":"kv","description":"v1 store"}`, 204, ""},
		{"write v1", "PUT", "/v1/kv1/app", `{"user":"u","pass":"p"}`, 204, ""},
		{"read v1", "GET", "/v1/kv1/app", "", 200, `"pass":"p"`},
		{"nested conflict", "POST", "/v1/sys/mounts/kv1/sub", `{"type":"kv"}`, 400, "already in use"},
		{"reserved path", "POST", "/v1/sys/mounts/sys/x", `{"type":"kv"}`, 400, "reserved"},
		{"unknown type", "POST", "/v1/sys/mounts/weird", `{"type":"no-such-engine"}`, 400, "unknown secrets engine type"},
		{"missing type", "POST", "/v1/sys/mounts/weird", `{}`, 400, "type"},
		{"bad ttl", "POST", "/v1/sys/mounts/weird", `{"type":"kv","config":{"default_lease_ttl":"soon"}}`, 400, "default_lease_ttl"},
		{"list mounts", "GET", "/v1/sys/mounts", "", 200, `"kv1/"`},
		{"tune", "POST", "/v1/sys/mounts/kv1/tune", `{"default_lease_ttl":"1h","max_lease_ttl":"2h"}`, 204, ""},
		{"tune read", "GET", "/v1/sys/mounts/kv1/tune", "", 200, `"default_lease_ttl":3600`},
		{"tune default above max", "POST", "/v1/sys/mounts/kv1/tune", `{"default_lease_ttl":"3h"}`, 400, "must not exceed"},
		{"disable", "DELETE", "/v1/sys/mounts/kv1", "", 204, ""},
		{"gone", "GET", "/v1/kv1/app", "", 404, ""},
		{"re-enable", "POST", "/v1/sys/mounts/kv1", `{"type":"kv"}`, 204, ""},
		{"data deleted", "GET", "/v1/kv1/app", "", 404, ""},
		{"kv-v2 alias", "POST", "/v1/sys/mounts/kv2", `{"type":"kv-v2"}`, 204, ""},
		{"v2 paths", "POST", "/v1/kv2/data/x", `{"data":{"a":"b"}}`, 200, `"version":1`},
		{"ui mount info", "GET", "/v1/sys/internal/ui/mounts/kv2/x", "", 200, `"version":"2"`},
		{"auth list", "GET", "/v1/sys/auth", "", 200, `"token/"`},
		{"cannot disable token", "DELETE", "/v1/sys/auth/token", "", 400, "cannot unmount"},
		{"capabilities-self", "POST", "/v1/sys/capabilities-self", `{"paths":["secret/data/x"]}`, 200, `"root"`},
		{"rotate", "POST", "/v1/sys/rotate", "", 204, ""},
		{"key status", "GET", "/v1/sys/key-status", "", 200, `"term":2`},
		{"read after rotate", "GET", "/v1/kv2/data/x", "", 200, `"a":"b"`},
		{"help", "GET", "/v1/kv2/data/x?help=1", "", 200, `"help"`},
	}
	for _, st := range steps {
		r := call(t, s, st.method, st.path, root, st.body)
		if r.status != st.status || !strings.Contains(r.raw, st.contains) {
			t.Fatalf("%s: %d %s (want %d containing %q)", st.name, r.status, r.raw, st.status, st.contains)
		}
	}
}

func TestTokensAndPolicies(t *testing.T) {
	s := testserver.Start(t)
	root := s.RootToken
	pol := `{"policy":"path \"secret/data/team/*\" { capabilities = [\"read\"] }\npath \"sys/metrics\" { capabilities = [\"read\"] }"}`
	if r := call(t, s, "PUT", "/v1/sys/policies/acl/team", root, pol); r.status != 204 {
		t.Fatalf("write policy: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "LIST", "/v1/sys/policies/acl", root, ""); r.status != 200 || !strings.Contains(r.raw, `"team"`) || !strings.Contains(r.raw, `"root"`) {
		t.Fatalf("list policies: %d %s", r.status, r.raw)
	}
	r := call(t, s, "POST", "/v1/auth/token/create", root, `{"policies":["team"],"ttl":"1h","num_uses":0}`)
	auth, _ := r.body["auth"].(map[string]any)
	tok, _ := auth["client_token"].(string)
	if r.status != 200 || tok == "" || auth["lease_duration"].(float64) != 3600 {
		t.Fatalf("create token: %d %s", r.status, r.raw)
	}
	call(t, s, "POST", "/v1/secret/data/team/db", root, `{"data":{"p":"1"}}`)
	checks := []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/v1/secret/data/team/db", "", 200},
		{"POST", "/v1/secret/data/team/db", `{"data":{"p":"2"}}`, 403},
		{"GET", "/v1/secret/data/other", "", 403},
		{"GET", "/v1/sys/metrics", "", 200},
		{"GET", "/v1/auth/token/lookup-self", "", 200},
		{"POST", "/v1/auth/token/create", `{"policies":["root"]}`, 403},
	}
	for _, c := range checks {
		if r := call(t, s, c.method, c.path, tok, c.body); r.status != c.status {
			t.Errorf("%s %s with limited token: %d, want %d (%s)", c.method, c.path, r.status, c.status, r.raw)
		}
	}
	if r := call(t, s, "POST", "/v1/auth/token/revoke", root, `{"token":"`+tok+`"}`); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "GET", "/v1/secret/data/team/db", tok, ""); r.status != 403 {
		t.Fatalf("revoked token still works: %d", r.status)
	}
	if r := call(t, s, "DELETE", "/v1/sys/policies/acl/root", root, ""); r.status != 400 {
		t.Fatalf("delete root policy: %d %s", r.status, r.raw)
	}
}

func TestCubbyhole(t *testing.T) {
	s := testserver.Start(t)
	newToken := func() string {
		r := call(t, s, "POST", "/v1/auth/token/create", s.RootToken, `{"policies":["default"]}`)
		return r.body["auth"].(map[string]any)["client_token"].(string)
	}
	a, b := newToken(), newToken()
	steps := []struct {
		name, method, path, tok, body string
		status                        int
	}{
		{"write own", "POST", "/v1/cubbyhole/note", a, `{"pin":"1234"}`, 204},
		{"read own", "GET", "/v1/cubbyhole/note", a, "", 200},
		{"other token", "GET", "/v1/cubbyhole/note", b, "", 404},
		{"root cannot read", "GET", "/v1/cubbyhole/note", s.RootToken, "", 404},
		{"cannot disable", "DELETE", "/v1/sys/mounts/cubbyhole", s.RootToken, "", 400},
		{"cannot mount another", "POST", "/v1/sys/mounts/cubby2", s.RootToken, `{"type":"cubbyhole"}`, 400},
		{"revoke a", "POST", "/v1/auth/token/revoke-self", a, "", 204},
	}
	for _, st := range steps {
		if r := call(t, s, st.method, st.path, st.tok, st.body); r.status != st.status {
			t.Fatalf("%s: %d %s", st.name, r.status, r.raw)
		}
	}
	// a's cubbyhole is gone with a: nothing is left under its accessor
	if r := call(t, s, "LIST", "/v1/cubbyhole/", b, ""); r.status != 404 {
		t.Fatalf("b's cubbyhole not empty: %d %s", r.status, r.raw)
	}
}
