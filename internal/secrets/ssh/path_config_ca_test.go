package ssh

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestConfigCAGenerate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     map[string]any
		wantType string
		wantSig  string // signature format of certificates
	}{
		{"default", map[string]any{}, ssh.KeyAlgoED25519, ssh.KeyAlgoED25519},
		{"generate flag only", map[string]any{"generate_signing_key": true}, ssh.KeyAlgoED25519, ssh.KeyAlgoED25519},
		{"ed25519 alias", map[string]any{"key_type": "ed25519"}, ssh.KeyAlgoED25519, ssh.KeyAlgoED25519},
		{"ssh-rsa", map[string]any{"key_type": "ssh-rsa", "key_bits": 2048}, ssh.KeyAlgoRSA, ssh.KeyAlgoRSASHA256},
		{"rsa alias", map[string]any{"key_type": "rsa", "key_bits": "2048"}, ssh.KeyAlgoRSA, ssh.KeyAlgoRSASHA256},
		{"p256", map[string]any{"key_type": "ecdsa-sha2-nistp256"}, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA256},
		{"p384", map[string]any{"key_type": "ecdsa-sha2-nistp384"}, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA384},
		{"p521", map[string]any{"key_type": "ecdsa-sha2-nistp521"}, ssh.KeyAlgoECDSA521, ssh.KeyAlgoECDSA521},
		{"ec 384", map[string]any{"key_type": "ec", "key_bits": 384}, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			resp := e.ok(logical.UpdateOperation, "config/ca", tc.data)
			line := resp.Data["public_key"].(string)
			if !strings.HasSuffix(line, "\n") {
				t.Errorf("public_key %q lacks Vault's trailing newline", line)
			}
			ca := parseAuthorized(t, line)
			if ca.Type() != tc.wantType {
				t.Fatalf("CA key type %s, want %s", ca.Type(), tc.wantType)
			}
			if got := e.ok(logical.ReadOperation, "config/ca", nil).Data["public_key"]; got != line {
				t.Errorf("config/ca read %q, want %q", got, line)
			}
			raw := e.ok(logical.ReadOperation, "public_key", nil)
			if string(raw.Raw) != line || raw.RawContentType != "text/plain" {
				t.Errorf("public_key = %q (%s), want %q as text/plain", raw.Raw, raw.RawContentType, line)
			}
			e.role("dev", map[string]any{"allowed_users": "alice"})
			cert := e.sign("dev", map[string]any{"valid_principals": "alice"})
			checkCert(t, ca, cert, "alice")
			if cert.Signature.Format != tc.wantSig {
				t.Errorf("signature format %s, want %s", cert.Signature.Format, tc.wantSig)
			}
		})
	}
}

func TestConfigCAGenerateErrors(t *testing.T) {
	for _, tc := range []struct {
		data map[string]any
		msg  string
	}{
		{map[string]any{"key_type": "ssh-rsa", "key_bits": 1024}, "between 2048 and 8192"},
		{map[string]any{"key_type": "rsa", "key_bits": 16384}, "between 2048 and 8192"},
		{map[string]any{"key_type": "ec", "key_bits": 224}, "256, 384 or 521"},
		{map[string]any{"key_type": "ssh-dss"}, "unknown key_type"},
		{map[string]any{"key_bits": "many"}, `invalid value for "key_bits"`},
		{map[string]any{"generate_signing_key": true, "public_key": "x"}, "must not be set when generate_signing_key"},
		{map[string]any{"generate_signing_key": false}, "both public_key and private_key"},
		{map[string]any{"public_key": "ssh-ed25519 AAAA"}, "both public_key and private_key"},
		{map[string]any{"private_key": "x"}, "both public_key and private_key"},
	} {
		t.Run(fmt.Sprint(tc.data), func(t *testing.T) {
			e := newEnv(t)
			e.fail(logical.UpdateOperation, "config/ca", tc.data, tc.msg)
			e.fail(logical.ReadOperation, "config/ca", nil, "keys haven't been configured yet")
		})
	}
}

// pemKey renders a private key in one of the formats an import accepts.
func pemKey(t *testing.T, k crypto.Signer, format string) string {
	t.Helper()
	var block *pem.Block
	switch format {
	case "openssh":
		b, err := ssh.MarshalPrivateKey(k, "ca")
		if err != nil {
			t.Fatal(err)
		}
		block = b
	case "pkcs8":
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	case "pkcs1":
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.(*rsa.PrivateKey))}
	case "sec1":
		der, err := x509.MarshalECPrivateKey(k.(*ecdsa.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	case "encrypted":
		// The header of a passphrase-protected OpenSSH key: the parser
		// refuses it before any key derivation, so the encrypted part
		// may be filler (generating a real one costs seconds of bcrypt).
		pub, err := ssh.NewPublicKey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		body := ssh.Marshal(struct {
			Cipher, KDF, KDFOpts string
			N                    uint32
			Pub, Priv            string
		}{"aes256-ctr", "bcrypt", "opts", 1, string(pub.Marshal()), strings.Repeat("x", 64)})
		block = &pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: append([]byte("openssh-key-v1\x00"), body...)}
	}
	return string(pem.EncodeToMemory(block))
}

func TestConfigCAImport(t *testing.T) {
	keys := map[string]crypto.Signer{"ed25519": newKey(t, "ed25519"), "rsa": newKey(t, "rsa"), "ecdsa": newKey(t, "ecdsa")}
	for _, tc := range []struct{ kind, format string }{
		{"ed25519", "openssh"}, {"ed25519", "pkcs8"},
		{"rsa", "openssh"}, {"rsa", "pkcs1"}, {"rsa", "pkcs8"},
		{"ecdsa", "openssh"}, {"ecdsa", "sec1"}, {"ecdsa", "pkcs8"},
	} {
		t.Run(tc.kind+"/"+tc.format, func(t *testing.T) {
			e := newEnv(t)
			k := keys[tc.kind]
			pub := authorizedLine(t, k)
			resp := e.ok(logical.UpdateOperation, "config/ca", map[string]any{"private_key": pemKey(t, k, tc.format), "public_key": pub})
			if resp != nil {
				t.Errorf("import answered %+v, want no body (204)", resp)
			}
			got := parseAuthorized(t, e.ok(logical.ReadOperation, "config/ca", nil).Data["public_key"].(string))
			want := parseAuthorized(t, pub)
			if string(got.Marshal()) != string(want.Marshal()) {
				t.Fatal("stored public key differs from the imported one")
			}
			e.role("dev", map[string]any{"allowed_users": "*"})
			checkCert(t, want, e.sign("dev", map[string]any{"valid_principals": "bob"}), "bob")
		})
	}
}

func TestConfigCAImportErrors(t *testing.T) {
	k, other := newKey(t, "ed25519"), newKey(t, "ed25519")
	priv := pemKey(t, k, "openssh")
	for _, tc := range []struct {
		name      string
		priv, pub string
		msg       string
	}{
		{"mismatch", priv, authorizedLine(t, other), "does not match"},
		{"encrypted", pemKey(t, k, "encrypted"), authorizedLine(t, k), "passphrase"},
		{"garbage private", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", authorizedLine(t, k), "unable to parse private_key"},
		{"garbage public", priv, "ssh-ed25519 !!!", "unable to parse public_key"},
		{"public not a key", priv, "not-a-key", "unable to parse public_key"},
		{"too long", priv + strings.Repeat("x", maxKeyText), authorizedLine(t, k), "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.do(logical.UpdateOperation, "config/ca", map[string]any{"private_key": tc.priv, "public_key": tc.pub})
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), priv[40:80]) {
				t.Fatalf("error message echoes the private key: %v", err)
			}
			e.fail(logical.ReadOperation, "config/ca", nil, "keys haven't been configured yet")
		})
	}
}

func TestConfigCAWeakImport(t *testing.T) {
	e := newEnv(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	e.fail(logical.UpdateOperation, "config/ca", map[string]any{"private_key": pemKey(t, weak, "pkcs1"), "public_key": authorizedLine(t, weak)},
		"at least 2048 bits")
}

func TestConfigCALifecycle(t *testing.T) {
	e := newEnv(t)
	e.fail(logical.ReadOperation, "public_key", nil, "no CA key", logical.ErrNotFound)
	e.ok(logical.DeleteOperation, "config/ca", nil) // deleting nothing is fine
	first := e.genCA()
	e.fail(logical.UpdateOperation, "config/ca", nil, "keys are already configured")
	e.role("dev", map[string]any{"allowed_users": "*"})
	checkCert(t, first, e.sign("dev", map[string]any{"valid_principals": "a"}), "a")

	e.ok(logical.DeleteOperation, "config/ca", nil)
	e.fail(logical.UpdateOperation, "sign/dev", map[string]any{"public_key": authorizedLine(t, newKey(t, "ed25519"))}, "no CA key is configured")
	second := e.genCA()
	if string(first.Marshal()) == string(second.Marshal()) {
		t.Fatal("a new CA has the old key")
	}
	// The cached signer of the first CA must not sign for the second.
	checkCert(t, second, e.sign("dev", map[string]any{"valid_principals": "a"}), "a")
}

// TestPrivateKeyNeverReturned reads every readable path and checks that
// no response carries private key material.
func TestPrivateKeyNeverReturned(t *testing.T) {
	e := newEnv(t)
	gen := e.ok(logical.UpdateOperation, "config/ca", nil)
	e.role("dev", map[string]any{"allowed_users": "*"})
	for _, resp := range []*logical.Response{
		gen,
		e.ok(logical.ReadOperation, "config/ca", nil),
		e.ok(logical.ReadOperation, "public_key", nil),
		e.ok(logical.ReadOperation, "roles/dev", nil),
		e.ok(logical.UpdateOperation, "sign/dev", map[string]any{"public_key": authorizedLine(t, newKey(t, "ed25519")), "valid_principals": "x"}),
	} {
		if s := fmt.Sprint(resp.Data, string(resp.Raw)); strings.Contains(s, "PRIVATE KEY") {
			t.Fatalf("response carries a private key: %s", s)
		}
	}
}
