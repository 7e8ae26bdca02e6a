package httpapi_test

import (
	"encoding/base32"
	"net/url"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/identity"
	"github.com/kinko-dev/kinko/internal/testserver"
)

func TestLoginMFATOTP(t *testing.T) {
	s := testserver.Start(t)
	root := s.RootToken
	for _, st := range []struct{ method, path, body string }{
		{"POST", "/v1/sys/auth/userpass", `{"type":"userpass"}`},
		{"PUT", "/v1/auth/userpass/users/erin", `{"password":"pw-erin-123"}`},
	} {
		if r := call(t, s, st.method, st.path, root, st.body); r.status >= 300 {
			t.Fatalf("%s: %d %s", st.path, r.status, r.raw)
		}
	}
	login := func() result {
		return call(t, s, "POST", "/v1/auth/userpass/login/erin", "", `{"password":"pw-erin-123"}`)
	}
	entity := login().body["auth"].(map[string]any)["entity_id"].(string)
	m := call(t, s, "POST", "/v1/identity/mfa/method/totp", root, `{"issuer":"kinko","period":30,"digits":6}`)
	methodID, _ := m.body["data"].(map[string]any)["method_id"].(string)
	if methodID == "" {
		t.Fatalf("create method: %s", m.raw)
	}
	g := call(t, s, "POST", "/v1/identity/mfa/method/totp/admin-generate", root, `{"method_id":"`+methodID+`","entity_id":"`+entity+`"}`)
	u, err := url.Parse(g.body["data"].(map[string]any)["url"].(string))
	if err != nil {
		t.Fatalf("otpauth url: %s", g.raw)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if r := call(t, s, "POST", "/v1/identity/mfa/login-enforcement/all-userpass", root, `{"mfa_method_ids":["`+methodID+`"],"auth_method_types":["userpass"]}`); r.status != 204 {
		t.Fatalf("enforcement: %d %s", r.status, r.raw)
	}

	first := login()
	auth := first.body["auth"].(map[string]any)
	req, _ := auth["mfa_requirement"].(map[string]any)
	if auth["client_token"] != "" || req == nil {
		t.Fatalf("login under MFA returned a token or no requirement: %s", first.raw)
	}
	reqID := req["mfa_request_id"].(string)
	validate := func(id, code string) result {
		return call(t, s, "POST", "/v1/sys/mfa/validate", "", `{"mfa_request_id":"`+id+`","mfa_payload":{"`+methodID+`":["`+code+`"]}}`)
	}
	if r := validate(reqID, "000000"); r.status != 403 {
		t.Fatalf("wrong code: %d %s", r.status, r.raw)
	}
	code, _ := identity.TOTPCode(key, time.Now(), 30*time.Second, 6, "SHA1")
	ok := validate(reqID, code)
	tok, _ := ok.body["auth"].(map[string]any)["client_token"].(string)
	if ok.status != 200 || tok == "" {
		t.Fatalf("validate: %d %s", ok.status, ok.raw)
	}
	if r := call(t, s, "GET", "/v1/auth/token/lookup-self", tok, ""); r.status != 200 {
		t.Fatalf("token after MFA: %d", r.status)
	}
	// the request is spent, and the same code cannot be replayed on a new login
	if r := validate(reqID, code); r.status != 400 {
		t.Fatalf("reused request id: %d %s", r.status, r.raw)
	}
	again := login().body["auth"].(map[string]any)["mfa_requirement"].(map[string]any)["mfa_request_id"].(string)
	if r := validate(again, code); r.status != 403 {
		t.Fatalf("replayed code: %d %s", r.status, r.raw)
	}
}
