package httpapi_test

import (
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// A login links to an identity entity; a group's policies then reach the
// entity's tokens without re-login, and disabling the entity blocks login.
func TestIdentityGroupsGrantPolicies(t *testing.T) {
	s := testserver.Start(t)
	root := s.RootToken
	setup := []struct{ method, path, body string }{
		{"POST", "/v1/sys/auth/userpass", `{"type":"userpass"}`},
		{"PUT", "/v1/auth/userpass/users/dana", `{"password":"pw-dana-123"}`},
		{"PUT", "/v1/sys/policies/acl/ops", `{"policy":"path \"secret/data/ops/*\" { capabilities = [\"read\"] }"}`},
		{"POST", "/v1/secret/data/ops/db", `{"data":{"pw":"x"}}`},
	}
	for _, st := range setup {
		if r := call(t, s, st.method, st.path, root, st.body); r.status >= 300 {
			t.Fatalf("%s %s: %d %s", st.method, st.path, r.status, r.raw)
		}
	}
	r := call(t, s, "POST", "/v1/auth/userpass/login/dana", "", `{"password":"pw-dana-123"}`)
	auth, _ := r.body["auth"].(map[string]any)
	tok, _ := auth["client_token"].(string)
	entity, _ := auth["entity_id"].(string)
	if r.status != 200 || tok == "" || entity == "" {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "GET", "/v1/secret/data/ops/db", tok, ""); r.status != 403 {
		t.Fatalf("before group: %d", r.status)
	}
	if r := call(t, s, "POST", "/v1/identity/group", root, `{"name":"ops-team","policies":["ops"],"member_entity_ids":["`+entity+`"]}`); r.status != 200 {
		t.Fatalf("group: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "GET", "/v1/secret/data/ops/db", tok, ""); r.status != 200 {
		t.Fatalf("after group: %d %s", r.status, r.raw)
	}
	self := call(t, s, "GET", "/v1/auth/token/lookup-self", tok, "")
	if !strings.Contains(self.raw, `"identity_policies":["ops"]`) || !strings.Contains(self.raw, entity) {
		t.Fatalf("lookup-self: %s", self.raw)
	}
	// same user again → same entity
	r2 := call(t, s, "POST", "/v1/auth/userpass/login/dana", "", `{"password":"pw-dana-123"}`)
	if r2.body["auth"].(map[string]any)["entity_id"] != entity {
		t.Fatalf("second login has another entity: %s", r2.raw)
	}
	if r := call(t, s, "POST", "/v1/identity/entity/id/"+entity, root, `{"disabled":true}`); r.status != 204 {
		t.Fatalf("disable: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "POST", "/v1/auth/userpass/login/dana", "", `{"password":"pw-dana-123"}`); r.status != 403 {
		t.Fatalf("disabled entity login: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "GET", "/v1/secret/data/ops/db", tok, ""); r.status != 403 {
		t.Fatalf("disabled entity keeps group policy: %d", r.status)
	}
	if r := call(t, s, "DELETE", "/v1/sys/mounts/identity", root, ""); r.status != 400 {
		t.Fatalf("identity unmount: %d", r.status)
	}
}
