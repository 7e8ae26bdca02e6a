package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/kinko-dev/kinko/internal/identity"
	"github.com/kinko-dev/kinko/internal/server"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// loginEnv is a server with an audit log, userpass, approle, jwt and TOTP
// MFA set up, driven over plain HTTP.
type loginEnv struct {
	t       *testing.T
	ts      *testserver.Server
	logPath string
	key     *ecdsa.PrivateKey
}

type httpResult struct {
	status int
	body   map[string]any
}

func (e *loginEnv) call(method, path, token string, body any) httpResult {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, e.ts.Addr+"/v1/"+path, rd)
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return httpResult{resp.StatusCode, out}
}

func (e *loginEnv) admin(method, path string, body any) map[string]any {
	e.t.Helper()
	r := e.call(method, path, e.ts.RootToken, body)
	if r.status >= 300 {
		e.t.Fatalf("%s %s: %d %v", method, path, r.status, r.body)
	}
	return r.body
}

func (e *loginEnv) jwt(mutate func(c *josejwt.Claims), alg jose.SignatureAlgorithm, key any) string {
	e.t.Helper()
	now := time.Now()
	c := josejwt.Claims{Issuer: "https://ci.example", Subject: "repo:acme/app", Audience: josejwt.Audience{"kinko"},
		IssuedAt: josejwt.NewNumericDate(now), NotBefore: josejwt.NewNumericDate(now.Add(-time.Minute)), Expiry: josejwt.NewNumericDate(now.Add(5 * time.Minute))}
	if mutate != nil {
		mutate(&c)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := josejwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func newLoginEnv(t *testing.T) *loginEnv {
	dir := t.TempDir()
	e := &loginEnv{t: t, ts: testserver.StartWith(t, server.DevOptions{AuditDir: dir}), logPath: dir + "/audit.log"}
	e.admin("PUT", "sys/audit/file", map[string]any{"type": "file", "options": map[string]any{"file_path": e.logPath}})
	for _, m := range []string{"userpass", "approle", "jwt"} {
		e.admin("POST", "sys/auth/"+m, map[string]any{"type": m})
	}
	e.admin("PUT", "auth/userpass/users/erin", map[string]any{"password": "pw-erin-123"})
	e.admin("PUT", "auth/approle/role/once", map[string]any{"secret_id_num_uses": 1})
	e.admin("PUT", "auth/approle/role/office", map[string]any{"secret_id_bound_cidrs": "10.0.0.0/8"})
	var err error
	if e.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&e.key.PublicKey)
	e.admin("POST", "auth/jwt/config", map[string]any{"jwt_validation_pubkeys": []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))},
		"bound_issuer": "https://ci.example"})
	e.admin("POST", "auth/jwt/role/ci", map[string]any{"role_type": "jwt", "bound_audiences": []string{"kinko"}, "user_claim": "sub", "token_policies": "default"})
	return e
}

func (e *loginEnv) secretID(role string) (string, string) {
	roleID := e.admin("GET", "auth/approle/role/"+role+"/role-id", nil)["data"].(map[string]any)["role_id"].(string)
	sid := e.admin("POST", "auth/approle/role/"+role+"/secret-id", nil)["data"].(map[string]any)["secret_id"].(string)
	return roleID, sid
}

// auditErrors counts the response entries with an error for path.
func (e *loginEnv) auditErrors(path string) int {
	log, _ := os.ReadFile(e.logPath)
	n := 0
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, `"type":"response"`) && strings.Contains(line, `"path":"`+path+`"`) && strings.Contains(line, `"error":"`) {
			n++
		}
	}
	return n
}

// TestRefusedLoginsAreAudited is issue 3's negative acceptance: every
// refused login answers 400 or 403, carries no token, and leaves an audit
// entry with its error.
func TestRefusedLoginsAreAudited(t *testing.T) {
	e := newLoginEnv(t)
	onceRole, onceSID := e.secretID("once")
	if r := e.call("POST", "auth/approle/login", "", map[string]any{"role_id": onceRole, "secret_id": onceSID}); r.status != 200 {
		t.Fatalf("first approle login: %d %v", r.status, r.body)
	}
	officeRole, officeSID := e.secretID("office")
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := []struct {
		name, path string
		body       map[string]any
	}{
		{"wrong password", "auth/userpass/login/erin", map[string]any{"password": "wrong"}},
		{"unknown user", "auth/userpass/login/nobody", map[string]any{"password": "pw-erin-123"}},
		{"used-up secret_id", "auth/approle/login", map[string]any{"role_id": onceRole, "secret_id": onceSID}},
		{"secret_id CIDR mismatch", "auth/approle/login", map[string]any{"role_id": officeRole, "secret_id": officeSID}},
		{"unknown role_id", "auth/approle/login", map[string]any{"role_id": "no-such-role", "secret_id": officeSID}},
		{"jwt wrong audience", "auth/jwt/login", map[string]any{"role": "ci", "jwt": e.jwt(func(c *josejwt.Claims) { c.Audience = josejwt.Audience{"other"} }, jose.ES256, e.key)}},
		{"jwt wrong issuer", "auth/jwt/login", map[string]any{"role": "ci", "jwt": e.jwt(func(c *josejwt.Claims) { c.Issuer = "https://evil.example" }, jose.ES256, e.key)}},
		{"jwt expired", "auth/jwt/login", map[string]any{"role": "ci", "jwt": e.jwt(func(c *josejwt.Claims) {
			c.Expiry = josejwt.NewNumericDate(time.Now().Add(-time.Hour))
		}, jose.ES256, e.key)}},
		{"jwt bad signature", "auth/jwt/login", map[string]any{"role": "ci", "jwt": e.jwt(nil, jose.ES256, otherKey)}},
		{"jwt alg none", "auth/jwt/login", map[string]any{"role": "ci", "jwt": algNone(e.jwt(nil, jose.ES256, e.key))}},
		{"jwt unknown role", "auth/jwt/login", map[string]any{"role": "nope", "jwt": e.jwt(nil, jose.ES256, e.key)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.auditErrors(tc.path)
			r := e.call("POST", tc.path, "", tc.body)
			if r.status != 400 && r.status != 403 {
				t.Fatalf("status %d: %v", r.status, r.body)
			}
			if auth, _ := r.body["auth"].(map[string]any); auth != nil && auth["client_token"] != "" {
				t.Fatalf("a refused login returned a token: %v", r.body)
			}
			if e.auditErrors(tc.path) != before+1 {
				t.Fatal("no audit entry for the refused login")
			}
		})
	}
	t.Run("totp replay", func(t *testing.T) { totpReplay(t, e) })
}

// algNone rewrites a token's header to alg "none" and drops its signature.
func algNone(tok string) string {
	parts := strings.Split(tok, ".")
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
}

func totpReplay(t *testing.T, e *loginEnv) {
	login := func() string {
		r := e.call("POST", "auth/userpass/login/erin", "", map[string]any{"password": "pw-erin-123"})
		auth := r.body["auth"].(map[string]any)
		if req, ok := auth["mfa_requirement"].(map[string]any); ok && req != nil {
			return req["mfa_request_id"].(string)
		}
		return auth["entity_id"].(string)
	}
	entity := login()
	method := e.admin("POST", "identity/mfa/method/totp", map[string]any{"issuer": "kinko", "period": 30, "digits": 6})["data"].(map[string]any)["method_id"].(string)
	gen := e.admin("POST", "identity/mfa/method/totp/admin-generate", map[string]any{"method_id": method, "entity_id": entity})
	u, _ := url.Parse(gen["data"].(map[string]any)["url"].(string))
	key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	e.admin("POST", "identity/mfa/login-enforcement/erin", map[string]any{"mfa_method_ids": []string{method}, "auth_method_types": []string{"userpass"}})
	code, _ := identity.TOTPCode(key, time.Now(), 30*time.Second, 6, "SHA1")
	validate := func(id string) httpResult {
		return e.call("POST", "sys/mfa/validate", "", map[string]any{"mfa_request_id": id, "mfa_payload": map[string]any{method: []string{code}}})
	}
	if r := validate(login()); r.status != 200 {
		t.Fatalf("first validation: %d %v", r.status, r.body)
	}
	before := e.auditErrors("sys/mfa/validate")
	r := validate(login())
	if r.status != 403 {
		t.Fatalf("replayed TOTP code: %d %v", r.status, r.body)
	}
	if auth, _ := r.body["auth"].(map[string]any); auth != nil && auth["client_token"] != "" {
		t.Fatal("a replayed code returned a token")
	}
	if e.auditErrors("sys/mfa/validate") != before+1 {
		t.Fatal("no audit entry for the replayed code")
	}
}

// TestJWTRenewGoesToRole: a JWT login token renews while its role exists
// and is refused once the role is deleted.
func TestJWTRenewGoesToRole(t *testing.T) {
	e := newLoginEnv(t)
	r := e.call("POST", "auth/jwt/login", "", map[string]any{"role": "ci", "jwt": e.jwt(nil, jose.ES256, e.key)})
	if r.status != 200 {
		t.Fatalf("login: %d %v", r.status, r.body)
	}
	tok := r.body["auth"].(map[string]any)["client_token"].(string)
	if r := e.call("POST", "auth/token/renew-self", tok, map[string]any{"increment": "1h"}); r.status != 200 {
		t.Fatalf("renew: %d %v", r.status, r.body)
	}
	e.admin("DELETE", "auth/jwt/role/ci", nil)
	if r := e.call("POST", "auth/token/renew-self", tok, nil); r.status != 400 || !strings.Contains(fmtErrors(r.body), "does not exist") {
		t.Fatalf("renew after the role was deleted: %d %v", r.status, r.body)
	}
}

func fmtErrors(body map[string]any) string {
	b, _ := json.Marshal(body["errors"])
	return string(b)
}
