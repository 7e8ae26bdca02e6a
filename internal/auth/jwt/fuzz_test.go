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
	e.ok(logical.CreateOperation, "role/r", map[string]any{"bound_audiences": "https://github.com/octo-org",
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
