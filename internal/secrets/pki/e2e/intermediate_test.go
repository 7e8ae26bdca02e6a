package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// chainEnv has a root CA at pki/ and an intermediate CA at pki_int/ signed
// by it, with a role "web" on the intermediate.
type chainEnv struct {
	*srvEnv
	root, inter *x509.Certificate
}

func newChainEnv(t *testing.T) *chainEnv {
	e := newServer(t)
	e.mount("pki")
	e.mount("pki_int")
	root := e.genRoot("pki", map[string]any{"max_path_length": 1})
	gen := e.write("pki_int/intermediate/generate/internal", map[string]any{"common_name": "Example Intermediate CA", "key_type": "ec"})
	if _, ok := gen.Data["private_key"]; ok || str(gen.Data["key_id"]) == "" {
		t.Fatalf("intermediate/generate/internal: %v", gen.Data)
	}
	signed := e.write("pki/root/sign-intermediate", map[string]any{"csr": gen.Data["csr"], "format": "pem_bundle", "ttl": "43800h"})
	inter := mustCert(t, str(signed.Data["certificate"]))
	if !inter.IsCA || inter.Subject.CommonName != "Example Intermediate CA" || inter.CheckSignatureFrom(root) != nil {
		t.Fatalf("signed intermediate: CA %v, CN %q", inter.IsCA, inter.Subject.CommonName)
	}
	if inter.MaxPathLen != 0 || !inter.MaxPathLenZero {
		t.Errorf("intermediate path length %d (zero %v), want 0 under a root with 1", inter.MaxPathLen, inter.MaxPathLenZero)
	}
	set := e.write("pki_int/intermediate/set-signed", map[string]any{"certificate": signed.Data["certificate"]})
	imported, _ := set.Data["imported_issuers"].([]any)
	mapping, _ := set.Data["mapping"].(map[string]any)
	if len(imported) != 2 || mapping[str(imported[0])] != gen.Data["key_id"] || mapping[str(imported[1])] != "" {
		t.Fatalf("set-signed: %v", set.Data)
	}
	e.write("pki_int/roles/web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"})
	return &chainEnv{srvEnv: e, root: root, inter: inter}
}

func TestIntermediateChain(t *testing.T) {
	e := newChainEnv(t)
	leaf := e.issue("pki_int/issue/web", map[string]any{"common_name": "svc.example.com"})
	if len(leaf.chain) != 2 || !leaf.chain[0].Equal(e.inter) || !leaf.chain[1].Equal(e.root) {
		t.Fatalf("ca_chain has %d certificates, want intermediate then root", len(leaf.chain))
	}
	roots := []*x509.Certificate{e.root}
	if err := verify(leaf.cert, roots, []*x509.Certificate{e.inter}, x509.ExtKeyUsageServerAuth, "svc.example.com"); err != nil {
		t.Fatalf("root → intermediate → leaf: %v", err)
	}
	if err := verify(leaf.cert, roots, nil, x509.ExtKeyUsageServerAuth, "svc.example.com"); err == nil {
		t.Fatal("leaf verified without its intermediate")
	}
	_, _, chain := e.raw("GET", "pki_int/ca_chain", "", nil)
	if n := strings.Count(string(chain), "BEGIN CERTIFICATE"); n != 2 {
		t.Errorf("ca_chain has %d certificates", n)
	}
	// The intermediate has path length 0: it cannot sign another CA.
	gen := e.write("pki/intermediate/generate/internal", map[string]any{"common_name": "Third", "key_type": "ec"})
	e.writeFails("pki_int/root/sign-intermediate", map[string]any{"csr": gen.Data["csr"]}, "max path length of 0")
	// set-signed needs a key generated here.
	e.mount("pki_x")
	e.writeFails("pki_x/intermediate/set-signed", map[string]any{"certificate": pemOf(e.inter)}, "does not match any key")
}

func TestOpenSSLVerify(t *testing.T) {
	openssl := opensslPath(t)
	e := newChainEnv(t)
	dir := t.TempDir()
	write := func(name string, certs ...*x509.Certificate) string {
		p := filepath.Join(dir, name)
		var b strings.Builder
		for _, c := range certs {
			b.WriteString(pemOf(c) + "\n")
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rootPEM, interPEM := write("root.pem", e.root), write("inter.pem", e.inter)
	leaf := e.issue("pki_int/issue/web", map[string]any{"common_name": "svc.example.com"})
	e.write("pki/roles/web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "rsa"})
	direct := e.issue("pki/issue/web", map[string]any{"common_name": "direct.example.com"})
	leafPEM, directPEM := write("leaf.pem", leaf.cert), write("direct.pem", direct.cert)
	for _, args := range [][]string{
		{"verify", "-CAfile", rootPEM, directPEM},
		{"verify", "-CAfile", rootPEM, "-untrusted", interPEM, leafPEM},
		{"verify", "-CAfile", rootPEM, "-untrusted", interPEM, "-purpose", "sslserver", "-verify_hostname", "svc.example.com", leafPEM},
	} {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ": OK") {
			t.Errorf("openssl %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command(openssl, "verify", "-CAfile", rootPEM, leafPEM).CombinedOutput(); err == nil {
		t.Errorf("openssl verified a leaf without its intermediate:\n%s", out)
	}
}

// opensslPath finds openssl; without it the test is skipped, except in CI.
func opensslPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is required in CI: install it (/usr/bin/openssl)")
		}
		t.Skip("openssl not installed")
	}
	return p
}

func pemOf(c *x509.Certificate) string {
	return strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
}

func TestImportBundleAndIssuerRef(t *testing.T) {
	e := newServer(t)
	e.mount("src")
	e.mount("imp")
	src := e.write("src/root/generate/exported", map[string]any{"common_name": "Imported Root", "key_type": "ec", "ttl": "8760h"})
	srcRoot := mustCert(t, str(src.Data["certificate"]))
	bundle := str(src.Data["private_key"]) + "\n" + str(src.Data["certificate"])
	first := e.write("imp/config/ca", map[string]any{"pem_bundle": bundle})
	if n := len(first.Data["imported_issuers"].([]any)); n != 1 || len(first.Data["imported_keys"].([]any)) != 1 {
		t.Fatalf("config/ca: %v", first.Data)
	}
	again := e.write("imp/issuers/import/bundle", map[string]any{"pem_bundle": bundle})
	if len(again.Data["existing_issuers"].([]any)) != 1 || len(again.Data["imported_issuers"].([]any)) != 0 {
		t.Errorf("re-import: %v", again.Data)
	}
	e.write("imp/roles/any", map[string]any{"allow_any_name": true, "key_type": "ec"})
	if c := e.issue("imp/issue/any", map[string]any{"common_name": "a.test"}).cert; c.CheckSignatureFrom(srcRoot) != nil {
		t.Error("certificate from the imported CA does not verify")
	}

	// A second issuer, chosen per role with issuer_ref.
	second := e.genRoot("imp", map[string]any{"issuer_name": "second"})
	e.write("imp/roles/second", map[string]any{"allow_any_name": true, "key_type": "ec", "issuer_ref": "second"})
	if c := e.issue("imp/issue/second", map[string]any{"common_name": "b.test"}).cert; c.CheckSignatureFrom(second) != nil {
		t.Error("issuer_ref=second did not sign with the second issuer")
	}
	if c := e.issue("imp/issue/any", map[string]any{"common_name": "c.test"}).cert; c.CheckSignatureFrom(srcRoot) != nil {
		t.Error("the default issuer changed when a second root was generated")
	}
	if c := e.issue("imp/issuer/second/issue/any", map[string]any{"common_name": "d.test"}).cert; c.CheckSignatureFrom(second) != nil {
		t.Error("issuer/second/issue/any did not sign with the second issuer")
	}

	leaf := e.issue("imp/issue/any", map[string]any{"common_name": "leaf.test"})
	e.writeFails("imp/issuers/import/bundle", map[string]any{"pem_bundle": str(leaf.secret.Data["certificate"])}, "not a CA certificate")
	e.writeFails("imp/issuers/import/bundle", map[string]any{"pem_bundle": "garbage"}, "only PEM blocks")
	e.writeFails("imp/config/ca", map[string]any{"pem_bundle": "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n"}, "unsupported type \"FOO\"")
}
