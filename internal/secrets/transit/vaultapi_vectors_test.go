package transit_test

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// payload strips the version prefix of a kinko value and decodes it.
func payload(t testing.TB, v string) []byte {
	t.Helper()
	_, rest, ok := strings.Cut(strings.TrimPrefix(v, "kinko:v"), ":")
	if !ok {
		t.Fatalf("value %q has no version prefix", v)
	}
	return unb64(t, rest)
}

// exported reads export/kind/name/version and returns its single key.
func (a *apiEnv) exported(kind, name, version string) string {
	a.t.Helper()
	keys := a.read("export/" + kind + "/" + name + "/" + version).Data["keys"].(map[string]any)
	if len(keys) != 1 {
		a.t.Fatalf("export %s/%s/%s: %v", kind, name, version, keys)
	}
	for _, k := range keys {
		return k.(string)
	}
	return ""
}

func parsePublicPEM(t testing.TB, s string) crypto.PublicKey {
	t.Helper()
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		t.Fatalf("not PEM: %q", s)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestExportedKeysOpenKinkoOutput checks kinko's formats against the Go
// standard library: an exported key decrypts kinko's ciphertexts (nonce
// first, as Vault lays them out) and verifies its signatures.
func TestExportedKeysOpenKinkoOutput(t *testing.T) {
	a := newAPIEnv(t)
	msg := []byte("interoperable plaintext")
	for _, typ := range []string{"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"} {
		a.write("keys/"+typ, map[string]any{"type": typ, "exportable": true})
		a.write("keys/"+typ+"/rotate", nil)
		ct := payload(t, dataString(t, a.write("encrypt/"+typ, map[string]any{"plaintext": b64(msg)}), "ciphertext"))
		key := unb64(t, a.exported("encryption-key", typ, "latest"))
		var aead cipher.AEAD
		if typ == "chacha20-poly1305" {
			aead, _ = chacha20poly1305.New(key)
		} else {
			block, _ := aes.NewCipher(key)
			aead, _ = cipher.NewGCM(block)
		}
		plain, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], nil)
		if err != nil || !bytes.Equal(plain, msg) {
			t.Fatalf("%s: the exported key does not open kinko's ciphertext: %v", typ, err)
		}
		// And the other way: a ciphertext made locally decrypts in kinko.
		nonce := make([]byte, aead.NonceSize())
		rand.Read(nonce)
		local := "vault:v2:" + b64(aead.Seal(nonce, nonce, msg, nil))
		if got := dataString(t, a.write("decrypt/"+typ, map[string]any{"ciphertext": local}), "plaintext"); got != b64(msg) {
			t.Fatalf("%s: kinko does not decrypt a local ciphertext", typ)
		}
	}

	a.write("keys/mac", map[string]any{"type": "hmac", "exportable": true})
	mac := payload(t, dataString(t, a.write("hmac/mac", map[string]any{"input": b64(msg)}), "hmac"))
	m := hmac.New(sha256.New, unb64(t, a.exported("hmac-key", "mac", "1")))
	m.Write(msg)
	if !hmac.Equal(m.Sum(nil), mac) {
		t.Fatal("the exported hmac key does not reproduce kinko's HMAC")
	}
}

func TestExportedPublicKeysVerifySignatures(t *testing.T) {
	a := newAPIEnv(t)
	msg := []byte("signed message")
	digest := sha256.Sum256(msg)
	sign := func(name string, extra map[string]any) []byte {
		data := map[string]any{"input": b64(msg)}
		for k, v := range extra {
			data[k] = v
		}
		return payload(t, dataString(t, a.write("sign/"+name, data), "signature"))
	}

	a.write("keys/ed", map[string]any{"type": "ed25519", "exportable": true})
	edPub := ed25519.PublicKey(unb64(t, a.exported("public-key", "ed", "1")))
	if !ed25519.Verify(edPub, msg, sign("ed", nil)) {
		t.Fatal("ed25519 signature does not verify with the exported public key")
	}
	edPriv := ed25519.PrivateKey(unb64(t, a.exported("signing-key", "ed", "1")))
	if !edPriv.Public().(ed25519.PublicKey).Equal(edPub) {
		t.Fatal("exported ed25519 signing key does not match its public key")
	}

	a.write("keys/ec", map[string]any{"type": "ecdsa-p256"})
	ecPub := parsePublicPEM(t, a.exported("public-key", "ec", "1")).(*ecdsa.PublicKey)
	if !ecdsa.VerifyASN1(ecPub, digest[:], sign("ec", nil)) {
		t.Fatal("ecdsa signature does not verify with the exported public key")
	}
	jwsSig := dataString(t, a.write("sign/ec", map[string]any{"input": b64(msg), "marshaling_algorithm": "jws"}), "signature")
	jws, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(jwsSig, "kinko:v1:"))
	if err != nil {
		t.Fatalf("jws signature %q is not base64url: %v", jwsSig, err)
	}
	r, s := new(big.Int).SetBytes(jws[:32]), new(big.Int).SetBytes(jws[32:])
	if len(jws) != 64 || !ecdsa.Verify(ecPub, digest[:], r, s) {
		t.Fatal("jws-marshaled ecdsa signature does not verify")
	}

	a.write("keys/rsa", map[string]any{"type": "rsa-2048"})
	rsaPub := parsePublicPEM(t, a.exported("public-key", "rsa", "1")).(*rsa.PublicKey)
	if err := rsa.VerifyPSS(rsaPub, crypto.SHA256, digest[:], sign("rsa", nil), nil); err != nil {
		t.Fatalf("rsa pss: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(rsaPub, crypto.SHA256, digest[:], sign("rsa", map[string]any{"signature_algorithm": "pkcs1v15"})); err != nil {
		t.Fatalf("rsa pkcs1v15: %v", err)
	}
	// RSA keys also encrypt: OAEP with SHA-256, as Vault does.
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, rsaPub, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := dataString(t, a.write("decrypt/rsa", map[string]any{"ciphertext": "kinko:v1:" + b64(ct)}), "plaintext"); got != b64(msg) {
		t.Fatal("kinko does not decrypt a local RSA-OAEP ciphertext")
	}
	_, err = a.c.Logical().Read("transit/export/signing-key/rsa")
	if err == nil || !strings.Contains(err.Error(), "not exportable") || !strings.Contains(err.Error(), "400") {
		t.Fatalf("export of a non-exportable key: %v", err)
	}
}
