package jwt_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/auth/jwt"
)

// TestE2EOIDCBrowserLogin drives the OIDC authorization-code flow over
// HTTP with the official Vault client, as Vault's CLI does it headless:
// auth_url, the provider's authorisation (played by the test), then the
// callback, whose token reads what its policy allows.
func TestE2EOIDCBrowserLogin(t *testing.T) {
	const redirect = "http://localhost:8250/oidc/callback"
	e := newE2E(t)
	p := jwt.NewOIDCProvider(t, time.Now)
	e.enable("oidc", "oidc")
	e.write("auth/oidc/config", map[string]any{"oidc_discovery_url": p.URL, "oidc_client_id": p.ClientID,
		"oidc_client_secret": p.ClientSecret, "default_role": "people"})
	e.write("auth/oidc/role/people", map[string]any{"allowed_redirect_uris": redirect, "user_claim": "email",
		"groups_claim": "groups", "oidc_scopes": "email", "token_policies": "reader", "token_ttl": "1h"})
	cfg, err := e.admin.Logical().Read("auth/oidc/config")
	if err != nil || cfg.Data["oidc_client_id"] != p.ClientID || cfg.Data["oidc_client_secret"] != nil {
		t.Fatalf("config read: %v %v", cfg, err)
	}

	c := client(t, e.srv.Addr, "")
	c.ClearToken()
	s, err := c.Logical().Write("auth/oidc/oidc/auth_url", map[string]any{"redirect_uri": redirect, "client_nonce": "cli-nonce"})
	if err != nil {
		t.Fatalf("auth_url: %v", err)
	}
	authURL, _ := s.Data["auth_url"].(string)
	state, code := p.Authorize(authURL, map[string]any{"email": "ada@example.com", "groups": []any{"eng"}})
	callback := map[string][]string{"state": {state}, "code": {code}, "client_nonce": {"cli-nonce"}}
	s, err = c.Logical().ReadWithData("auth/oidc/oidc/callback", callback)
	if err != nil {
		t.Fatalf("callback: %v", err)
	}
	if s.Auth == nil || s.Auth.ClientToken == "" || s.Auth.LeaseDuration != 3600 || s.Auth.Metadata["role"] != "people" {
		t.Fatalf("callback auth %+v", s.Auth)
	}
	c.SetToken(s.Auth.ClientToken)
	ctx := context.Background()
	if got, err := c.KVv2("secret").Get(ctx, "allowed"); err != nil || got.Data["v"] != "allowed" {
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
	// Vault names it "oidc-ada@example.com" (mount path and user); core
	// derives the prefix from the login path, so only the ends are checked.
	dn, _ := self.Data["display_name"].(string)
	if !slices.Equal(pols, []string{"default", "reader"}) || !strings.HasPrefix(dn, "oidc-") || !strings.HasSuffix(dn, "-ada@example.com") {
		t.Errorf("policies %v display_name %v", pols, self.Data["display_name"])
	}

	anon := client(t, e.srv.Addr, "")
	anon.ClearToken()
	_, err = anon.Logical().ReadWithData("auth/oidc/oidc/callback", callback)
	wantStatus(t, err, http.StatusBadRequest, "expired or missing OAuth state")
	_, err = anon.Logical().Write("auth/oidc/oidc/auth_url", map[string]any{"redirect_uri": "http://localhost:9999/cb"})
	wantStatus(t, err, http.StatusBadRequest, "is not allowed for role")
	_, err = anon.Logical().Write("auth/oidc/login", map[string]any{"role": "people", "jwt": "a.b.c"})
	wantStatus(t, err, http.StatusBadRequest, "role with oidc role_type is not allowed")
}

// TestE2EOIDCTokenEndpointError shows a provider's refusal to the client.
func TestE2EOIDCTokenEndpointError(t *testing.T) {
	const redirect = "https://kinko.example.com/ui/vault/auth/jwt/oidc/callback"
	e := newE2E(t)
	p := jwt.NewOIDCProvider(t, time.Now)
	e.enable("jwt", "jwt")
	e.write("auth/jwt/config", map[string]any{"oidc_discovery_url": p.URL, "oidc_client_id": p.ClientID,
		"oidc_client_secret": p.ClientSecret})
	e.write("auth/jwt/role/people", map[string]any{"role_type": "oidc", "allowed_redirect_uris": redirect, "token_policies": "reader"})
	c := client(t, e.srv.Addr, "")
	c.ClearToken()
	s, err := c.Logical().Write("auth/jwt/oidc/auth_url", map[string]any{"role": "people", "redirect_uri": redirect})
	if err != nil {
		t.Fatal(err)
	}
	state, code := p.Authorize(s.Data["auth_url"].(string), nil)
	p.FailTokens(http.StatusBadRequest, `{"error":"invalid_grant","error_description":"the code has expired"}`)
	s, err = c.Logical().ReadWithData("auth/jwt/oidc/callback", map[string][]string{"state": {state}, "code": {code}})
	wantStatus(t, err, http.StatusBadRequest, "error exchanging oidc code: the provider's token endpoint answered HTTP 400: invalid_grant (the code has expired)")
	if s != nil || c.Token() != "" {
		t.Errorf("refused login left %+v %q", s, c.Token())
	}
}
