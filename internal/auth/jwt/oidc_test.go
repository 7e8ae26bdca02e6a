package jwt

import (
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

const (
	cliRedirect = "http://localhost:8250/oidc/callback"
	uiRedirect  = "https://kinko.example.com/ui/vault/auth/oidc/oidc/callback"
)

// oidcEnv is a backend configured as a client of a test provider, with an
// OIDC role "people" (the default role). before, when set, adjusts the
// provider before the config write fetches its discovery document.
func oidcEnv(t *testing.T, before func(*OIDCProvider), cfg ...any) (*env, *OIDCProvider) {
	t.Helper()
	e := newEnv(t)
	p := NewOIDCProvider(t, e.clock.Now)
	if before != nil {
		before(p)
	}
	e.ok(logical.UpdateOperation, "config", with(map[string]any{"oidc_discovery_url": p.URL, "oidc_client_id": p.ClientID,
		"oidc_client_secret": p.ClientSecret, "default_role": "people"}, cfg...))
	e.ok(logical.CreateOperation, "role/people", map[string]any{
		"role_type": "oidc", "allowed_redirect_uris": []any{cliRedirect, uiRedirect},
		"user_claim": "email", "groups_claim": "/realm/groups", "oidc_scopes": "email,profile,openid",
		"bound_claims": map[string]any{"email_verified": true}, "claim_mappings": map[string]any{"name": "name"},
		"token_policies": "people", "token_ttl": "1h",
	})
	return e, p
}

// person is the claims of a user at the provider.
func person() map[string]any {
	return map[string]any{"email": "ada@example.com", "email_verified": true, "name": "Ada",
		"realm": map[string]any{"groups": []any{"eng", "ops", "eng"}}}
}

// authURL asks oidc/auth_url and returns the URL.
func (e *env) authURL(data map[string]any) string {
	e.t.Helper()
	u, _ := e.ok(logical.UpdateOperation, "oidc/auth_url", data).Data["auth_url"].(string)
	if u == "" {
		e.t.Fatalf("auth_url: empty")
	}
	return u
}

// startLogin runs auth_url for the CLI redirect with client nonce "cn",
// has the provider authorise it with claims, and returns the callback's
// data.
func (e *env) startLogin(p *OIDCProvider, claims map[string]any) map[string]any {
	e.t.Helper()
	state, code := p.Authorize(e.authURL(map[string]any{"redirect_uri": cliRedirect, "client_nonce": "cn"}), claims)
	return map[string]any{"state": state, "code": code, "client_nonce": "cn"}
}

func TestOIDCLogin(t *testing.T) {
	e, p := oidcEnv(t, nil)
	u, err := url.Parse(e.authURL(map[string]any{"role": "People", "redirect_uri": cliRedirect, "client_nonce": "cn"}))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{"client_id": p.ClientID, "redirect_uri": cliRedirect, "response_type": "code",
		"scope": "openid email profile", "code_challenge_method": "S256", "tenant": "t1", "response_mode": "", "max_age": ""}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("auth_url %s = %q, want %q", k, q.Get(k), v)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) != 43 {
			t.Errorf("auth_url %s = %q, want 43 base64url characters", k, q.Get(k))
		}
	}
	state, code := p.Authorize(u.String(), person())
	data := map[string]any{"state": state, "code": code, "client_nonce": "cn", "nonce": q.Get("nonce")}
	resp := e.ok(logical.ReadOperation, "oidc/callback", data)
	a := resp.Auth
	if a == nil || a.ClientToken != "" {
		t.Fatalf("callback: auth %+v", a)
	}
	if a.Alias.Name != "ada@example.com" || a.DisplayName != "ada@example.com" || !mapsEqual(a.Alias.Metadata, map[string]string{"name": "Ada"}) {
		t.Errorf("alias %+v display %q", a.Alias, a.DisplayName)
	}
	if !mapsEqual(a.Metadata, map[string]string{"name": "Ada", "role": "people"}) || !slices.Equal(a.Policies, []string{"people"}) ||
		a.TTL != time.Hour {
		t.Errorf("metadata %v policies %v ttl %v", a.Metadata, a.Policies, a.TTL)
	}
	if got := aliasNames(a.GroupAliases); !slices.Equal(got, []string{"eng", "ops"}) {
		t.Errorf("group aliases %v", got)
	}
	if a.InternalData["role"] != "people" || !slices.Equal(a.InternalData["groups"].([]string), []string{"eng", "ops", "eng"}) {
		t.Errorf("internal data %v", a.InternalData)
	}
	if n := p.Exchanges.Load(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	// A state works once.
	e.fail(logical.ReadOperation, "oidc/callback", data, logical.ErrInvalidRequest, "expired or missing OAuth state")
	if n := e.b.pending.size(); n != 0 {
		t.Errorf("%d pending logins left", n)
	}
}

func aliasNames(as []*logical.Alias) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

// refusal is a callback that must fail.
type refusal struct {
	name   string
	claims map[string]any            // changes to person()
	data   map[string]any            // changes to the callback data (nil deletes)
	setup  func(*env, *OIDCProvider) // after authorisation, before the callback
	kind   error                     // nil: ErrInvalidRequest
	msg    string
}

func callbackRefusals(t *testing.T) []refusal {
	other := newRSA(t, "")
	minutes := func(m int) int64 { return testNow.Add(time.Duration(m) * time.Minute).Unix() }
	return []refusal{
		{"wrong state", nil, map[string]any{"state": "not-a-state"}, nil, nil, "expired or missing OAuth state"},
		{"no state", nil, map[string]any{"state": nil}, nil, nil, "expired or missing OAuth state"},
		{"expired state", nil, nil, func(e *env, _ *OIDCProvider) { e.clock.Advance(pendingTTL) }, nil, "expired or missing OAuth state"},
		{"client_nonce mismatch", nil, map[string]any{"client_nonce": "other"}, nil, nil, "invalid client_nonce"},
		{"client_nonce missing", nil, map[string]any{"client_nonce": nil}, nil, nil, "invalid client_nonce"},
		{"nonce parameter mismatch", nil, map[string]any{"nonce": "other"}, nil, nil, "invalid nonce"},
		{"ID token nonce mismatch", map[string]any{"nonce": "forged"}, nil, nil, nil, "nonce does not match"},
		{"ID token without nonce", map[string]any{"nonce": nil}, nil, nil, nil, "nonce does not match"},
		{"wrong audience", map[string]any{"aud": "other-client"}, nil, nil, nil, "invalid audience claim (aud)"},
		{"azp of another client", map[string]any{"aud": []any{"kinko-client", "x"}, "azp": "x"}, nil, nil, nil, "authorized party (azp)"},
		{"wrong issuer", map[string]any{"iss": "https://evil.example.com"}, nil, nil, nil, "invalid issuer claim (iss)"},
		{"expired ID token", map[string]any{"iat": minutes(-10), "exp": minutes(-5)}, nil, nil, nil, "token is expired (exp)"},
		{"ID token without exp", map[string]any{"exp": nil}, nil, nil, nil, "no expiration time (exp)"},
		{"ID token from the future", map[string]any{"iat": minutes(5), "exp": minutes(10)}, nil, nil, nil, "issued in the future"},
		{"bound claim mismatch", map[string]any{"email_verified": false}, nil, nil, nil, `claim "email_verified" does not match`},
		{"missing user claim", map[string]any{"email": nil}, nil, nil, nil, `claim "email" not found in token`},
		{"groups not strings", map[string]any{"realm": map[string]any{"groups": []any{1, 2}}}, nil, nil, nil, "not a string or a list of strings"},
		{"missing groups claim", map[string]any{"realm": nil}, nil, nil, nil, `"/realm/groups" claim not found`},
		{"no code", nil, map[string]any{"code": nil}, nil, nil, "no code or id_token received"},
		{"unknown code", nil, map[string]any{"code": "bogus"}, nil, nil, "invalid_grant (unknown or used code)"},
		{"token endpoint error", nil, nil, func(_ *env, p *OIDCProvider) {
			p.FailTokens(400, `{"error":"invalid_grant","error_description":"code expired\u0007\n"}`)
		}, nil, "error exchanging oidc code: the provider's token endpoint answered HTTP 400: invalid_grant (code expired)"},
		{"token endpoint failure", nil, nil, func(_ *env, p *OIDCProvider) { p.FailTokens(502, "<html>bad gateway</html>") },
			nil, "token endpoint answered HTTP 502"},
		{"token endpoint redirect", nil, nil, func(_ *env, p *OIDCProvider) { p.FailTokens(307, "") }, nil, "answered HTTP 307"},
		{"no id_token", nil, nil, func(_ *env, p *OIDCProvider) { p.FailTokens(200, `{"access_token":"x","token_type":"Bearer"}`) },
			nil, "has no id_token"},
		{"token endpoint down", nil, nil, func(_ *env, p *OIDCProvider) { p.Close() }, nil, "token endpoint could not be reached"},
		{"signed by another key", nil, nil, func(_ *env, p *OIDCProvider) { p.forgeWith(other) }, nil,
			"no known key successfully validated the token signature"},
		{"role deleted", nil, nil, func(e *env, _ *OIDCProvider) { e.ok(logical.DeleteOperation, "role/people", nil) }, nil,
			`role "people" could not be found`},
		{"role now a JWT role", nil, nil, func(e *env, _ *OIDCProvider) {
			e.ok(logical.UpdateOperation, "role/people", map[string]any{"role_type": "jwt"})
		}, nil, "is not an OIDC role"},
		{"outside bound CIDRs", nil, nil, func(e *env, _ *OIDCProvider) {
			e.ok(logical.UpdateOperation, "role/people", map[string]any{"token_bound_cidrs": "10.0.0.0/8"})
		}, logical.ErrPermissionDenied, "permission denied"},
		{"subject not bound", nil, nil, func(e *env, _ *OIDCProvider) {
			e.ok(logical.UpdateOperation, "role/people", map[string]any{"bound_subject": "user-7"})
		}, nil, "invalid subject claim (sub)"},
		{"audience not bound", nil, nil, func(e *env, _ *OIDCProvider) {
			e.ok(logical.UpdateOperation, "role/people", map[string]any{"bound_audiences": "api://other"})
		}, nil, "aud claim does not match any bound audience"},
		{"bound issuer", nil, nil, func(e *env, p *OIDCProvider) {
			e.ok(logical.UpdateOperation, "config", map[string]any{"oidc_discovery_url": p.URL, "oidc_client_id": p.ClientID,
				"oidc_client_secret": p.ClientSecret, "bound_issuer": "https://elsewhere.example.com"})
		}, nil, "invalid issuer claim (iss)"},
	}
}

func TestOIDCCallbackRefused(t *testing.T) {
	for _, tc := range callbackRefusals(t) {
		t.Run(tc.name, func(t *testing.T) {
			e, p := oidcEnv(t, nil)
			claims := person()
			for k, v := range tc.claims {
				claims[k] = v // nil deletes the claim in Authorize
			}
			data := e.startLogin(p, claims)
			for k, v := range tc.data {
				data = with(data, k, v)
			}
			if tc.setup != nil {
				tc.setup(e, p)
			}
			kind := tc.kind
			if kind == nil {
				kind = logical.ErrInvalidRequest
			}
			e.fail(logical.ReadOperation, "oidc/callback", data, kind, tc.msg)
			if _, ok := tc.data["state"]; !ok && e.b.pending.size() != 0 {
				t.Errorf("a refused callback left its state")
			}
		})
	}
}

func TestOIDCAuthURLRefused(t *testing.T) {
	e, _ := oidcEnv(t, nil)
	e.ok(logical.CreateOperation, "role/ci", map[string]any{"role_type": "jwt", "bound_subject": "x"})
	long := make([]byte, maxClientNonce+1)
	for i := range long {
		long[i] = 'n'
	}
	tests := []struct {
		name string
		data map[string]any
		msg  string
	}{
		{"missing redirect_uri", map[string]any{}, "missing redirect_uri"},
		{"redirect_uri not allowed", map[string]any{"redirect_uri": "https://evil.example.com/cb"}, `redirect_uri "https://evil.example.com/cb" is not allowed for role "people"`},
		{"redirect_uri with a slash more", map[string]any{"redirect_uri": cliRedirect + "/"}, "is not allowed"},
		{"redirect_uri on another loopback name", map[string]any{"redirect_uri": "http://127.0.0.1:8250/oidc/callback"}, "is not allowed"},
		{"unknown role", map[string]any{"role": "nope", "redirect_uri": cliRedirect}, `role "nope" could not be found`},
		{"JWT role", map[string]any{"role": "ci", "redirect_uri": cliRedirect}, `role "ci" is not an OIDC role`},
		{"client_nonce too long", map[string]any{"redirect_uri": cliRedirect, "client_nonce": string(long)}, "client_nonce is longer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.fail(logical.UpdateOperation, "oidc/auth_url", tc.data, logical.ErrInvalidRequest, tc.msg)
		})
	}
	if n := e.b.pending.size(); n != 0 {
		t.Errorf("refused auth_url requests left %d states", n)
	}
	// A mount verifying JWTs with PEM keys has no OIDC client.
	j := newEnv(t)
	j.ok(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": newEC(t, "").pubPEM(t)})
	j.fail(logical.UpdateOperation, "oidc/auth_url", map[string]any{"redirect_uri": cliRedirect}, logical.ErrInvalidRequest,
		"OIDC login is not configured")
	j.fail(logical.ReadOperation, "oidc/callback", map[string]any{"state": "x"}, logical.ErrInvalidRequest, "expired or missing OAuth state")
}

func TestOIDCRoleRefusesJWTLogin(t *testing.T) {
	e, p := oidcEnv(t, nil)
	tok := p.SignIDToken(with(person(), "iss", p.URL, "aud", p.ClientID, "sub", "u", "exp", testNow.Add(time.Minute).Unix()))
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "people", "jwt": tok}, logical.ErrInvalidRequest,
		"role with oidc role_type is not allowed")
	e.fail(logical.UpdateOperation, "login", map[string]any{"jwt": tok}, logical.ErrInvalidRequest, "role with oidc role_type is not allowed")
}

func TestOIDCRoleReadBack(t *testing.T) {
	e, _ := oidcEnv(t, nil)
	resp := e.ok(logical.UpdateOperation, "role/people", map[string]any{"max_age": "10m", "verbose_oidc_logging": true})
	if resp == nil || len(resp.Warnings) != 1 {
		t.Errorf("verbose_oidc_logging gave no warning: %+v", resp)
	}
	got := e.ok(logical.ReadOperation, "role/people", nil).Data
	want := map[string]any{"role_type": "oidc", "allowed_redirect_uris": []string{cliRedirect, uiRedirect},
		"oidc_scopes": []string{"email", "profile", "openid"}, "verbose_oidc_logging": false, "max_age": int64(600),
		"groups_claim": "/realm/groups", "user_claim": "email"}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}
