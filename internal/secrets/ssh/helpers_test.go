package ssh

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// env is one mounted engine with its storage.
type env struct {
	t testing.TB
	b *Backend
	s logical.Storage
	// auth is sent with every request (the caller's token).
	auth *logical.Auth
	// mount is the mount's tuned TTLs.
	mount logical.MountConfig
}

type fakeSystem struct{ def, max time.Duration }

func (f fakeSystem) DefaultLeaseTTL() time.Duration { return f.def }
func (f fakeSystem) MaxLeaseTTL() time.Duration     { return f.max }

func newEnv(t testing.TB) *env {
	t.Helper()
	s := inmem.New()
	lb, err := Factory(context.Background(), &logical.BackendConfig{StorageView: s,
		System: fakeSystem{def: 768 * time.Hour, max: 768 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, b: lb.(*Backend), s: s, auth: &logical.Auth{DisplayName: "token-alice", EntityID: "ent-1"}}
}

func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: e.s, Auth: e.auth, MountPoint: "ssh/", MountConfig: e.mount,
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

// fail sends a request that must fail with ErrInvalidRequest (or kind, if
// given) and a message containing msg.
func (e *env) fail(op logical.Operation, path string, data map[string]any, msg string, kind ...error) {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	want := logical.ErrInvalidRequest
	if len(kind) > 0 {
		want = kind[0]
	}
	if err == nil {
		e.t.Fatalf("%s %s: expected an error containing %q, got %+v", op, path, msg, resp)
	}
	if !errors.Is(err, want) || !strings.Contains(err.Error(), msg) {
		e.t.Fatalf("%s %s: error %q (kind ok: %v), want %q", op, path, err, errors.Is(err, want), msg)
	}
}

// genCA configures an ed25519 CA and returns its public key.
func (e *env) genCA() ssh.PublicKey {
	e.t.Helper()
	resp := e.ok(logical.UpdateOperation, "config/ca", map[string]any{"generate_signing_key": true})
	return parseAuthorized(e.t, resp.Data["public_key"].(string))
}

// role writes a role with the given settings over a user-role baseline.
func (e *env) role(name string, data map[string]any) {
	e.t.Helper()
	in := map[string]any{"key_type": "ca", "allow_user_certificates": true}
	for k, v := range data {
		in[k] = v
	}
	e.ok(logical.UpdateOperation, "roles/"+name, in)
}

// sign signs a fresh ed25519 key with role and returns the certificate.
func (e *env) sign(role string, data map[string]any) *ssh.Certificate {
	e.t.Helper()
	in := map[string]any{"public_key": authorizedLine(e.t, newKey(e.t, "ed25519"))}
	for k, v := range data {
		in[k] = v
	}
	resp := e.ok(logical.UpdateOperation, "sign/"+role, in)
	return parseCert(e.t, resp.Data["signed_key"].(string))
}

// newKey generates a key of a family: ed25519, rsa (2048), ecdsa (P-256).
func newKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch kind {
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case "rsa":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ecdsa":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ecdsa384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func authorizedLine(t testing.TB, k crypto.Signer) string {
	t.Helper()
	pub, err := ssh.NewPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " user@host"
}

func parseAuthorized(t testing.TB, line string) ssh.PublicKey {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return k
}

func parseCert(t testing.TB, line string) *ssh.Certificate {
	t.Helper()
	c, ok := parseAuthorized(t, line).(*ssh.Certificate)
	if !ok {
		t.Fatalf("signed_key is not a certificate: %q", line)
	}
	return c
}

// checkCert verifies cert's signature, type and validity against ca as
// OpenSSH would, for principal.
func checkCert(t testing.TB, ca ssh.PublicKey, cert *ssh.Certificate, principal string) {
	t.Helper()
	checker := &ssh.CertChecker{
		SupportedCriticalOptions: []string{"force-command", "source-address"},
		IsUserAuthority:          func(auth ssh.PublicKey) bool { return string(auth.Marshal()) == string(ca.Marshal()) },
		IsHostAuthority:          func(auth ssh.PublicKey, _ string) bool { return string(auth.Marshal()) == string(ca.Marshal()) },
	}
	if cert.CertType == ssh.HostCert {
		if err := checker.CheckHostKey(principal+":22", nil, cert); err != nil {
			t.Fatalf("host certificate does not verify: %v", err)
		}
		return
	}
	if _, err := checker.Authenticate(connMeta(principal), cert); err != nil {
		t.Fatalf("user certificate does not verify for %q: %v", principal, err)
	}
}

// connMeta is the little of ssh.ConnMetadata CertChecker.Authenticate uses.
type connMeta string

func (c connMeta) User() string        { return string(c) }
func (connMeta) SessionID() []byte     { return nil }
func (connMeta) ClientVersion() []byte { return nil }
func (connMeta) ServerVersion() []byte { return nil }
func (connMeta) RemoteAddr() net.Addr  { return nil }
func (connMeta) LocalAddr() net.Addr   { return nil }
