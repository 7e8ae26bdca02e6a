package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/auth/jwt"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// skipIfPlaceholder skips the test while the auth method behind f is still
// a placeholder that refuses to be built, and runs it once it exists.
func skipIfPlaceholder(t *testing.T, name string, f logical.Factory) {
	t.Helper()
	defer func() { _ = recover() }() // a real backend may need a fuller config: not a placeholder
	if _, err := f(context.Background(), &logical.BackendConfig{}); err != nil && strings.Contains(err.Error(), "not implemented") {
		t.Skipf("the %s auth method is not implemented yet", name)
	}
}

// signJWT signs claims with RS256.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]any{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// cliSession runs CLI commands against one server with a shared
// environment, failing the test on an unexpected exit code.
type cliSession struct {
	t   *testing.T
	env map[string]string
	dir string
}

func newCLISession(t *testing.T, srv *testserver.Server) *cliSession {
	dir := t.TempDir()
	return &cliSession{t: t, dir: dir, env: map[string]string{
		"KINKO_ADDR": srv.Addr, "KINKO_TOKEN": srv.RootToken, "HOME": dir}}
}

func (s *cliSession) file(name, content string) string {
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// run runs the CLI with stdin and checks its exit code; it returns stdout.
func (s *cliSession) run(wantCode int, stdin string, args ...string) string {
	s.t.Helper()
	var out, errOut strings.Builder
	c := newCLI(strings.NewReader(stdin), &out, &errOut, func(k string) string { return s.env[k] })
	if code := run(context.Background(), args, c); code != wantCode {
		s.t.Fatalf("kinko %s: exit %d, want %d\nstdout: %s\nstderr: %s",
			strings.Join(args, " "), code, wantCode, out.String(), errOut.String())
	}
	return out.String()
}

func TestLoginJWT(t *testing.T) {
	skipIfPlaceholder(t, "jwt", jwt.Factory)
	s := newCLISession(t, testserver.Start(t))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := s.file("pub.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	s.run(0, "", "policy", "write", "app", s.file("app.hcl", `path "secret/*" { capabilities = ["read"] }`))
	s.run(0, "", "auth", "enable", "jwt")
	s.run(0, "", "write", "auth/jwt/config", "jwt_validation_pubkeys=@"+pub, "bound_issuer=https://issuer.example")
	s.run(0, "", "write", "auth/jwt/role/ci", "role_type=jwt", "user_claim=sub", "bound_audiences=kinko", "token_policies=app")

	now := time.Now().Unix()
	claims := map[string]any{"iss": "https://issuer.example", "sub": "runner-7", "aud": "kinko",
		"iat": now, "nbf": now - 60, "exp": now + 600}
	token := signJWT(t, key, claims)
	s.env["KINKO_TOKEN"] = ""

	out := s.run(0, "", "login", "-method=jwt", "-no-store", "role=ci", "jwt=@"+s.file("ci.jwt", token+"\n"))
	if !regexp.MustCompile(`(?m)^token_policies\s+\["app" "default"\]$`).MatchString(out) {
		t.Errorf("login output lacks the role's policies:\n%s", out)
	}
	tok := s.run(0, token, "login", "-method=jwt", "-path=jwt", "-token-only", "role=ci", "jwt=-")
	if !strings.HasPrefix(tok, "hvs.") {
		t.Errorf("-token-only printed %q", tok)
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	expired := map[string]any{"iss": "https://issuer.example", "sub": "runner-7", "aud": "kinko",
		"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}
	for name, bad := range map[string]string{
		"signed by another key": signJWT(t, other, claims),
		"expired":               signJWT(t, key, expired),
		"tampered":              token[:len(token)-4] + "AAAA",
	} {
		t.Run(name, func(t *testing.T) {
			sub := *s
			sub.t = t
			sub.run(exitAPI, "", "login", "-method=jwt", "-no-store", "role=ci", "jwt="+bad)
		})
	}
}
