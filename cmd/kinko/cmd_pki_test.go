package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// pkiCLI is a server with a root CA at pki/ and a role "web" for
// subdomains of example.com, and the environment to reach it.
type pkiCLI struct {
	t    *testing.T
	env  map[string]string
	root *x509.Certificate
}

func newPKICLI(t *testing.T) *pkiCLI {
	srv := testserver.Start(t)
	vc := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	if err := vc.Sys().Mount("pki", &vault.MountInput{Type: "pki", Config: vault.MountConfigInput{MaxLeaseTTL: "87600h"}}); err != nil {
		t.Fatal(err)
	}
	s, err := vc.Logical().Write("pki/root/generate/internal", map[string]any{"common_name": "CLI Root", "key_type": "ec", "ttl": "8760h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vc.Logical().Write("pki/roles/web", map[string]any{
		"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec",
	}); err != nil {
		t.Fatal(err)
	}
	return &pkiCLI{t: t, root: pemCertOf(t, s.Data["certificate"].(string)),
		env: map[string]string{"HOME": t.TempDir(), "KINKO_ADDR": srv.Addr, "KINKO_TOKEN": srv.RootToken}}
}

// run executes the CLI with "pki" registered (until root.go lists it).
func (p *pkiCLI) run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	c := newCLI(strings.NewReader(""), &out, &errOut, func(k string) string { return p.env[k] })
	root := newRootCmd(c)
	if sub, _, err := root.Find([]string{"pki"}); err != nil || sub == root {
		root.AddCommand(newPKICmd(c))
	}
	root.SetArgs(normalizeArgs(root, args))
	root.SetOut(&out)
	root.SetErr(&errOut)
	code := exitOK
	if err := root.ExecuteContext(context.Background()); err != nil {
		var ee *exitError
		code = exitLocal
		if errors.As(err, &ee) {
			code = ee.code
			errOut.WriteString(ee.msg)
		}
	}
	return code, out.String(), errOut.String()
}

func pemCertOf(t *testing.T, text string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		t.Fatalf("no PEM in %.60q", text)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPKIIssueWritesFiles(t *testing.T) {
	p := newPKICLI(t)
	prefix := filepath.Join(t.TempDir(), "srv")
	code, out, errOut := p.run("pki", "issue", "-out-prefix="+prefix, "web",
		"common_name=www.example.com", "alt_names=api.example.com", "ttl=2h")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	certPEM, err := os.ReadFile(prefix + ".crt")
	if err != nil {
		t.Fatal(err)
	}
	cert := pemCertOf(t, string(certPEM))
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "api.example.com", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("issued certificate does not verify: %v", err)
	}
	fi, err := os.Stat(prefix + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	keyPEM, _ := os.ReadFile(prefix + ".key")
	block, _ := pem.Decode(keyPEM)
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil || !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
		t.Errorf("key does not match the certificate: %v", err)
	}
	chain, _ := os.ReadFile(prefix + "-chain.pem")
	if !pemCertOf(t, string(chain)).Equal(p.root) {
		t.Error("chain file does not hold the root")
	}
	for _, want := range []string{"Success! Certificate issued.", "serial_number", "expiration", cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z"), prefix + ".key"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestPKIIssueDefaultNameAndJSON(t *testing.T) {
	p := newPKICLI(t)
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := p.run("-format=json", "pki", "issue", "web", "common_name=*.example.com")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil || got["certificate_file"] != "wildcard.example.com.crt" || got["serial_number"] == "" {
		t.Fatalf("json output %q: %v", out, err)
	}
	for _, f := range []string{"wildcard.example.com.crt", "wildcard.example.com.key", "wildcard.example.com-chain.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestPKIIssueErrors(t *testing.T) {
	p := newPKICLI(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no data", []string{"pki", "issue", "web"}, exitLocal, "Not enough arguments"},
		{"no common name", []string{"pki", "issue", "web", "ttl=1h"}, exitLocal, "Missing common_name"},
		{"der", []string{"pki", "issue", "web", "common_name=a.example.com", "format=der"}, exitLocal, "leave out format"},
		{"denied name", []string{"pki", "issue", "web", "common_name=www.evil.org"}, exitAPI, "common name www.evil.org not allowed"},
		{"unknown role", []string{"pki", "issue", "nope", "common_name=a.example.com"}, exitAPI, "unknown role"},
		{"wrong mount", []string{"pki", "issue", "-mount=nothere", "web", "common_name=a.example.com"}, exitAPI, "nothere/issue/web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{}, tt.args[:2]...), "-out-prefix="+filepath.Join(dir, "x"))
			code, out, errOut := p.run(append(args, tt.args[2:]...)...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d with %q", code, errOut, tt.code, tt.msg)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written on failure: %v", entries)
	}
	code, out, _ := p.run("pki", "issue", "--help")
	if code != exitOK || !strings.Contains(out, "kinko pki issue web common_name=www.example.com") || !strings.Contains(out, "-out-prefix") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}
