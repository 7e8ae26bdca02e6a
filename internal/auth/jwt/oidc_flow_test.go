package jwt

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestOIDCConfig(t *testing.T) {
	e, p := oidcEnv(t, nil, "oidc_response_mode", "form_post", "oidc_response_types", "code,id_token")
	got := e.ok(logical.ReadOperation, "config", nil).Data
	want := map[string]any{"oidc_discovery_url": p.URL, "oidc_client_id": p.ClientID, "oidc_response_mode": "form_post",
		"oidc_response_types": []string{"code", "id_token"}, "default_role": "people"}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	for k, v := range got {
		if strings.Contains(k, "secret") || v == p.ClientSecret {
			t.Errorf("config read shows the client secret as %q", k)
		}
	}
	plain := newJWKSServer(t, false, sharedRSA(t, "k").jwk()) // discovery without OAuth endpoints
	tests := []struct {
		name string
		data map[string]any
		msg  string
	}{
		{"provider without endpoints", map[string]any{"oidc_discovery_url": plain.URL, "oidc_client_id": "c"},
			"error checking oidc discovery URL: the discovery document's"},
		{"secret without ID", map[string]any{"oidc_discovery_url": p.URL, "oidc_client_secret": "x"}, "both 'oidc_client_id' and 'oidc_client_secret' must be set"},
		{"client without discovery", map[string]any{"jwks_url": p.URL + "/keys", "oidc_client_id": "c"}, "'oidc_discovery_url' must be set for OIDC"},
		{"bad response mode", map[string]any{"oidc_discovery_url": p.URL, "oidc_client_id": "c", "oidc_response_mode": "fragment"}, "invalid response_mode"},
		{"bad response type", map[string]any{"oidc_discovery_url": p.URL, "oidc_client_id": "c", "oidc_response_types": "token"}, "invalid response_type"},
		{"id_token by query", map[string]any{"oidc_discovery_url": p.URL, "oidc_client_id": "c", "oidc_response_types": "id_token"},
			"response_type 'id_token' requires response_mode 'form_post'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.fail(logical.UpdateOperation, "config", tc.data, logical.ErrInvalidRequest, tc.msg)
		})
	}
}

// TestOIDCFormPost plays Vault's CLI in form_post mode: the provider's
// answer is POSTed to the callback, then a GET with the same state
// completes the login.
func TestOIDCFormPost(t *testing.T) {
	e, p := oidcEnv(t, nil, "oidc_response_mode", "form_post", "oidc_response_types", "code,id_token")
	authURL := e.authURL(map[string]any{"redirect_uri": uiRedirect})
	u, _ := url.Parse(authURL)
	if q := u.Query(); q.Get("response_mode") != "form_post" || q.Get("response_type") != "code id_token" {
		t.Fatalf("auth_url query %v", q)
	}
	state, code := p.Authorize(authURL, person())
	resp := e.ok(logical.UpdateOperation, "oidc/callback", map[string]any{"state": state, "code": code})
	if resp.RawStatus != 200 || !strings.HasPrefix(resp.RawContentType, "text/html") || len(resp.Raw) == 0 || resp.Auth != nil {
		t.Fatalf("form_post answer %+v", resp)
	}
	e.fail(logical.UpdateOperation, "oidc/callback", map[string]any{"state": state, "code": "again"}, logical.ErrInvalidRequest,
		"expired or missing OAuth state")
	a := e.ok(logical.ReadOperation, "oidc/callback", map[string]any{"state": state}).Auth
	if a == nil || a.Alias.Name != "ada@example.com" || p.Exchanges.Load() != 1 {
		t.Fatalf("auth %+v after %d exchanges", a, p.Exchanges.Load())
	}

	// Response type id_token: the posted ID token is verified directly.
	authURL = e.authURL(map[string]any{"redirect_uri": uiRedirect})
	u, _ = url.Parse(authURL)
	idTok := p.SignIDToken(with(person(), "iss", p.URL, "aud", p.ClientID, "sub", "u", "nonce", u.Query().Get("nonce"),
		"exp", testNow.Add(time.Minute).Unix()))
	state = u.Query().Get("state")
	e.ok(logical.UpdateOperation, "oidc/callback", map[string]any{"state": state, "id_token": idTok})
	a = e.ok(logical.ReadOperation, "oidc/callback", map[string]any{"state": state}).Auth
	if a == nil || a.Alias.Name != "ada@example.com" || p.Exchanges.Load() != 1 {
		t.Fatalf("implicit login: auth %+v after %d exchanges", a, p.Exchanges.Load())
	}

	e.fail(logical.UpdateOperation, "oidc/callback", map[string]any{"state": "nope", "code": "c"}, logical.ErrInvalidRequest,
		"expired or missing OAuth state")
	e.fail(logical.UpdateOperation, "oidc/callback", map[string]any{"state": state}, logical.ErrInvalidRequest,
		"no code or id_token received")
}

func TestOIDCImplicitNeedsResponseType(t *testing.T) {
	e, p := oidcEnv(t, nil, "oidc_response_mode", "form_post")
	authURL := e.authURL(map[string]any{"redirect_uri": uiRedirect})
	u, _ := url.Parse(authURL)
	state := u.Query().Get("state")
	idTok := p.SignIDToken(with(person(), "iss", p.URL, "aud", p.ClientID, "sub", "u", "nonce", u.Query().Get("nonce"),
		"exp", testNow.Add(time.Minute).Unix()))
	e.ok(logical.UpdateOperation, "oidc/callback", map[string]any{"state": state, "id_token": idTok})
	e.fail(logical.ReadOperation, "oidc/callback", map[string]any{"state": state}, logical.ErrInvalidRequest, "no code or id_token received")
}

func TestOIDCClientAuthentication(t *testing.T) {
	tests := []struct {
		name    string
		methods []string
		secret  string
	}{
		{"basic by default", nil, "s3cret:with/odd chars"},
		{"basic when listed", []string{"client_secret_post", "client_secret_basic"}, "s"},
		{"post when it is the only one", []string{"client_secret_post", "private_key_jwt"}, "s"},
		{"public client", []string{"none"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, p := oidcEnv(t, func(p *OIDCProvider) { p.AuthMethods, p.ClientSecret = tc.methods, tc.secret })
			a := e.ok(logical.ReadOperation, "oidc/callback", e.startLogin(p, person())).Auth
			if a == nil || a.Alias.Name != "ada@example.com" {
				t.Fatalf("auth %+v", a)
			}
		})
	}
}

func TestOIDCMaxAge(t *testing.T) {
	e, p := oidcEnv(t, nil)
	e.ok(logical.UpdateOperation, "role/people", map[string]any{"max_age": 300})
	u, _ := url.Parse(e.authURL(map[string]any{"redirect_uri": cliRedirect}))
	if u.Query().Get("max_age") != "300" {
		t.Errorf("auth_url max_age = %q", u.Query().Get("max_age"))
	}
	tests := []struct {
		name     string
		authTime any
		msg      string
	}{
		{"recent", testNow.Add(-4 * time.Minute).Unix(), ""},
		{"too old", testNow.Add(-7 * time.Minute).Unix(), "older than the role's max_age"},
		{"missing", nil, "no auth_time"},
		{"not a number", "yesterday", "no auth_time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := e.startLogin(p, with(person(), "auth_time", tc.authTime))
			if tc.msg == "" {
				e.ok(logical.ReadOperation, "oidc/callback", data)
				return
			}
			e.fail(logical.ReadOperation, "oidc/callback", data, logical.ErrInvalidRequest, tc.msg)
		})
	}
}

func TestPendingStore(t *testing.T) {
	var s pendingStore
	exp := testNow.Add(pendingTTL)
	for i := 0; i < maxPending; i++ {
		if err := s.add(string(rune(i+1))+"x", &pending{expires: exp}, testNow); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	if err := s.add("one-more", &pending{expires: exp}, testNow); err != errTooManyPending {
		t.Fatalf("add beyond the limit: %v", err)
	}
	if s.amend("\x01x", "c", "", testNow) != true || s.amend("\x01x", "c", "", testNow) != false {
		t.Error("amend is not once only")
	}
	if p := s.take("\x01x", testNow); p == nil || p.code != "c" {
		t.Errorf("take = %+v", p)
	}
	if s.take("\x01x", testNow) != nil || s.take("", testNow) != nil || s.amend("", "c", "", testNow) {
		t.Error("a taken or empty state is still usable")
	}
	// Expired states are swept when room is needed.
	if err := s.add("later", &pending{expires: exp.Add(pendingTTL)}, exp); err != nil || s.size() != 1 {
		t.Fatalf("after expiry: %v, %d stored", err, s.size())
	}
	if s.take("later", exp.Add(pendingTTL)) != nil {
		t.Error("an expired state was taken")
	}
	s.clear()
	if s.size() != 0 {
		t.Error("clear left states")
	}
}

func TestGroupAliasesFromJWTLogin(t *testing.T) {
	e := newEnv(t)
	s := newEC(t, "")
	e.ok(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": s.pubPEM(t)})
	base := map[string]any{"sub": "svc", "exp": testNow.Add(time.Minute).Unix()}
	tests := []struct {
		name, claim string
		value       any
		want        []string
		msg         string
	}{
		{"list", "groups", []any{"b", "a", "", "b"}, []string{"b", "a"}, ""},
		{"single string", "groups", "admins", []string{"admins"}, ""},
		{"empty list", "groups", []any{}, nil, ""},
		{"pointer", "/resource_access/kinko/roles", map[string]any{"kinko": map[string]any{"roles": []any{"r1", "r2"}}}, []string{"r1", "r2"}, ""},
		{"numbers", "groups", []any{1}, nil, "not a string or a list of strings"},
		{"missing", "groups", nil, nil, `"groups" claim not found in token`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.ok(logical.CreateOperation, "role/r", map[string]any{"role_type": "jwt", "bound_subject": "svc", "groups_claim": tc.claim})
			top := strings.Split(strings.TrimPrefix(tc.claim, "/"), "/")[0]
			tok := s.sign(t, with(base, top, tc.value))
			if tc.msg != "" {
				e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": tok}, logical.ErrInvalidRequest, tc.msg)
				return
			}
			a := e.mustLogin("r", tok)
			if got := aliasNames(a.GroupAliases); !slices.Equal(got, tc.want) {
				t.Errorf("group aliases %v, want %v", got, tc.want)
			}
		})
	}
	// Without a groups claim there are no group aliases.
	e.ok(logical.UpdateOperation, "role/r", map[string]any{"groups_claim": ""})
	if a := e.mustLogin("r", s.sign(t, base)); a.GroupAliases != nil || a.InternalData["groups"] != nil {
		t.Errorf("groups without a groups claim: %v %v", a.GroupAliases, a.InternalData)
	}
}
