package ssh

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/logical"
)

// FuzzParsePublicKey feeds arbitrary text to the public key parser: it
// never panics, never returns a certificate, and what it accepts survives
// a round trip through the authorized_keys format.
func FuzzParsePublicKey(f *testing.F) {
	line := authorizedLine(f, newKey(f, "ed25519"))
	for _, s := range []string{
		line, strings.Fields(line)[1], "ssh-ed25519", "ssh-rsa AAAA", "", " \n ",
		`command="x" ` + line, line + "\n" + line, "# comment\n" + line,
		authorizedLine(f, newKey(f, "ecdsa")), "AAAAC3NzaC1lZDI1NTE5AAAAIA==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		key, err := parsePublicKey(text)
		if err != nil {
			if key != nil {
				t.Fatal("a key returned with an error")
			}
			return
		}
		if _, isCert := key.(*ssh.Certificate); isCert {
			t.Fatal("a certificate was accepted as a public key")
		}
		again, err := parsePublicKey(string(ssh.MarshalAuthorizedKey(key)))
		if err != nil || !bytes.Equal(again.Marshal(), key.Marshal()) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

// fuzzRole is the role FuzzSignRequest signs with; accepted certificates
// must stay inside it.
var fuzzRole = map[string]any{
	"key_type": "ca", "allow_user_certificates": true, "allow_host_certificates": true,
	"allowed_users": "alice,bob", "default_user": "alice", "allowed_domains": "example.com", "allow_subdomains": true,
	"max_ttl": "2h", "allowed_extensions": "permit-pty", "allowed_critical_options": "force-command",
	"allow_user_key_ids": true,
}

// FuzzSignRequest sends arbitrary JSON bodies to sign/ and checks that the
// engine never panics and that every certificate it signs verifies and
// keeps to the role.
func FuzzSignRequest(f *testing.F) {
	e := newEnv(f)
	ca := e.genCA()
	e.ok(logical.UpdateOperation, "roles/fz", fuzzRole)
	pub, _ := json.Marshal(authorizedLine(f, newKey(f, "ed25519")))
	for _, s := range []string{
		`{"public_key":` + string(pub) + `}`,
		`{"public_key":` + string(pub) + `,"valid_principals":"bob,alice","ttl":"1h"}`,
		`{"public_key":` + string(pub) + `,"cert_type":"host","valid_principals":"a.example.com"}`,
		`{"public_key":` + string(pub) + `,"extensions":{"permit-pty":""},"critical_options":{"force-command":"id"}}`,
		`{"public_key":` + string(pub) + `,"valid_principals":["carol"],"ttl":-1}`,
		`{"public_key":` + string(pub) + `,"key_id":"x","ttl":1e300,"extensions":{"a":{"b":1}}}`,
		`{"public_key":"ssh-ed25519 AAAA","cert_type":7}`,
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
		resp, err := e.do(logical.UpdateOperation, "sign/fz", in)
		if err != nil {
			return
		}
		signed, _ := resp.Data["signed_key"].(string)
		cert := parseCert(t, signed)
		checkFuzzCert(t, ca, cert)
	})
}

func checkFuzzCert(t *testing.T, ca ssh.PublicKey, cert *ssh.Certificate) {
	t.Helper()
	if !bytes.Equal(cert.SignatureKey.Marshal(), ca.Marshal()) {
		t.Fatal("signed by another key")
	}
	if err := cert.SignatureKey.Verify(certBytesForSigning(cert), cert.Signature); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if life := time.Duration(cert.ValidBefore-cert.ValidAfter) * time.Second; life > 2*time.Hour+defaultNotBefore {
		t.Fatalf("lifetime %s above the role's max_ttl", life)
	}
	for _, p := range cert.ValidPrincipals {
		user := cert.CertType == ssh.UserCert && (p == "alice" || p == "bob")
		host := cert.CertType == ssh.HostCert && strings.HasSuffix(p, ".example.com") && len(p) > len(".example.com")
		if !user && !host {
			t.Fatalf("principal %q outside the role (cert type %d)", p, cert.CertType)
		}
	}
	if len(cert.ValidPrincipals) == 0 {
		t.Fatal("a certificate without principals")
	}
	for k := range cert.Extensions {
		if k != "permit-pty" {
			t.Fatalf("extension %q outside the role", k)
		}
	}
	for k := range cert.CriticalOptions {
		if !slices.Contains([]string{"force-command"}, k) {
			t.Fatalf("critical option %q outside the role", k)
		}
	}
}

// certBytesForSigning is the signed part of a certificate: its wire form
// without the trailing signature.
func certBytesForSigning(c *ssh.Certificate) []byte {
	cp := *c
	cp.Signature = nil
	out := cp.Marshal()
	return out[:len(out)-4] // drop the empty signature's length
}

// FuzzRoleWrite sends arbitrary JSON bodies to roles/ and checks that an
// accepted role reads back and a refused one is not stored.
func FuzzRoleWrite(f *testing.F) {
	e := newEnv(f)
	seed, _ := json.Marshal(fuzzRole)
	for _, s := range []string{
		string(seed), `{"key_type":"ca"}`, `{"key_type":"otp","default_user":"x"}`,
		`{"key_type":"ca","allow_user_certificates":true,"allowed_user_key_lengths":{"rsa":[2048,"4096"],"ec":"256,384"}}`,
		`{"key_type":"ca","allow_host_certificates":"true","ttl":"1h","max_ttl":"30m"}`,
		`{"key_type":"ca","allow_user_certificates":1,"default_extensions":{"a":1,"b":null,"c":[]}}`,
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
		_ = e.s.Delete(t.Context(), rolePrefix+"r")
		_, err := e.do(logical.UpdateOperation, "roles/r", in)
		resp, rerr := e.do(logical.ReadOperation, "roles/r", nil)
		switch {
		case rerr != nil:
			t.Fatalf("read back: %v", rerr)
		case err == nil && resp == nil:
			t.Fatal("an accepted role does not read back")
		case err != nil && resp != nil:
			t.Fatalf("a refused role was stored: %v", err)
		}
	})
}
