package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// webEnv is a server with a root CA at pki/ and a role "web" for
// subdomains of example.com.
func webEnv(t *testing.T) (*srvEnv, *x509.Certificate) {
	e := newServer(t)
	e.mount("pki")
	root := e.genRoot("pki", nil)
	e.write("pki/roles/web", map[string]any{
		"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec",
		"ttl": "24h", "max_ttl": "720h",
	})
	return e, root
}

func TestIssueLeafVerifiesWithSANsAndUsages(t *testing.T) {
	e, root := webEnv(t)
	got := e.issue("pki/issue/web", map[string]any{
		"common_name": "www.example.com", "alt_names": "api.example.com,ops@mail.example.com",
		"ip_sans": "127.0.0.1", "ttl": "1h",
	})
	c := got.cert
	if err := verify(c, []*x509.Certificate{root}, nil, x509.ExtKeyUsageServerAuth, "api.example.com"); err != nil {
		t.Fatalf("root → leaf does not verify: %v", err)
	}
	if err := verify(c, []*x509.Certificate{root}, nil, x509.ExtKeyUsageClientAuth, ""); err != nil {
		t.Fatalf("client usage: %v", err)
	}
	slices.Sort(c.DNSNames)
	if !slices.Equal(c.DNSNames, []string{"api.example.com", "www.example.com"}) || c.Subject.CommonName != "www.example.com" {
		t.Errorf("DNS SANs %v, CN %q", c.DNSNames, c.Subject.CommonName)
	}
	if !slices.Equal(c.EmailAddresses, []string{"ops@mail.example.com"}) || len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("email %v, IP %v", c.EmailAddresses, c.IPAddresses)
	}
	wantKU := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement | x509.KeyUsageKeyEncipherment
	if c.KeyUsage != wantKU || !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) || c.IsCA {
		t.Errorf("key usage %b, ext %v, CA %v", c.KeyUsage, c.ExtKeyUsage, c.IsCA)
	}
	if life := c.NotAfter.Sub(c.NotBefore); life != time.Hour+30*time.Second {
		t.Errorf("lifetime %v, want 1h plus the 30s backdate", life)
	}
	d := got.secret.Data
	if d["private_key_type"] != "ec" || !got.cert.PublicKey.(*ecdsa.PublicKey).Equal(got.key.Public()) {
		t.Errorf("private key does not match: %v", d["private_key_type"])
	}
	if len(got.chain) != 1 || !got.chain[0].Equal(root) || !mustCert(t, str(d["issuing_ca"])).Equal(root) {
		t.Error("issuing_ca / ca_chain is not the root")
	}
	if got.serial != hexSerial(c) {
		t.Errorf("serial %q, want %q", got.serial, hexSerial(c))
	}
	if exp, err := d["expiration"].(json.Number).Int64(); err != nil || exp != c.NotAfter.Unix() {
		t.Errorf("expiration %v, want %d", d["expiration"], c.NotAfter.Unix())
	}
}

func TestIssueTTLs(t *testing.T) {
	e, _ := webEnv(t)
	tests := []struct {
		name    string
		ttl     string
		want    time.Duration
		warning bool
	}{
		{"role default", "", 24 * time.Hour, false},
		{"requested", "90m", 90 * time.Minute, false},
		{"capped at max_ttl", "2000h", 720 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"common_name": "a.example.com"}
			if tt.ttl != "" {
				body["ttl"] = tt.ttl
			}
			got := e.issue("pki/issue/web", body)
			if life := got.cert.NotAfter.Sub(got.cert.NotBefore) - 30*time.Second; life != tt.want {
				t.Errorf("lifetime %v, want %v", life, tt.want)
			}
			if warned := len(got.secret.Warnings) > 0 && strings.Contains(got.secret.Warnings[0], "maxTTL"); warned != tt.warning {
				t.Errorf("warnings %v", got.secret.Warnings)
			}
		})
	}
	// A certificate may not outlive its issuer.
	e.mount("short")
	e.genRoot("short", map[string]any{"ttl": "2h"})
	e.write("short/roles/any", map[string]any{"allow_any_name": true, "key_type": "ec"})
	e.writeFails("short/issue/any", map[string]any{"common_name": "x.test", "ttl": "3h"}, "beyond the expiration of the CA")
	e.write("short/issuer/default", map[string]any{"leaf_not_after_behavior": "truncate"})
	got := e.issue("short/issue/any", map[string]any{"common_name": "x.test", "ttl": "3h"})
	if ca := mustCert(t, str(got.secret.Data["issuing_ca"])); !got.cert.NotAfter.Equal(ca.NotAfter) {
		t.Errorf("truncate: leaf ends %v, CA %v", got.cert.NotAfter, ca.NotAfter)
	}
}

func TestIssueFormats(t *testing.T) {
	e, root := webEnv(t)
	der := e.write("pki/issue/web", map[string]any{"common_name": "d.example.com", "format": "der"})
	raw, err := base64.StdEncoding.DecodeString(str(der.Data["certificate"]))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := x509.ParseCertificate(raw); err != nil || c.CheckSignatureFrom(root) != nil {
		t.Fatalf("der certificate: %v", err)
	}
	if k, err := base64.StdEncoding.DecodeString(str(der.Data["private_key"])); err != nil || len(k) == 0 {
		t.Fatalf("der private key: %v", err)
	}
	bundle := e.write("pki/issue/web", map[string]any{"common_name": "b.example.com", "format": "pem_bundle", "private_key_format": "pkcs8"})
	text := str(bundle.Data["certificate"])
	var types []string
	for rest := []byte(text); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		types = append(types, b.Type)
	}
	if !slices.Equal(types, []string{"PRIVATE KEY", "CERTIFICATE", "CERTIFICATE"}) {
		t.Errorf("pem_bundle blocks %v", types)
	}
	if !strings.HasPrefix(str(bundle.Data["private_key"]), "-----BEGIN PRIVATE KEY-----") {
		t.Error("private_key_format=pkcs8 not honoured")
	}
}

func TestCertStoreFetchAndList(t *testing.T) {
	e, _ := webEnv(t)
	got := e.issue("pki/issue/web", map[string]any{"common_name": "s.example.com", "ttl": "48h"})
	for _, serial := range []string{got.serial, strings.ReplaceAll(got.serial, ":", "-")} {
		status, _, body := e.raw(http.MethodGet, "pki/cert/"+serial, "", nil)
		if status != http.StatusOK || !strings.Contains(string(body), `"revocation_time":0`) {
			t.Fatalf("unauthenticated cert/%s: %d %s", serial, status, body)
		}
	}
	if c := mustCert(t, str(e.read("pki/cert/" + got.serial).Data["certificate"])); !c.Equal(got.cert) {
		t.Error("cert/:serial returned another certificate")
	}
	list, err := e.c.Logical().List("pki/certs")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := list.Data["key_info"].(map[string]any)[got.serial].(map[string]any)
	if info == nil || info["not_after"] != got.cert.NotAfter.UTC().Format(time.RFC3339) || info["common_name"] != "s.example.com" {
		t.Errorf("key_info for %s: %v", got.serial, info)
	}
	e.write("pki/roles/nostore", map[string]any{"allow_any_name": true, "key_type": "ec", "no_store": true})
	ns := e.issue("pki/issue/nostore", map[string]any{"common_name": "n.test"})
	if s, err := e.c.Logical().Read("pki/cert/" + ns.serial); err != nil || s != nil {
		t.Errorf("no_store certificate was stored: %v %v", s, err)
	}
}

func TestExtKeyUsageRole(t *testing.T) {
	e, root := webEnv(t)
	e.write("pki/roles/client", map[string]any{
		"allow_any_name": true, "key_type": "ed25519", "server_flag": false,
		"ext_key_usage": "CodeSigning", "key_usage": "DigitalSignature",
	})
	c := e.issue("pki/issue/client", map[string]any{"common_name": "svc-a"}).cert
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageCodeSigning}) || c.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("usages %v %b", c.ExtKeyUsage, c.KeyUsage)
	}
	if err := verify(c, []*x509.Certificate{root}, nil, x509.ExtKeyUsageServerAuth, ""); err == nil {
		t.Error("a client-only certificate verified for ServerAuth")
	}
	e.writeFails("pki/roles/bad", map[string]any{"ext_key_usage": "Teleport"}, "unknown ext_key_usage")
	e.writeFails("pki/roles/bad", map[string]any{"key_usage": "Everything"}, "unknown key_usage")
	e.writeFails("pki/roles/bad", map[string]any{"ttl": "2h", "max_ttl": "1h"}, "max_ttl")
	e.writeFails("pki/roles/bad", map[string]any{"key_type": "ec", "key_bits": 123}, "invalid key_bits")
	e.writeFails("pki/issue/missing", map[string]any{"common_name": "a"}, "unknown role: missing")
}

func newCSR(t *testing.T, key any, cn string, dns ...string) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn, Organization: []string{"Acme"}}, DNSNames: dns,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func TestSignCSR(t *testing.T) {
	e, root := webEnv(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s := e.write("pki/sign/web", map[string]any{"csr": newCSR(t, key, "csr.example.com", "alt.example.com")})
	c := mustCert(t, str(s.Data["certificate"]))
	if _, ok := s.Data["private_key"]; ok {
		t.Error("sign returned a private key")
	}
	if !c.PublicKey.(*ecdsa.PublicKey).Equal(key.Public()) || c.Subject.CommonName != "csr.example.com" {
		t.Errorf("signed certificate has the wrong key or CN %q", c.Subject.CommonName)
	}
	if err := verify(c, []*x509.Certificate{root}, nil, x509.ExtKeyUsageServerAuth, "alt.example.com"); err != nil {
		t.Errorf("verify: %v", err)
	}
	e.writeFails("pki/sign/web", map[string]any{"csr": newCSR(t, key, "csr.example.com", "evil.org")}, "subject alternate name evil.org not allowed")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	e.writeFails("pki/sign/web", map[string]any{"csr": newCSR(t, rsaKey, "r.example.com")}, "role requires keys of type ec")
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	e.write("pki/roles/strong", map[string]any{"allow_any_name": true, "key_type": "ec", "key_bits": 521})
	e.writeFails("pki/sign/strong", map[string]any{"csr": newCSR(t, p384, "x")}, "at least 521 bits")
	e.writeFails("pki/sign/web", map[string]any{"csr": "not a csr"}, "PEM-encoded CERTIFICATE REQUEST")

	// sign-verbatim keeps the CSR's subject and names, with no domain policy.
	v := mustCert(t, str(e.write("pki/sign-verbatim", map[string]any{
		"csr": newCSR(t, key, "anything.internal", "other.internal"), "ext_key_usage": "ClientAuth",
	}).Data["certificate"]))
	if v.Subject.CommonName != "anything.internal" || !slices.Equal(v.Subject.Organization, []string{"Acme"}) ||
		!slices.Equal(v.DNSNames, []string{"other.internal"}) || !slices.Equal(v.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("sign-verbatim: subject %v, SANs %v, EKU %v", v.Subject, v.DNSNames, v.ExtKeyUsage)
	}
}

func TestGenerateLeaseRevokesOnLeaseRevoke(t *testing.T) {
	e, _ := webEnv(t)
	e.write("pki/roles/leased", map[string]any{"allow_any_name": true, "key_type": "ec", "generate_lease": true, "ttl": "1h"})
	got := e.issue("pki/issue/leased", map[string]any{"common_name": "leased.test"})
	if got.secret.LeaseID == "" || got.secret.LeaseDuration <= 0 {
		t.Fatalf("no lease: %+v", got.secret)
	}
	if err := e.c.Sys().Revoke(got.secret.LeaseID); err != nil {
		t.Fatal(err)
	}
	s := e.read("pki/cert/" + got.serial)
	if v, err := s.Data["revocation_time"].(json.Number).Int64(); err != nil || v == 0 {
		t.Errorf("revoking the lease did not revoke the certificate: %v", s.Data["revocation_time"])
	}
}
