package e2e

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"net/http"
	"testing"
	"time"
)

func TestGenerateRootKeyTypes(t *testing.T) {
	e := newServer(t)
	tests := []struct {
		keyType string
		bits    int
		check   func(pub any) bool
	}{
		{"ec", 384, func(p any) bool { k, ok := p.(*ecdsa.PublicKey); return ok && k.Curve.Params().BitSize == 384 }},
		{"ed25519", 0, func(p any) bool { _, ok := p.(ed25519.PublicKey); return ok }},
		{"rsa", 2048, func(p any) bool { k, ok := p.(*rsa.PublicKey); return ok && k.N.BitLen() == 2048 }},
	}
	for _, tt := range tests {
		t.Run(tt.keyType, func(t *testing.T) {
			mount := "pki-" + tt.keyType
			e.mount(mount)
			s := e.write(mount+"/root/generate/exported", map[string]any{
				"common_name": "Root " + tt.keyType, "key_type": tt.keyType, "key_bits": tt.bits,
				"ttl": "8760h", "issuer_name": "root-" + tt.keyType, "max_path_length": 2,
			})
			cert := mustCert(t, str(s.Data["certificate"]))
			if !tt.check(cert.PublicKey) {
				t.Fatalf("public key %T is not %s-%d", cert.PublicKey, tt.keyType, tt.bits)
			}
			if !cert.IsCA || cert.MaxPathLen != 2 || cert.KeyUsage&x509.KeyUsageCertSign == 0 || cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
				t.Errorf("not a CA with path length 2 and cert/CRL signing: %+v", cert)
			}
			if err := cert.CheckSignatureFrom(cert); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			if got := cert.NotAfter.Sub(cert.NotBefore); got < 8760*time.Hour || got > 8760*time.Hour+time.Minute {
				t.Errorf("lifetime %v, want 8760h (+30s backdate)", got)
			}
			if len(cert.SerialNumber.Bytes()) > 20 || cert.SerialNumber.Sign() <= 0 {
				t.Errorf("serial %x is not a positive 20-byte number", cert.SerialNumber)
			}
			key, err := parseKey(str(s.Data["private_key"]))
			if err != nil || !cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Fatalf("exported private_key does not match the certificate: %v", err)
			}
			if s.Data["private_key_type"] != tt.keyType || s.Data["issuer_name"] != "root-"+tt.keyType ||
				str(s.Data["issuer_id"]) == "" || s.Data["serial_number"] != hexSerial(cert) {
				t.Errorf("response fields: %v", s.Data)
			}
		})
	}
}

func TestRootFetchAndIssuers(t *testing.T) {
	e := newServer(t)
	e.mount("pki")
	s := e.write("pki/root/generate/internal", map[string]any{"common_name": "example.com", "key_type": "ec", "issuer_name": "first"})
	if _, ok := s.Data["private_key"]; ok {
		t.Fatal("internal generation returned the private key")
	}
	root := mustCert(t, str(s.Data["certificate"]))
	if len(root.DNSNames) != 1 || root.DNSNames[0] != "example.com" {
		t.Errorf("root SANs %v, want the common name", root.DNSNames)
	}

	// Unauthenticated raw fetches.
	for _, tt := range []struct {
		path, ct string
		der      bool
	}{
		{"pki/ca", "application/pkix-cert", true}, {"pki/ca/pem", "application/pem-certificate-chain", false},
		{"pki/ca_chain", "application/pkix-cert", false}, {"pki/cert/ca/raw", "application/pkix-cert", true},
		{"pki/cert/ca/raw/pem", "application/pem-certificate-chain", false},
	} {
		status, ct, body := e.raw(http.MethodGet, tt.path, "", nil)
		if status != http.StatusOK || ct != tt.ct {
			t.Fatalf("GET %s: %d %s", tt.path, status, ct)
		}
		var got *x509.Certificate
		if tt.der {
			got, _ = x509.ParseCertificate(body)
		} else {
			got = mustCert(t, string(body))
		}
		if got == nil || !got.Equal(root) {
			t.Errorf("GET %s: not the root certificate", tt.path)
		}
	}
	if got := mustCert(t, str(e.read("pki/cert/ca").Data["certificate"])); !got.Equal(root) {
		t.Error("cert/ca is not the root")
	}

}

// TestIssuers reads issuers by id, name and default and switches the
// default; a second root does not take over the default.
func TestIssuers(t *testing.T) {
	e := newServer(t)
	e.mount("pki")
	id := str(e.write("pki/root/generate/internal", map[string]any{"common_name": "First", "key_type": "ec", "issuer_name": "first"}).Data["issuer_id"])
	second := e.write("pki/root/generate/internal", map[string]any{"common_name": "Second", "key_type": "ec", "issuer_name": "second"})
	for _, ref := range []string{id, "first", "default"} {
		if got := e.read("pki/issuer/" + ref); got.Data["issuer_id"] != id || got.Data["issuer_name"] != "first" {
			t.Errorf("issuer/%s = %v", ref, got.Data)
		}
	}
	list, err := e.c.Logical().List("pki/issuers")
	if err != nil || len(list.Data["keys"].([]any)) != 2 {
		t.Fatalf("list issuers: %v %v", list, err)
	}
	info := list.Data["key_info"].(map[string]any)[id].(map[string]any)
	if info["is_default"] != true || info["issuer_name"] != "first" {
		t.Errorf("key_info of the default: %v", info)
	}
	e.write("pki/config/issuers", map[string]any{"default": "second"})
	if got := e.read("pki/config/issuers"); got.Data["default"] != second.Data["issuer_id"] {
		t.Errorf("config/issuers default = %v", got.Data)
	}
	if got := e.read("pki/issuer/default"); got.Data["issuer_name"] != "second" {
		t.Errorf("default after switch: %v", got.Data["issuer_name"])
	}
	e.write("pki/issuer/second", map[string]any{"issuer_name": "renamed"})
	if got := e.read("pki/issuer/renamed"); got.Data["issuer_id"] != second.Data["issuer_id"] {
		t.Error("rename did not take")
	}
}

func TestNoCAFetchesAre204(t *testing.T) {
	e := newServer(t)
	e.mount("pki")
	for _, p := range []string{"pki/ca", "pki/ca/pem", "pki/crl", "pki/ca_chain"} {
		if status, _, body := e.raw(http.MethodGet, p, "", nil); status != http.StatusNoContent || len(body) != 0 {
			t.Errorf("GET %s without a CA: %d %q", p, status, body)
		}
	}
	e.writeFails("pki/roles/r", map[string]any{"issuer_ref": "missing"}, "unable to find PKI issuer")
}
