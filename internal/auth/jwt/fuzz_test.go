package jwt

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/logical"
)

// FuzzLoginJWT sends arbitrary tokens to login. Every failure must be a
// user-facing error without an Auth that does not echo the token's
// signature; a success must carry claims that satisfy the role (only the
// seeded valid token and tokens the real key signed can get there).
func FuzzLoginJWT(f *testing.F) {
	e := newEnv(f)
	s := newEC(f, "")
	e.ok(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": s.pubPEM(f),
		"bound_issuer": "https://token.actions.githubusercontent.com"})
	e.ok(logical.CreateOperation, "role/r", map[string]any{"role_type": "jwt", "bound_audiences": "https://github.com/octo-org",
		"bound_claims": map[string]any{"repository": "octo-org/octo-repo"}, "user_claim": "repository"})
	gh := githubClaims(testNow)
	valid := s.sign(f, gh)
	for _, seed := range []string{
		valid, s.sign(f, with(gh, "aud", "x")), s.sign(f, with(gh, "exp", testNow.Add(-time.Hour).Unix())),
		rawToken(f, map[string]any{"alg": "none"}, gh, func([]byte) []byte { return nil }),
		rawToken(f, map[string]any{"alg": "HS256"}, gh, hs256([]byte(s.pubPEM(f)))),
		"", ".", "..", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30.", valid + ".x", strings.ReplaceAll(valid, ".", ".."),
		`{"protected":"e30","payload":"e30","signature":""}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		resp, err := e.login("r", token)
		if err == nil {
			if resp == nil || resp.Auth == nil || resp.Auth.Alias.Name != "octo-org/octo-repo" {
				t.Fatalf("login of %q: no error but auth %+v", token, resp)
			}
			return
		}
		if resp != nil && resp.Auth != nil {
			t.Fatalf("failed login of %q returned an Auth", token)
		}
		var le *logical.Error
		if !errors.As(err, &le) || !errors.Is(err, logical.ErrInvalidRequest) {
			t.Fatalf("login of %q: error %v is not a user-facing 400", token, err)
		}
		if parts := strings.Split(token, "."); len(parts) == 3 && len(parts[2]) >= 8 && strings.Contains(err.Error(), parts[2]) {
			t.Fatalf("error %q echoes the token's signature", err)
		}
	})
}

// FuzzGlobMatch compares globMatch with a regular expression built from
// the pattern ("*" -> ".*", everything else literal).
func FuzzGlobMatch(f *testing.F) {
	f.Add("a*b", "axxb")
	f.Add("*", "")
	f.Add("repo:*:ref:*", "repo:o/r:ref:refs/heads/main")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) || len(pattern) > 64 {
			return
		}
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile("(?s)^" + strings.Join(parts, ".*") + "$")
		if got, want := globMatch(pattern, s), re.MatchString(s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

// FuzzParseTokenResponse feeds arbitrary token endpoint answers to the
// parser: a success needs HTTP 200 and an id_token; every failure is a
// user-facing 400 whose message is short printable ASCII.
func FuzzParseTokenResponse(f *testing.F) {
	f.Add(200, []byte(`{"access_token":"a","token_type":"Bearer","id_token":"x.y.z"}`))
	f.Add(400, []byte(`{"error":"invalid_grant","error_description":"bad\u0000code"}`))
	f.Add(200, []byte(`{"error":"access_denied"}`))
	f.Add(500, []byte(`<html>`))
	f.Add(200, []byte(`[]`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tok, err := parseTokenResponse(status, body)
		if err == nil {
			if status != 200 || tok == "" {
				t.Fatalf("status %d body %q: accepted %q", status, body, tok)
			}
			return
		}
		if !errors.Is(err, logical.ErrInvalidRequest) {
			t.Fatalf("error %v is not a user-facing 400", err)
		}
		msg := err.Error()
		if len(msg) > 512 || strings.IndexFunc(msg, func(r rune) bool { return r < 0x20 || r >= 0x7f }) >= 0 {
			t.Fatalf("message %q is long or not printable ASCII", msg)
		}
	})
}

// FuzzOIDCCallback sends arbitrary callbacks to a mount with one pending
// login: none may log in (the fuzzer cannot guess a state), each failure
// is a user-facing error without an Auth.
func FuzzOIDCCallback(f *testing.F) {
	e := newEnv(f)
	p := NewOIDCProvider(f, e.clock.Now)
	e.ok(logical.UpdateOperation, "config", map[string]any{"oidc_discovery_url": p.URL, "oidc_client_id": p.ClientID,
		"oidc_client_secret": p.ClientSecret})
	e.ok(logical.CreateOperation, "role/r", map[string]any{"allowed_redirect_uris": "http://localhost:8250/oidc/callback"})
	e.authURL(map[string]any{"role": "r", "redirect_uri": "http://localhost:8250/oidc/callback"})
	f.Add("", "", "", false)
	f.Add("state", "code", "nonce", true)
	f.Add(strings.Repeat("A", 43), "c", "", false)
	f.Fuzz(func(t *testing.T, state, code, idToken string, post bool) {
		op := logical.ReadOperation
		if post {
			op = logical.UpdateOperation
		}
		resp, err := e.do(op, "oidc/callback", map[string]any{"state": state, "code": code, "id_token": idToken})
		if err == nil || (resp != nil && resp.Auth != nil) {
			t.Fatalf("callback %q %q: %+v %v", state, code, resp, err)
		}
		var le *logical.Error
		if !errors.As(err, &le) {
			t.Fatalf("error %v is not user-facing", err)
		}
	})
}
