package jwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

// testNow is the fixed time of unit tests.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixedSystem is a SystemView with fixed TTLs.
type fixedSystem struct{ def, max time.Duration }

func (s fixedSystem) DefaultLeaseTTL() time.Duration { return s.def }
func (s fixedSystem) MaxLeaseTTL() time.Duration     { return s.max }

// testClock is the settable test clock.
type testClock = testclock.Clock

// env is one mounted JWT backend with its storage.
type env struct {
	t      testing.TB
	b      *backend
	s      logical.Storage
	clock  *testClock
	remote string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	s := inmem.New()
	lb, err := Factory(context.Background(), &logical.BackendConfig{StorageView: s,
		System: fixedSystem{def: 768 * time.Hour, max: 768 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, b: lb.(*backend), s: s, clock: testclock.New(testNow), remote: "127.0.0.1:50000"}
	e.b.now = e.clock.Now
	t.Cleanup(func() { e.b.Cleanup(context.Background()) })
	return e
}

func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: e.s, MountPoint: "auth/jwt/",
		Conn: &logical.Connection{RemoteAddr: e.remote},
	})
}

func (e *env) ok(op logical.Operation, path string, data map[string]any) *logical.Response {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err != nil {
		e.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// fail sends a request that must fail with kind and a message containing
// msg.
func (e *env) fail(op logical.Operation, path string, data map[string]any, kind error, msg string) {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err == nil {
		e.t.Fatalf("%s %s: succeeded (%+v), want %v", op, path, resp, kind)
	}
	if !errors.Is(err, kind) {
		e.t.Fatalf("%s %s: error %v, want kind %v", op, path, err, kind)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		e.t.Fatalf("%s %s: error %q, want it to contain %q", op, path, err.Error(), msg)
	}
	if resp != nil && resp.Auth != nil {
		e.t.Fatalf("%s %s: failed but returned an Auth", op, path)
	}
}

func (e *env) login(role, token string) (*logical.Response, error) {
	return e.do(logical.UpdateOperation, "login", map[string]any{"role": role, "jwt": token})
}

func (e *env) mustLogin(role, token string) *logical.Auth {
	e.t.Helper()
	resp, err := e.login(role, token)
	if err != nil {
		e.t.Fatalf("login: %v", err)
	}
	if resp == nil || resp.Auth == nil {
		e.t.Fatalf("login: no Auth in %+v", resp)
	}
	return resp.Auth
}

// signer is a test key pair.
type signer struct {
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
	kid  string
}

func newRSA(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{alg: jose.RS256, priv: k, kid: kid}
}

func newEC(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{alg: jose.ES256, priv: k, kid: kid}
}

func newEd(t testing.TB, kid string) *signer {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{alg: jose.EdDSA, priv: k, kid: kid}
}

// rsaKeys caches one RSA key per test binary (generation is slow).
var rsaKeys = struct {
	once sync.Once
	k    *rsa.PrivateKey
}{}

func sharedRSA(t testing.TB, kid string) *signer {
	rsaKeys.once.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKeys.k = k
	})
	return &signer{alg: jose.RS256, priv: rsaKeys.k, kid: kid}
}

// pubPEM is the PKIX PEM of the signer's public key.
func (s *signer) pubPEM(t testing.TB) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(s.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// jwk is the public JWK of the signer.
func (s *signer) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: s.priv.Public(), KeyID: s.kid, Algorithm: string(s.alg), Use: "sig"}
}

// sign signs claims (a map) with the signer's algorithm and kid.
func (s *signer) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return s.signAs(t, s.alg, claims)
}

func (s *signer) signAs(t testing.TB, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if s.kid != "" {
		opts = opts.WithHeader("kid", s.kid)
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: s.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := josejwt.Signed(sg).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rawToken assembles a compact JWS from a header, claims and signature
// function (for algorithms go-jose refuses to produce: none, HS256 with
// a public key as secret).
func rawToken(t testing.TB, header, claims map[string]any, sign func([]byte) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(header) + "." + enc(claims)
	return in + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(in)))
}

func hs256(key []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(in)
		return m.Sum(nil)
	}
}

// jwksServer serves a JWKS (and an OIDC discovery document) and counts
// JWKS fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetches atomic.Int64
	issuer  string // discovery issuer override ("" = server URL)
}

func newJWKSServer(t testing.TB, tls bool, keys ...jose.JSONWebKey) *jwksServer {
	t.Helper()
	js := &jwksServer{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		js.fetches.Add(1)
		js.mu.Lock()
		set := jose.JSONWebKeySet{Keys: js.keys}
		js.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		iss := js.issuer
		if iss == "" {
			iss = js.URL
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "jwks_uri": js.URL + "/keys"})
	})
	if tls {
		js.Server = httptest.NewTLSServer(mux)
	} else {
		js.Server = httptest.NewServer(mux)
	}
	t.Cleanup(js.Close)
	return js
}

func (js *jwksServer) setKeys(keys ...jose.JSONWebKey) {
	js.mu.Lock()
	js.keys = keys
	js.mu.Unlock()
}

// caPEM is the PEM of the TLS server's certificate.
func (js *jwksServer) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: js.Certificate().Raw}))
}

// githubClaims are claims shaped like a GitHub Actions OIDC token.
func githubClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":              "https://token.actions.githubusercontent.com",
		"aud":              "https://github.com/octo-org",
		"sub":              "repo:octo-org/octo-repo:ref:refs/heads/main",
		"repository":       "octo-org/octo-repo",
		"repository_owner": "octo-org",
		"ref":              "refs/heads/main",
		"workflow":         "deploy",
		"event_name":       "push",
		"actor":            "octocat",
		"run_id":           "1234567890",
		"jti":              "example-id",
		"iat":              now.Unix(),
		"nbf":              now.Unix(),
		"exp":              now.Add(5 * time.Minute).Unix(),
	}
}

// gitlabClaims are claims shaped like a GitLab CI ID token.
func gitlabClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":            "https://gitlab.example.com",
		"aud":            "https://kinko.example.com",
		"sub":            "project_path:mygroup/myproject:ref_type:branch:ref:main",
		"namespace_id":   "72",
		"namespace_path": "mygroup",
		"project_id":     "20",
		"project_path":   "mygroup/myproject",
		"user_login":     "alice",
		"ref":            "main",
		"ref_type":       "branch",
		"ref_protected":  "true",
		"pipeline_id":    "1212",
		"iat":            now.Unix(),
		"nbf":            now.Unix(),
		"exp":            now.Add(time.Hour).Unix(),
	}
}

// with returns a copy of m with the given changes (a nil value deletes).
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}
