package jwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// e2e is a running server with a "reader" policy and two KV v2 secrets,
// driven through the official Vault client.
type e2e struct {
	t     *testing.T
	srv   *testserver.Server
	admin *vault.Client
	key   *ecdsa.PrivateKey
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	srv := testserver.Start(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, srv: srv, admin: client(t, srv.Addr, srv.RootToken), key: key}
	ctx := context.Background()
	if err := e.admin.Sys().PutPolicyWithContext(ctx, "reader", `path "secret/data/allowed" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"allowed", "denied"} {
		if _, err := e.admin.KVv2("secret").Put(ctx, p, map[string]any{"v": p}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func client(t testing.TB, addr, token string) *vault.Client {
	t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

func (e *e2e) enable(path, typ string) {
	e.t.Helper()
	if err := e.admin.Sys().EnableAuthWithOptions(path, &vault.EnableAuthOptions{Type: typ}); err != nil {
		e.t.Fatalf("enable %s: %v", typ, err)
	}
}

func (e *e2e) write(path string, data map[string]any) {
	e.t.Helper()
	if _, err := e.admin.Logical().Write(path, data); err != nil {
		e.t.Fatalf("write %s: %v", path, err)
	}
}

func (e *e2e) pubPEM() string {
	der, err := x509.MarshalPKIXPublicKey(&e.key.PublicKey)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func (e *e2e) sign(claims map[string]any, kid string) string {
	e.t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: e.key}, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := josejwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func ghClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": "https://token.actions.githubusercontent.com", "aud": "https://github.com/octo-org",
		"sub": "repo:octo-org/octo-repo:ref:refs/heads/main", "repository": "octo-org/octo-repo",
		"ref": "refs/heads/main", "workflow": "deploy", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
}

// login logs in on a fresh token-less client.
func (e *e2e) login(mount string, data map[string]any) (*vault.Client, *vault.Secret, error) {
	c := client(e.t, e.srv.Addr, "")
	c.ClearToken()
	s, err := c.Logical().Write("auth/"+mount+"/login", data)
	if err == nil && s != nil && s.Auth != nil {
		c.SetToken(s.Auth.ClientToken)
	}
	return c, s, err
}

func wantStatus(t *testing.T, err error, status int, msg string) {
	t.Helper()
	var re *vault.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v, want an HTTP %d", err, status)
	}
	if re.StatusCode != status || (msg != "" && !slices.ContainsFunc(re.Errors, func(s string) bool { return strings.Contains(s, msg) })) {
		t.Fatalf("status %d errors %q, want %d containing %q", re.StatusCode, re.Errors, status, msg)
	}
}

func TestE2EGitHubLoginReadsAllowedSecret(t *testing.T) {
	e := newE2E(t)
	e.enable("jwt", "jwt")
	e.write("auth/jwt/config", map[string]any{"jwt_validation_pubkeys": []string{e.pubPEM()},
		"bound_issuer": "https://token.actions.githubusercontent.com"})
	e.write("auth/jwt/role/deploy", map[string]any{
		"role_type": "jwt", "bound_audiences": []string{"https://github.com/octo-org"},
		"bound_claims_type": "glob", "bound_claims": map[string]any{"sub": "repo:octo-org/*:ref:refs/heads/main"},
		"user_claim": "repository", "claim_mappings": map[string]any{"workflow": "workflow"},
		"token_policies": []string{"reader"}, "token_ttl": "1h",
	})
	c, s, err := e.login("jwt", map[string]any{"role": "deploy", "jwt": e.sign(ghClaims(), "")})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if s.Auth.LeaseDuration != 3600 || s.Auth.Metadata["role"] != "deploy" || s.Auth.Metadata["workflow"] != "deploy" {
		t.Errorf("auth = %+v", s.Auth)
	}
	ctx := context.Background()
	got, err := c.KVv2("secret").Get(ctx, "allowed")
	if err != nil || got.Data["v"] != "allowed" {
		t.Fatalf("read allowed: %v %v", got, err)
	}
	_, err = c.KVv2("secret").Get(ctx, "denied")
	wantStatus(t, err, http.StatusForbidden, "permission denied")
	self, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	pols, _ := self.TokenPolicies()
	slices.Sort(pols)
	if !slices.Equal(pols, []string{"default", "reader"}) || self.Data["display_name"] != "jwt-octo-org/octo-repo" {
		t.Errorf("policies %v display_name %v", pols, self.Data["display_name"])
	}
}

func TestE2ELoginRefused(t *testing.T) {
	e := newE2E(t)
	e.enable("jwt", "jwt")
	e.write("auth/jwt/config", map[string]any{"jwt_validation_pubkeys": []string{e.pubPEM()}})
	e.write("auth/jwt/role/deploy", map[string]any{"role_type": "jwt", "bound_audiences": "https://github.com/octo-org",
		"user_claim": "repository", "token_policies": "reader"})
	e.write("auth/jwt/role/far", map[string]any{"role_type": "jwt", "bound_audiences": "https://github.com/octo-org", "token_bound_cidrs": "10.0.0.0/8"})
	good := ghClaims()
	expired := ghClaims()
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	wrongAud := ghClaims()
	wrongAud["aud"] = "someone-else"
	tests := []struct {
		name   string
		data   map[string]any
		status int
		msg    string
	}{
		{"expired", map[string]any{"role": "deploy", "jwt": e.sign(expired, "")}, 400, "token is expired"},
		{"wrong aud", map[string]any{"role": "deploy", "jwt": e.sign(wrongAud, "")}, 400, "aud claim does not match any bound audience"},
		{"unknown role", map[string]any{"role": "nope", "jwt": e.sign(good, "")}, 400, `role "nope" could not be found`},
		{"no token", map[string]any{"role": "deploy"}, 400, "missing token"},
		{"bound CIDRs", map[string]any{"role": "far", "jwt": e.sign(good, "")}, 403, "permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s, err := e.login("jwt", tc.data)
			wantStatus(t, err, tc.status, tc.msg)
			if s != nil || c.Token() != "" {
				t.Errorf("refused login left secret %+v token %q", s, c.Token())
			}
		})
	}
}

// TestE2EOIDCMountWithJWKS mounts the method as type "oidc" and verifies
// tokens with a JWKS served by the test.
func TestE2EOIDCMountWithJWKS(t *testing.T) {
	e := newE2E(t)
	jwk := jose.JSONWebKey{Key: &e.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	}))
	t.Cleanup(srv.Close)
	e.enable("oidc", "oidc")
	e.write("auth/oidc/config", map[string]any{"jwks_url": srv.URL, "default_role": "ci"})
	e.write("auth/oidc/role/ci", map[string]any{"role_type": "jwt", "bound_audiences": "https://github.com/octo-org",
		"token_policies": "reader"})
	c, _, err := e.login("oidc", map[string]any{"jwt": e.sign(ghClaims(), "k1")})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := c.KVv2("secret").Get(context.Background(), "allowed"); err != nil {
		t.Fatal(err)
	}
	roles, err := e.admin.Logical().List("auth/oidc/role")
	if err != nil || len(roles.Data["keys"].([]any)) != 1 {
		t.Fatalf("list roles: %v %v", roles, err)
	}
	_, err = e.admin.Logical().Write("auth/oidc/role/browser", map[string]any{"bound_subject": "x"})
	wantStatus(t, err, 400, "'allowed_redirect_uris' must be set")
}
