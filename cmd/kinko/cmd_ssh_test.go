package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// runWithSSH is run with the ssh command in the tree, whether or not
// root.go registers it yet.
func runWithSSH(ctx context.Context, args []string, c *cli) int {
	root := newRootCmd(c)
	if subcommand(root, "ssh") == nil {
		root.AddCommand(newSSHCmd(c))
	}
	root.SetArgs(normalizeArgs(root, args))
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	err := root.ExecuteContext(ctx)
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(c.stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(c.stderr, "Error: %s\n", err)
	return exitLocal
}

// sshCLIEnv is a server with the SSH engine at ssh/ (roles "dev" for
// users alice and bob, "host" for *.example.com) and at ssh-host/.
type sshCLIEnv struct {
	t      *testing.T
	env    map[string]string
	dir    string
	ca     ssh.PublicKey
	hostCA ssh.PublicKey
}

func newSSHCLIEnv(t *testing.T) *sshCLIEnv {
	srv := testserver.Start(t)
	c := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	e := &sshCLIEnv{t: t, dir: t.TempDir()}
	e.env = map[string]string{"KINKO_ADDR": srv.Addr, "KINKO_TOKEN": srv.RootToken, "HOME": e.dir}
	for mount, ca := range map[string]*ssh.PublicKey{"ssh": &e.ca, "ssh-host": &e.hostCA} {
		if err := c.Sys().Mount(mount, &vault.MountInput{Type: "ssh"}); err != nil {
			t.Fatal(err)
		}
		s, err := c.Logical().Write(mount+"/config/ca", map[string]any{"generate_signing_key": true})
		if err != nil {
			t.Fatal(err)
		}
		*ca = parseSSHKey(t, s.Data["public_key"].(string))
	}
	for path, data := range map[string]map[string]any{
		"ssh/roles/dev":       {"key_type": "ca", "allow_user_certificates": true, "allowed_users": "alice,bob", "default_user": "alice", "max_ttl": "2h"},
		"ssh-host/roles/host": {"key_type": "ca", "allow_host_certificates": true, "allowed_domains": "example.com", "allow_subdomains": true},
	} {
		if _, err := c.Logical().Write(path, data); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *sshCLIEnv) run(wantCode int, args ...string) (string, string) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	c := newCLI(strings.NewReader(""), &out, &errOut, func(k string) string { return e.env[k] })
	if code := runWithSSH(context.Background(), args, c); code != wantCode {
		e.t.Fatalf("kinko %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, wantCode, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// keyFile writes a fresh public key file and returns its path.
func (e *sshCLIEnv) keyFile(name string) (string, ssh.PublicKey) {
	e.t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		e.t.Fatal(err)
	}
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, ssh.MarshalAuthorizedKey(k), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p, k
}

func parseSSHKey(t *testing.T, line string) ssh.PublicKey {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return k
}

// readCert reads a written certificate, checks its mode and that it
// certifies key, and returns it.
func (e *sshCLIEnv) readCert(path string, key ssh.PublicKey) *ssh.Certificate {
	e.t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		e.t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		e.t.Errorf("%s has mode %v, want 0644", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	cert, ok := parseSSHKey(e.t, string(b)).(*ssh.Certificate)
	if !ok || !bytes.Equal(cert.Key.Marshal(), key.Marshal()) {
		e.t.Fatalf("%s does not hold a certificate for the key", path)
	}
	return cert
}

func trusts(ca ssh.PublicKey) *ssh.CertChecker {
	same := func(k ssh.PublicKey) bool { return bytes.Equal(k.Marshal(), ca.Marshal()) }
	return &ssh.CertChecker{IsUserAuthority: same, IsHostAuthority: func(k ssh.PublicKey, _ string) bool { return same(k) }}
}

func TestSSHSign(t *testing.T) {
	e := newSSHCLIEnv(t)

	pub, key := e.keyFile("id_ed25519.pub")
	out, _ := e.run(exitOK, "ssh", "sign", "-principals=alice,bob", "-ttl=1h", "dev", pub)
	certFile := filepath.Join(e.dir, "id_ed25519-cert.pub")
	if !strings.Contains(out, "Success! Wrote the certificate to: "+certFile) || !strings.Contains(out, "[alice bob]") {
		t.Fatalf("stdout:\n%s", out)
	}
	cert := e.readCert(certFile, key)
	if err := trusts(e.ca).CheckCert("bob", cert); err != nil {
		t.Fatalf("certificate: %v", err)
	}
	if life := time.Until(time.Unix(int64(cert.ValidBefore), 0)); life < 59*time.Minute || life > time.Hour {
		t.Fatalf("lifetime %s, want 1h", life)
	}

	// Signing again replaces the certificate; the role's default_user applies.
	e.run(exitOK, "ssh", "sign", "dev", pub)
	if again := e.readCert(certFile, key); again.Serial == cert.Serial || strings.Join(again.ValidPrincipals, ",") != "alice" {
		t.Fatalf("second certificate: serial %x (first %x), principals %v", again.Serial, cert.Serial, again.ValidPrincipals)
	}

	// -out, a key file without .pub, and -format=json.
	bare, bareKey := e.keyFile("work_key")
	custom := filepath.Join(e.dir, "custom-cert.pub")
	out, _ = e.run(exitOK, "ssh", "sign", "-format=json", "-out", custom, "dev", bare)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["path"] != custom || m["cert_type"] != "user" {
		t.Fatalf("json output %q: %v", out, err)
	}
	e.readCert(custom, bareKey)
	e.run(exitOK, "ssh", "sign", "dev", bare)
	e.readCert(bare+"-cert.pub", bareKey)

	// A host certificate from another mount.
	hostPub, hostKey := e.keyFile("ssh_host_ed25519_key.pub")
	e.run(exitOK, "ssh", "sign", "-mount=ssh-host", "-cert-type=host", "-principals=web.example.com", "host", hostPub)
	hc := e.readCert(filepath.Join(e.dir, "ssh_host_ed25519_key-cert.pub"), hostKey)
	if err := trusts(e.hostCA).CheckHostKey("web.example.com:22", nil, hc); err != nil {
		t.Fatalf("host certificate: %v", err)
	}
}

func TestSSHSignErrors(t *testing.T) {
	e := newSSHCLIEnv(t)
	pub, _ := e.keyFile("id.pub")
	priv := filepath.Join(e.dir, "id")
	if err := os.WriteFile(priv, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END OPENSSH PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		code   int
		args   []string
		stderr string
	}{
		{"principal denied", exitAPI, []string{"-principals=root", "dev", pub}, "root is not a valid value for valid_principals"},
		{"ttl above max", exitAPI, []string{"-ttl=3h", "dev", pub}, "ttl is larger than maximum allowed"},
		{"unknown role", exitAPI, []string{"nope", pub}, "unknown role"},
		{"unknown mount", exitAPI, []string{"-mount=nowhere", "dev", pub}, "Error signing the key with nowhere/sign/dev"},
		{"missing file", exitLocal, []string{"dev", filepath.Join(e.dir, "absent.pub")}, "no such file"},
		{"private key", exitLocal, []string{"dev", priv}, "this is a private key"},
		{"not a key", exitLocal, []string{"dev", e.write("junk.pub", "hello")}, "not an SSH public key"},
		{"bad cert type", exitLocal, []string{"-cert-type=both", "dev", pub}, "Invalid -cert-type"},
		{"bad ttl", exitLocal, []string{"-ttl=soon", "dev", pub}, "invalid duration"},
		{"output over input", exitLocal, []string{"-out=" + pub, "dev", pub}, "Refusing to write"},
		{"role with slash", exitLocal, []string{"a/b", pub}, "Invalid -mount or ROLE"},
		{"one argument", exitLocal, []string{"dev"}, "accepts 2 arg(s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut := e.run(tc.code, append([]string{"ssh", "sign"}, tc.args...)...)
			if !strings.Contains(errOut, tc.stderr) || out != "" {
				t.Fatalf("stdout %q, stderr %q, want %q", out, errOut, tc.stderr)
			}
			if strings.Contains(errOut, "c2VjcmV0") {
				t.Fatal("the private key file was echoed")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(e.dir, "id-cert.pub")); !os.IsNotExist(err) {
		t.Fatalf("a failed sign left a certificate: %v", err)
	}
}

func (e *sshCLIEnv) write(name, content string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func TestSSHHelp(t *testing.T) {
	var out bytes.Buffer
	c := newCLI(strings.NewReader(""), &out, &out, func(string) string { return "" })
	if code := runWithSSH(context.Background(), []string{"ssh", "sign", "--help"}, c); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"ROLE PUBKEYFILE", "id_ed25519-cert.pub", "-principals", "-cert-type", "-out", "-mount", "Examples:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}
