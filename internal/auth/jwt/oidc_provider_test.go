package jwt

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// OIDCProvider is an OIDC provider for tests (exported for the
// end-to-end tests of package jwt_test): discovery document, JWKS and a
// token endpoint that checks the client's credentials, the redirect URI
// and the PKCE verifier, and issues ID tokens signed with a test key. It
// has no /authorize page: the test plays the browser with Authorize.
type OIDCProvider struct {
	*httptest.Server
	ClientID, ClientSecret string
	// AuthMethods is the discovery document's
	// token_endpoint_auth_methods_supported (nil: not listed).
	AuthMethods []string
	// Exchanges counts token requests.
	Exchanges atomic.Int64

	t   testing.TB
	now func() time.Time
	key *signer

	mu     sync.Mutex
	grants map[string]*grant
	// forger, when set, signs ID tokens instead of key (same kid).
	forger *signer
	// failStatus and failBody, when set, answer every token request.
	failStatus int
	failBody   string
}

// grant is an authorization code the provider issued.
type grant struct {
	claims      map[string]any
	challenge   string
	redirectURI string
}

// NewOIDCProvider starts a provider whose tokens carry times from now.
func NewOIDCProvider(t testing.TB, now func() time.Time) *OIDCProvider {
	t.Helper()
	p := &OIDCProvider{ClientID: "kinko-client", ClientSecret: "s3cret:with/odd chars",
		t: t, now: now, key: sharedRSA(t, "idp-1"), grants: map[string]*grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{p.key.jwk()}})
	})
	mux.HandleFunc("POST /token", p.token)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *OIDCProvider) discovery(w http.ResponseWriter, _ *http.Request) {
	doc := map[string]any{"issuer": p.URL, "jwks_uri": p.URL + "/keys",
		"authorization_endpoint": p.URL + "/authorize?tenant=t1", "token_endpoint": p.URL + "/token",
		"response_types_supported": []string{"code", "id_token"}, "code_challenge_methods_supported": []string{"S256"}}
	if p.AuthMethods != nil {
		doc["token_endpoint_auth_methods_supported"] = p.AuthMethods
	}
	writeJSON(w, http.StatusOK, doc)
}

// FailTokens makes the token endpoint answer status and body.
func (p *OIDCProvider) FailTokens(status int, body string) {
	p.mu.Lock()
	p.failStatus, p.failBody = status, body
	p.mu.Unlock()
}

// Authorize plays the browser at the authorization endpoint for authURL:
// it checks the request's parameters and returns the state and a fresh
// code whose ID token carries the default claims (iss, aud, sub, nonce,
// iat, exp) changed by claims (a nil value deletes).
func (p *OIDCProvider) Authorize(authURL string, claims map[string]any) (state, code string) {
	p.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil || !strings.HasPrefix(authURL, p.URL+"/authorize?") {
		p.t.Fatalf("auth_url %q is not at the provider", authURL)
	}
	q := u.Query()
	if q.Get("client_id") != p.ClientID || !slices.Contains(strings.Fields(q.Get("scope")), "openid") ||
		q.Get("code_challenge_method") != "S256" || q.Get("tenant") != "t1" {
		p.t.Fatalf("auth_url has bad parameters: %v", q)
	}
	base := map[string]any{"iss": p.URL, "aud": p.ClientID, "sub": "user-42", "nonce": q.Get("nonce"),
		"iat": p.now().Unix(), "exp": p.now().Add(5 * time.Minute).Unix()}
	kv := make([]any, 0, 2*len(claims))
	for k, v := range claims {
		kv = append(kv, k, v)
	}
	code, err = randomToken()
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.grants[code] = &grant{claims: with(base, kv...), challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
	p.mu.Unlock()
	return q.Get("state"), code
}

// SignIDToken signs claims with the provider's key (for form_post
// id_token tests).
func (p *OIDCProvider) SignIDToken(claims map[string]any) string {
	return p.key.sign(p.t, claims)
}

// forgeWith makes the token endpoint sign with s (under the real key's
// kid) from now on.
func (p *OIDCProvider) forgeWith(s *signer) {
	p.mu.Lock()
	p.forger = &signer{alg: s.alg, priv: s.priv, kid: p.key.kid}
	p.mu.Unlock()
}

func (p *OIDCProvider) signer() *signer {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.forger != nil {
		return p.forger
	}
	return p.key
}

// token is the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6).
func (p *OIDCProvider) token(w http.ResponseWriter, r *http.Request) {
	p.Exchanges.Add(1)
	p.mu.Lock()
	status, body := p.failStatus, p.failBody
	p.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if msg := p.checkClient(r); msg != "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": msg})
		return
	}
	p.mu.Lock()
	g := p.grants[r.PostForm.Get("code")]
	delete(p.grants, r.PostForm.Get("code"))
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
	case g == nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "unknown or used code"})
	case g.redirectURI != r.PostForm.Get("redirect_uri"):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
			"id_token": p.signer().sign(p.t, g.claims)})
	}
}

// checkClient authenticates the client as the discovery document says:
// HTTP Basic with form-encoded parts, or in the form (client_secret_post).
func (p *OIDCProvider) checkClient(r *http.Request) string {
	id, secret, basic := r.BasicAuth()
	if p.ClientSecret == "" { // a public client: PKCE only
		if basic || r.PostForm.Get("client_id") != p.ClientID || r.PostForm.Has("client_secret") {
			return "a public client sends its client_id only"
		}
		return ""
	}
	if basic {
		if p.AuthMethods != nil && !slices.Contains(p.AuthMethods, "client_secret_basic") {
			return "client_secret_basic is not allowed"
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "bad basic encoding"
		}
	} else {
		if !slices.Contains(p.AuthMethods, "client_secret_post") {
			return "client_secret_post is not allowed"
		}
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		return "wrong client credentials"
	}
	return ""
}
