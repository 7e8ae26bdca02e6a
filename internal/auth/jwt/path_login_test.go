package jwt

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/kinko-dev/kinko/internal/logical"
)

// githubEnv is a backend configured with PEM keys of rs, es and ed and a
// "deploy" role shaped for GitHub Actions.
func githubEnv(t *testing.T) (*env, *signer, *signer, *signer) {
	t.Helper()
	e := newEnv(t)
	rs, es, ed := sharedRSA(t, ""), newEC(t, ""), newEd(t, "")
	e.ok(logical.UpdateOperation, "config", map[string]any{
		"jwt_validation_pubkeys": []any{rs.pubPEM(t), es.pubPEM(t), ed.pubPEM(t)},
		"bound_issuer":           "https://token.actions.githubusercontent.com",
	})
	e.ok(logical.CreateOperation, "role/deploy", map[string]any{
		"role_type":       "jwt",
		"bound_audiences": "https://github.com/octo-org",
		"bound_claims":    map[string]any{"repository": "octo-org/octo-repo", "ref": []any{"refs/heads/main", "refs/heads/release"}},
		"user_claim":      "repository",
		"claim_mappings":  map[string]any{"repository": "repo", "ref": "ref", "workflow": "workflow"},
		"token_policies":  "deployer",
		"token_ttl":       "10m",
	})
	return e, rs, es, ed
}

func TestLoginGitHubEachKeyType(t *testing.T) {
	e, rs, es, ed := githubEnv(t)
	for _, s := range []*signer{rs, es, ed} {
		t.Run(string(s.alg), func(t *testing.T) {
			a := e.mustLogin("deploy", s.sign(t, githubClaims(testNow)))
			if a.ClientToken != "" {
				t.Fatal("backend minted a token itself")
			}
			if a.Alias == nil || a.Alias.Name != "octo-org/octo-repo" || a.DisplayName != "octo-org/octo-repo" {
				t.Fatalf("alias %+v display %q", a.Alias, a.DisplayName)
			}
			wantAlias := map[string]string{"repo": "octo-org/octo-repo", "ref": "refs/heads/main", "workflow": "deploy"}
			if !mapsEqual(a.Alias.Metadata, wantAlias) {
				t.Errorf("alias metadata %v", a.Alias.Metadata)
			}
			wantMeta := map[string]string{"repo": "octo-org/octo-repo", "ref": "refs/heads/main", "workflow": "deploy", "role": "deploy"}
			if !mapsEqual(a.Metadata, wantMeta) {
				t.Errorf("metadata %v", a.Metadata)
			}
			if !slices.Equal(a.Policies, []string{"deployer"}) || a.TTL != 10*time.Minute || !a.Renewable {
				t.Errorf("token settings: %v %v %v", a.Policies, a.TTL, a.Renewable)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestLoginNegatives(t *testing.T) {
	e, rs, es, _ := githubEnv(t)
	gh := githubClaims(testNow)
	other := newEC(t, "")
	der, _ := x509.MarshalPKIXPublicKey(rs.priv.Public())
	pubPEMBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	tampered := func() string {
		tok := rs.sign(t, gh)
		parts := strings.Split(tok, ".")
		body := with(gh, "repository", "evil/repo")
		forged := rs.sign(t, body)
		return parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
	}()
	tests := []struct {
		name, role, token, msg string
	}{
		{"wrong aud", "deploy", rs.sign(t, with(gh, "aud", "https://github.com/other")), "aud claim does not match any bound audience"},
		{"aud list without match", "deploy", rs.sign(t, with(gh, "aud", []any{"a", "b"})), "aud claim does not match"},
		{"wrong iss", "deploy", rs.sign(t, with(gh, "iss", "https://evil.example.com")), "invalid issuer claim (iss)"},
		{"expired", "deploy", rs.sign(t, with(gh, "iat", testNow.Add(-time.Hour).Unix(), "nbf", testNow.Add(-time.Hour).Unix(),
			"exp", testNow.Add(-2*time.Minute).Unix())), "token is expired (exp)"},
		{"nbf in future", "deploy", rs.sign(t, with(gh, "iat", nil, "nbf", testNow.Add(5*time.Minute).Unix())), "validation failed, token not valid yet (nbf)"},
		{"iat in future", "deploy", rs.sign(t, with(gh, "iat", testNow.Add(5*time.Minute).Unix())), "issued in the future (iat)"},
		{"no times", "deploy", rs.sign(t, with(gh, "iat", nil, "nbf", nil, "exp", nil)), "no issue time, notbefore, or expiration time"},
		{"alg none", "deploy", rawToken(t, map[string]any{"alg": "none", "typ": "JWT"}, gh, func([]byte) []byte { return nil }), "error parsing token"},
		{"HS256 with public key as secret", "deploy", rawToken(t, map[string]any{"alg": "HS256", "typ": "JWT"}, gh, hs256(pubPEMBytes)), "error parsing token"},
		{"HS256 with DER key as secret", "deploy", rawToken(t, map[string]any{"alg": "HS256"}, gh, hs256(der)), "error parsing token"},
		{"bad signature", "deploy", tampered, "no known key successfully validated the token signature"},
		{"unknown key", "deploy", other.sign(t, gh), "no known key successfully validated"},
		{"ES256 header on RSA signature", "deploy", relabel(t, rs.sign(t, gh), "ES256"), "no known key successfully validated"},
		{"missing user claim", "deploy", es.sign(t, with(gh, "repository", nil)), `claim "repository" not found in token`},
		{"user claim not a string", "deploy", es.sign(t, with(gh, "repository", 42)), `claim "repository" could not be converted to string`},
		{"bound claim mismatch", "deploy", rs.sign(t, with(gh, "ref", "refs/heads/dev")), `claim "ref" does not match any associated bound claim values`},
		{"bound claim missing", "deploy", rs.sign(t, with(gh, "ref", nil)), `claim "ref" is missing`},
		{"unknown role", "nope", rs.sign(t, gh), `role "nope" could not be found`},
		{"no role", "", rs.sign(t, gh), "missing role"},
		{"no token", "deploy", "", "missing token"},
		{"garbage token", "deploy", "not.a.jwt", "error parsing token"},
		{"oversized token", "deploy", strings.Repeat("a", maxJWTSize+1), "larger than 65536 bytes"},
		{"JWS JSON serialization", "deploy", `{"payload":"e30","signatures":[]}`, "error parsing token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.fail(logical.UpdateOperation, "login", map[string]any{"role": tc.role, "jwt": tc.token}, logical.ErrInvalidRequest, tc.msg)
		})
	}
}

// relabel rewrites a token's alg header, keeping its signature.
func relabel(t *testing.T, tok, alg string) string {
	parts := strings.Split(tok, ".")
	h := rawToken(t, map[string]any{"alg": alg}, map[string]any{}, func([]byte) []byte { return nil })
	return strings.Split(h, ".")[0] + "." + parts[1] + "." + parts[2]
}

func TestLoginGitLabGlobAndPointer(t *testing.T) {
	e := newEnv(t)
	s := newEC(t, "")
	e.ok(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": s.pubPEM(t), "bound_issuer": "https://gitlab.example.com",
		"default_role": "ci"})
	e.ok(logical.CreateOperation, "role/ci", map[string]any{
		"role_type": "jwt", "bound_audiences": []any{"https://kinko.example.com"},
		"bound_claims_type": "glob",
		"bound_claims":      map[string]any{"project_path": "mygroup/*", "ref": "main,release-*", "/namespace_path": "mygroup"},
		"user_claim":        "/user_login", "user_claim_json_pointer": true,
		"claim_mappings": map[string]any{"project_path": "project", "/ref_protected": "protected"},
	})
	gl := gitlabClaims(testNow)
	a := e.mustLogin("", s.sign(t, gl)) // default_role
	if a.Alias.Name != "alice" || a.Metadata["project"] != "mygroup/myproject" || a.Metadata["protected"] != "true" || a.Metadata["role"] != "ci" {
		t.Fatalf("auth %+v alias %+v", a, a.Alias)
	}
	e.mustLogin("ci", s.sign(t, with(gl, "ref", "release-1.2")))
	e.fail(logical.UpdateOperation, "login", map[string]any{"jwt": s.sign(t, with(gl, "project_path", "othergroup/myproject"))},
		logical.ErrInvalidRequest, `claim "project_path" does not match`)
	e.fail(logical.UpdateOperation, "login", map[string]any{"jwt": s.sign(t, with(gl, "ref", "feature-x"))},
		logical.ErrInvalidRequest, `claim "ref" does not match`)
}

func TestLoginListClaimAndNumbers(t *testing.T) {
	e := newEnv(t)
	s := newEd(t, "")
	e.ok(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": s.pubPEM(t)})
	e.ok(logical.CreateOperation, "role/r", map[string]any{
		"role_type": "jwt", "bound_subject": "svc", "bound_claims": map[string]any{"groups": "admins", "/nested/level": 3},
		"groups_claim": "groups",
	})
	base := map[string]any{"sub": "svc", "exp": testNow.Add(time.Minute).Unix(),
		"groups": []any{"devs", "admins"}, "nested": map[string]any{"level": 3.0}}
	a := e.mustLogin("r", s.sign(t, base))
	if a.Alias.Name != "svc" || !slices.Equal(a.InternalData["groups"].([]string), []string{"devs", "admins"}) {
		t.Fatalf("auth %+v", a)
	}
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": s.sign(t, with(base, "groups", []any{"devs"}))},
		logical.ErrInvalidRequest, `claim "groups" does not match`)
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": s.sign(t, with(base, "sub", "other"))},
		logical.ErrInvalidRequest, "invalid subject claim (sub)")
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": s.sign(t, with(base, "aud", "x"))},
		logical.ErrInvalidRequest, "audience claim found in JWT but no audiences bound to the role")
}

func TestLoginLeeways(t *testing.T) {
	e := newEnv(t)
	s := newEC(t, "")
	e.ok(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": s.pubPEM(t)})
	e.ok(logical.CreateOperation, "role/r", map[string]any{"role_type": "jwt", "bound_subject": "svc"})
	exp := map[string]any{"sub": "svc", "exp": testNow.Add(-30 * time.Second).Unix()}
	e.mustLogin("r", s.sign(t, exp)) // inside the 60s clock skew
	e.ok(logical.UpdateOperation, "role/r", map[string]any{"clock_skew_leeway": -1})
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": s.sign(t, exp)}, logical.ErrInvalidRequest, "expired")
	// A token with only iat expires expiration_leeway after it.
	iatOnly := map[string]any{"sub": "svc", "iat": testNow.Add(-100 * time.Second).Unix()}
	e.mustLogin("r", s.sign(t, iatOnly))
	e.ok(logical.UpdateOperation, "role/r", map[string]any{"expiration_leeway": "1m"})
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": s.sign(t, iatOnly)}, logical.ErrInvalidRequest, "expired")
	// A token with only exp is valid from not_before_leeway before it.
	expOnly := map[string]any{"sub": "svc", "exp": testNow.Add(200 * time.Second).Unix()}
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": s.sign(t, expOnly)}, logical.ErrInvalidRequest, "not valid yet")
	e.ok(logical.UpdateOperation, "role/r", map[string]any{"not_before_leeway": 300})
	e.mustLogin("r", s.sign(t, expOnly))
	got := e.ok(logical.ReadOperation, "role/r", nil).Data
	if got["clock_skew_leeway"] != int64(-1) || got["expiration_leeway"] != int64(60) || got["not_before_leeway"] != int64(300) {
		t.Fatalf("leeways read back as %v %v %v", got["clock_skew_leeway"], got["expiration_leeway"], got["not_before_leeway"])
	}
}

func TestLoginBoundCIDRsAndOIDCRole(t *testing.T) {
	e, rs, _, _ := githubEnv(t)
	e.ok(logical.UpdateOperation, "role/deploy", map[string]any{"token_bound_cidrs": "10.0.0.0/8"})
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "deploy", "jwt": rs.sign(t, githubClaims(testNow))},
		logical.ErrPermissionDenied, "")
	e.remote = "10.1.2.3:4000"
	a := e.mustLogin("deploy", rs.sign(t, githubClaims(testNow)))
	if !slices.Equal(a.BoundCIDRs, []string{"10.0.0.0/8"}) {
		t.Errorf("bound cidrs %v", a.BoundCIDRs)
	}
	// A stored role of another type (e.g. restored from Vault) is refused.
	if err := logical.PutJSON(context.Background(), e.s, "role/browser", &role{Name: "browser", RoleType: "oidc", UserClaim: "sub"}); err != nil {
		t.Fatal(err)
	}
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "browser", "jwt": rs.sign(t, githubClaims(testNow))},
		logical.ErrInvalidRequest, "role with oidc role_type is not allowed")
}

func TestLoginWithoutConfig(t *testing.T) {
	e := newEnv(t)
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "x", "jwt": "a.b.c"}, logical.ErrInvalidRequest, "could not load configuration")
}

func TestLoginSupportedAlgs(t *testing.T) {
	e := newEnv(t)
	es, ed := newEC(t, ""), newEd(t, "")
	e.ok(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": []any{es.pubPEM(t), ed.pubPEM(t)},
		"jwt_supported_algs": "ES256"})
	e.ok(logical.CreateOperation, "role/r", map[string]any{"role_type": "jwt", "bound_subject": "svc"})
	c := map[string]any{"sub": "svc", "exp": testNow.Add(time.Minute).Unix()}
	e.mustLogin("r", es.sign(t, c))
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": ed.sign(t, c)}, logical.ErrInvalidRequest, "error parsing token")
	_ = jose.EdDSA
}
