package jwt

import (
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestJWKSRotationAndRefetchLimit(t *testing.T) {
	e := newEnv(t)
	k1, k2 := sharedRSA(t, "k1"), newEC(t, "k2")
	srv := newJWKSServer(t, true, k1.jwk())
	e.ok(logical.UpdateOperation, "config", map[string]any{"jwks_url": srv.URL + "/keys", "jwks_ca_pem": srv.caPEM()})
	e.ok(logical.CreateOperation, "role/r", map[string]any{"role_type": "jwt", "bound_audiences": "kinko"})
	claims := map[string]any{"sub": "svc", "aud": "kinko", "exp": testNow.Add(time.Minute).Unix()}
	e.mustLogin("r", k1.sign(t, claims))
	e.mustLogin("r", k1.sign(t, claims))
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches after config check and two logins = %d, want 1 (cached)", n)
	}
	// The issuer rotates in k2: the unknown kid triggers one refetch.
	srv.setKeys(k1.jwk(), k2.jwk())
	e.clock.Advance(e.b.minRefetch)
	e.mustLogin("r", k2.sign(t, claims))
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	// Unknown kids refetch at most once per minRefetch.
	k3 := newEC(t, "k3")
	for range 3 {
		e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": k3.sign(t, claims)},
			logical.ErrInvalidRequest, "no ES256 key with the token's key ID (kid) is known")
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches after unknown kids within the limit = %d, want 2", n)
	}
	e.clock.Advance(e.b.minRefetch)
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": k3.sign(t, claims)}, logical.ErrInvalidRequest, "kid")
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3", n)
	}
	// A known kid whose key does not verify the signature.
	forged := *k3
	forged.kid = "k2"
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": forged.sign(t, claims)},
		logical.ErrInvalidRequest, "no known key successfully validated the token signature")
	// Keys expire after jwksMaxAge; a failed refresh keeps the old keys.
	srv.Close()
	e.clock.Advance(jwksMaxAge)
	e.mustLogin("r", k1.sign(t, with(claims, "exp", e.clock.Now().Add(time.Minute).Unix())))
}

func TestJWKSKeyTypeMustMatchAlg(t *testing.T) {
	e := newEnv(t)
	k := newEC(t, "ec")
	srv := newJWKSServer(t, false, k.jwk())
	e.ok(logical.UpdateOperation, "config", map[string]any{"jwks_url": srv.URL + "/keys"})
	e.ok(logical.CreateOperation, "role/r", map[string]any{"role_type": "jwt", "bound_subject": "svc"})
	claims := map[string]any{"sub": "svc", "exp": testNow.Add(time.Minute).Unix()}
	// An ES256 signature relabelled as RS256 for the EC key's kid.
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": relabel(t, k.sign(t, claims), "RS256")},
		logical.ErrInvalidRequest, "no known key successfully validated")
	// HS256 keyed with the JWK's public bytes is refused before any key is used.
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r",
		"jwt": rawToken(t, map[string]any{"alg": "HS256", "kid": "ec"}, claims, hs256([]byte(k.pubPEM(t))))},
		logical.ErrInvalidRequest, "error parsing token")
	e.mustLogin("r", k.sign(t, claims))
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	k := newEd(t, "ed")
	srv := newJWKSServer(t, true, k.jwk())
	e.ok(logical.UpdateOperation, "config", map[string]any{"oidc_discovery_url": srv.URL + "/", "oidc_discovery_ca_pem": srv.caPEM()})
	e.ok(logical.CreateOperation, "role/r", map[string]any{"role_type": "jwt", "bound_audiences": "kinko", "user_claim": "email"})
	claims := map[string]any{"iss": srv.URL, "sub": "u1", "email": "u1@example.com", "aud": []any{"kinko", "other"},
		"iat": testNow.Unix(), "exp": testNow.Add(time.Minute).Unix()}
	if a := e.mustLogin("r", k.sign(t, claims)); a.Alias.Name != "u1@example.com" {
		t.Fatalf("alias %+v", a.Alias)
	}
	e.fail(logical.UpdateOperation, "login", map[string]any{"role": "r", "jwt": k.sign(t, with(claims, "iss", "https://elsewhere"))},
		logical.ErrInvalidRequest, "invalid issuer claim (iss)")

	// A discovery document whose issuer differs from the URL is refused.
	bad := newJWKSServer(t, false, k.jwk())
	bad.issuer = "https://impostor.example.com"
	e.fail(logical.UpdateOperation, "config", map[string]any{"oidc_discovery_url": bad.URL},
		logical.ErrInvalidRequest, "error checking oidc discovery URL")
	// The previous config still serves logins.
	e.mustLogin("r", k.sign(t, claims))
}

func TestConfig(t *testing.T) {
	e := newEnv(t)
	s := newEC(t, "")
	srv := newJWKSServer(t, true, s.jwk())
	plain := newJWKSServer(t, false)
	tests := []struct {
		name string
		data map[string]any
		msg  string
	}{
		{"no source", map[string]any{"bound_issuer": "x"}, "exactly one of"},
		{"two sources", map[string]any{"jwt_validation_pubkeys": s.pubPEM(t), "jwks_url": srv.URL + "/keys"}, "exactly one of"},
		{"bad PEM", map[string]any{"jwt_validation_pubkeys": "nope"}, "error parsing public key 1"},
		{"private key PEM", map[string]any{"jwt_validation_pubkeys": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
			"unsupported PEM block type"},
		{"alg none", map[string]any{"jwt_validation_pubkeys": s.pubPEM(t), "jwt_supported_algs": "none"}, `invalid jwt_supported_algs: "none"`},
		{"alg HS256", map[string]any{"jwt_validation_pubkeys": s.pubPEM(t), "jwt_supported_algs": []any{"RS256", "HS256"}}, `"HS256" is not supported`},
		{"jwks unreachable TLS", map[string]any{"jwks_url": srv.URL + "/keys"}, "error checking jwks URL"},
		{"jwks 404", map[string]any{"jwks_url": srv.URL + "/missing", "jwks_ca_pem": srv.caPEM()}, "HTTP 404"},
		{"jwks empty", map[string]any{"jwks_url": plain.URL + "/keys"}, "no usable signing key"},
		{"jwks bad scheme", map[string]any{"jwks_url": "file:///etc/passwd"}, "use an http(s) URL"},
		{"bad CA", map[string]any{"jwks_url": srv.URL + "/keys", "jwks_ca_pem": "x"}, "jwks_ca_pem contains no PEM certificate"},
		{"CA without URL", map[string]any{"jwt_validation_pubkeys": s.pubPEM(t), "jwks_ca_pem": srv.caPEM()}, "jwks_ca_pem can only be set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.fail(logical.UpdateOperation, "config", tc.data, logical.ErrInvalidRequest, tc.msg)
		})
	}
	if r, err := e.do(logical.ReadOperation, "config", nil); err != nil || r != nil {
		t.Fatalf("config after refused writes: %+v %v", r, err)
	}
	e.ok(logical.UpdateOperation, "config", map[string]any{"jwks_url": srv.URL + "/keys", "jwks_ca_pem": srv.caPEM(),
		"bound_issuer": "https://issuer", "default_role": "Dev"})
	got := e.ok(logical.ReadOperation, "config", nil).Data
	if got["jwks_url"] != srv.URL+"/keys" || got["bound_issuer"] != "https://issuer" || got["default_role"] != "dev" ||
		!strings.Contains(got["jwks_ca_pem"].(string), "CERTIFICATE") {
		t.Fatalf("config read %v", got)
	}
}
