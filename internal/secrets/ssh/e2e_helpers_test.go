package ssh_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"
	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// apiEnv is a real kinko server with the SSH engine mounted, driven by the
// official Vault client with the root token.
type apiEnv struct {
	t     testing.TB
	srv   *testserver.Server
	c     *vault.Client
	mount string
}

func newAPIEnv(t testing.TB, mounts ...string) *apiEnv {
	t.Helper()
	srv := testserver.Start(t)
	c := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	if len(mounts) == 0 {
		mounts = []string{"ssh"}
	}
	for _, m := range mounts {
		if err := c.Sys().Mount(m, &vault.MountInput{Type: "ssh"}); err != nil {
			t.Fatalf("mount %s: %v", m, err)
		}
	}
	return &apiEnv{t: t, srv: srv, c: c, mount: mounts[0]}
}

// at returns the env for another mount or subtest.
func (a *apiEnv) at(t testing.TB, mount string) *apiEnv {
	return &apiEnv{t: t, srv: a.srv, c: a.c, mount: mount}
}

func (a *apiEnv) write(path string, data map[string]any) *vault.Secret {
	a.t.Helper()
	s, err := a.c.Logical().Write(a.mount+"/"+path, data)
	if err != nil {
		a.t.Fatalf("write %s/%s: %v", a.mount, path, err)
	}
	return s
}

func (a *apiEnv) read(path string) *vault.Secret {
	a.t.Helper()
	s, err := a.c.Logical().Read(a.mount + "/" + path)
	if err != nil {
		a.t.Fatalf("read %s/%s: %v", a.mount, path, err)
	}
	return s
}

// fail writes and expects an HTTP status and a message fragment.
func (a *apiEnv) fail(path string, data map[string]any, status int, msg string) {
	a.t.Helper()
	_, err := a.c.Logical().Write(a.mount+"/"+path, data)
	var re *vault.ResponseError
	if !errors.As(err, &re) {
		a.t.Fatalf("write %s: expected HTTP %d, got %v", path, status, err)
	}
	if re.StatusCode != status || !strings.Contains(strings.Join(re.Errors, " "), msg) {
		a.t.Fatalf("write %s: got %d %v, want %d with %q", path, re.StatusCode, re.Errors, status, msg)
	}
}

// genCA generates the mount's CA and returns its public key.
func (a *apiEnv) genCA() ssh.PublicKey {
	a.t.Helper()
	return parseKey(a.t, str(a.t, a.write("config/ca", map[string]any{"generate_signing_key": true}), "public_key"))
}

// signCert signs pub and returns the parsed certificate.
func (a *apiEnv) signCert(role string, pub ssh.PublicKey, data map[string]any) *ssh.Certificate {
	a.t.Helper()
	in := map[string]any{"public_key": string(ssh.MarshalAuthorizedKey(pub))}
	for k, v := range data {
		in[k] = v
	}
	return parseCertLine(a.t, str(a.t, a.write("sign/"+role, in), "signed_key"))
}

func str(t testing.TB, s *vault.Secret, field string) string {
	t.Helper()
	if s == nil {
		t.Fatalf("no response, wanted field %q", field)
	}
	v, ok := s.Data[field].(string)
	if !ok || v == "" {
		t.Fatalf("field %q missing in %v", field, s.Data)
	}
	return v
}

func parseKey(t testing.TB, line string) ssh.PublicKey {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return k
}

func parseCertLine(t testing.TB, line string) *ssh.Certificate {
	t.Helper()
	c, ok := parseKey(t, line).(*ssh.Certificate)
	if !ok {
		t.Fatalf("not a certificate: %q", line)
	}
	return c
}

// newSigner is a fresh ed25519 key.
func newSigner(t testing.TB) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s, k
}

// checker trusts ca for users and hosts, as sshd and ssh would.
func checker(ca ssh.PublicKey) *ssh.CertChecker {
	same := func(k ssh.PublicKey) bool { return bytes.Equal(k.Marshal(), ca.Marshal()) }
	return &ssh.CertChecker{
		IsUserAuthority: same,
		IsHostAuthority: func(k ssh.PublicKey, _ string) bool { return same(k) },
	}
}

type connMeta string

func (c connMeta) User() string        { return string(c) }
func (connMeta) SessionID() []byte     { return nil }
func (connMeta) ClientVersion() []byte { return nil }
func (connMeta) ServerVersion() []byte { return nil }
func (connMeta) RemoteAddr() net.Addr  { return nil }
func (connMeta) LocalAddr() net.Addr   { return nil }
