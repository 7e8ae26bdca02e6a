package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/kinko-dev/kinko/internal/logical"
)

func seedCSR(f *testing.F) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "seed.example.com"}, DNSNames: []string{"a.example.com"},
	}, key)
	if err != nil {
		f.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// FuzzParseCSR feeds arbitrary text to the CSR parser: it must never
// panic, and what it accepts must carry a valid signature and a
// supported key.
func FuzzParseCSR(f *testing.F) {
	good := seedCSR(f)
	f.Add(good)
	f.Add(strings.Replace(good, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST", 2))
	f.Add(good[:len(good)/2])
	f.Add("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		csr, err := parseCSR(text)
		if err != nil {
			if _, ok := logical.UserMessage(err); !ok {
				t.Fatalf("non user-facing error: %v", err)
			}
			return
		}
		if csr.CheckSignature() != nil {
			t.Fatal("accepted a CSR with a bad signature")
		}
		if _, err := publicKeyParams(csr.PublicKey); err != nil {
			t.Fatal("accepted an unsupported key")
		}
	})
}

// FuzzParsePEMBundle round-trips accepted bundles: re-encoding what was
// parsed must parse to the same certificates and keys.
func FuzzParsePEMBundle(f *testing.F) {
	// Small seeds (an Ed25519 root without SANs) keep the fuzzer's
	// minimisation of interesting inputs short.
	d := newDirect(f)
	resp := d.ok(logical.UpdateOperation, "root/generate/exported", map[string]any{
		"common_name": "r", "key_type": "ed25519", "exclude_cn_from_sans": true, "private_key_format": "pkcs8"})
	key, cert := resp.Data["private_key"].(string), resp.Data["certificate"].(string)
	f.Add(key + "\n" + cert)
	f.Add(cert)
	f.Add(key)
	f.Add("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n")
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
	f.Fuzz(func(t *testing.T, text string) {
		pb, err := parsePEMBundle(text)
		if err != nil {
			if _, ok := logical.UserMessage(err); !ok {
				t.Fatalf("non user-facing error: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		for _, c := range pb.certs {
			_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		for _, k := range pb.keys {
			block, err := marshalPrivateKey(k, "pkcs8")
			if err != nil {
				t.Fatalf("re-encode key: %v", err)
			}
			_ = pem.Encode(&buf, block)
		}
		again, err := parsePEMBundle(buf.String())
		if err != nil || len(again.certs) != len(pb.certs) || len(again.keys) != len(pb.keys) {
			t.Fatalf("round trip: %v", err)
		}
		for i, c := range pb.certs {
			if !again.certs[i].Equal(c) {
				t.Fatal("certificate changed in the round trip")
			}
		}
		for i, k := range pb.keys {
			if !samePublicKey(again.keys[i].Public(), k.Public()) {
				t.Fatal("key changed in the round trip")
			}
		}
	})
}

// FuzzIssueRequest sends arbitrary JSON bodies to issue/web: no panic, no
// internal error, and an issued certificate always obeys the role.
func FuzzIssueRequest(f *testing.F) {
	d := newDirect(f)
	d.ok(logical.UpdateOperation, "root/generate/internal", map[string]any{"common_name": "Fuzz Root", "key_type": "ec", "ttl": "87600h"})
	d.ok(logical.UpdateOperation, "roles/web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true,
		"allow_glob_domains": true, "key_type": "ec", "max_ttl": "48h", "no_store": true})
	role, err := loadRole(f.Context(), d.s, "web")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"common_name":"a.example.com"}`,
		`{"common_name":"a.example.com","alt_names":"b.example.com,x@c.example.com","ip_sans":"10.0.0.1","ttl":"1h"}`,
		`{"common_name":"*.example.com","format":"der","private_key_format":"pkcs8"}`,
		`{"common_name":"a.example.com","ttl":"9999h","format":"pem_bundle"}`,
		`{"common_name":"a.example.com","not_after":"2030-01-01T00:00:00Z"}`,
		`{"common_name":"evil.org"}`,
		`{"common_name":["x"],"ttl":{}}`,
		`{"alt_names":[1,2],"uri_sans":"spiffe://x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var in map[string]any
		if dec.Decode(&in) != nil {
			return
		}
		resp, err := d.do(logical.UpdateOperation, "issue/web", in)
		if err != nil {
			if _, ok := logical.UserMessage(err); !ok {
				t.Fatalf("internal error for %s: %v", body, err)
			}
			return
		}
		checkIssued(t, role, resp)
	})
}

func checkIssued(t *testing.T, role *roleEntry, resp *logical.Response) {
	t.Helper()
	text, _ := resp.Data["certificate"].(string)
	var c *x509.Certificate
	if block := firstCertBlock(text); block != nil {
		c, _ = x509.ParseCertificate(block.Bytes)
	} else if der, err := base64.StdEncoding.DecodeString(text); err == nil {
		c, _ = x509.ParseCertificate(der)
	}
	if c == nil {
		t.Fatalf("issued certificate does not parse: %.80q", text)
	}
	for _, n := range append(append([]string{}, c.DNSNames...), c.EmailAddresses...) {
		if !role.nameAllowed(n) {
			t.Fatalf("issued a certificate for %q, which the role does not allow", n)
		}
	}
	if life := c.NotAfter.Sub(c.NotBefore); life > role.MaxTTL+role.NotBeforeDuration {
		t.Fatalf("lifetime %v exceeds max_ttl %v", life, role.MaxTTL)
	}
	if len(c.URIs) > 0 {
		t.Fatal("URI SANs issued by a role that does not allow any name")
	}
}

// firstCertBlock returns the first CERTIFICATE block of a PEM text (a
// pem_bundle starts with the key).
func firstCertBlock(text string) *pem.Block {
	for rest := []byte(text); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil || b.Type == "CERTIFICATE" {
			return b
		}
	}
}

// FuzzOCSPRequest feeds arbitrary DER to the responder: it always answers
// with a well-formed OCSP response, never an error.
func FuzzOCSPRequest(f *testing.F) {
	d := newDirect(f)
	resp := d.ok(logical.UpdateOperation, "root/generate/internal", map[string]any{"common_name": "Fuzz Root", "key_type": "ec", "ttl": "87600h"})
	root := mustCert(f, resp.Data["certificate"].(string))
	d.ok(logical.UpdateOperation, "roles/any", map[string]any{"allow_any_name": true, "key_type": "ec"})
	leaf := mustCert(f, d.ok(logical.UpdateOperation, "issue/any", map[string]any{"common_name": "x"}).Data["certificate"].(string))
	req, err := ocsp.CreateRequest(leaf, root, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(req)
	f.Add(req[:len(req)-3])
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		resp, err := d.do(logical.UpdateOperation, "ocsp", map[string]any{RawBodyKey: der})
		if err != nil || resp == nil || resp.RawContentType != ocspContentType || len(resp.Raw) == 0 {
			t.Fatalf("responder failed: %v %+v", err, resp)
		}
		if resp.RawStatus == 200 {
			if _, err := ocsp.ParseResponse(resp.Raw, root); err != nil {
				t.Fatalf("unparseable 200 response: %v", err)
			}
		}
	})
}
