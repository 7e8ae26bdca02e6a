package transit_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/secrets/transit"
)

// wrapForImport builds an import ciphertext as a BYOK client does:
// RSA-OAEP-SHA256(wrapping key, ephemeral AES-256 key) || KWP(ephemeral, key).
func (a *apiEnv) wrapForImport(key []byte) string {
	a.t.Helper()
	pub := parsePublicPEM(a.t, dataString(a.t, a.read("wrapping_key"), "public_key")).(*rsa.PublicKey)
	if pub.N.BitLen() != 4096 {
		a.t.Fatalf("wrapping key has %d bits", pub.N.BitLen())
	}
	eph := make([]byte, 32)
	rand.Read(eph)
	wrappedEph, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, eph, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	wrappedKey, err := transit.KWPWrap(eph, key)
	if err != nil {
		a.t.Fatal(err)
	}
	return b64(append(wrappedEph, wrappedKey...))
}

func gcmOpen(t testing.TB, key []byte, ct []byte) []byte {
	t.Helper()
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	plain, err := aead.Open(nil, ct[:12], ct[12:], nil)
	if err != nil {
		t.Fatalf("local decrypt: %v", err)
	}
	return plain
}

func TestVaultAPIImportRoundTrip(t *testing.T) {
	a := newAPIEnv(t)
	if a.read("wrapping_key").Data["public_key"] != a.read("wrapping_key").Data["public_key"] {
		t.Fatal("the wrapping key changes between reads")
	}
	key1 := make([]byte, 32)
	rand.Read(key1)
	a.write("keys/byok/import", map[string]any{"type": "aes256-gcm96", "ciphertext": a.wrapForImport(key1)})
	info := a.read("keys/byok").Data
	if info["imported_key"] != true || toText(info["latest_version"]) != "1" {
		t.Fatalf("imported key: %v", info)
	}
	ct := dataString(t, a.write("encrypt/byok", map[string]any{"plaintext": input("byok data")}), "ciphertext")
	if got := gcmOpen(t, key1, payload(t, ct)); string(got) != "byok data" {
		t.Fatalf("local decrypt gave %q", got)
	}
	key2 := make([]byte, 32)
	rand.Read(key2)
	a.write("keys/byok/import_version", map[string]any{"ciphertext": a.wrapForImport(key2)})
	ct2 := dataString(t, a.write("encrypt/byok", map[string]any{"plaintext": input("v2")}), "ciphertext")
	if !strings.HasPrefix(ct2, "kinko:v2:") || string(gcmOpen(t, key2, payload(t, ct2))) != "v2" {
		t.Fatalf("import_version: %q", ct2)
	}
	a.fail("keys/byok/rotate", nil, http.StatusBadRequest, "does not allow rotation")
	a.fail("keys/byok/import", map[string]any{"ciphertext": a.wrapForImport(key1)}, http.StatusBadRequest, "existing key")
	a.fail("keys/short/import", map[string]any{"ciphertext": a.wrapForImport(key1[:16])}, http.StatusBadRequest, "invalid key size")
	bad := unb64(t, a.wrapForImport(key1))
	bad[len(bad)-3] ^= 1 // inside the wrapped key material
	a.fail("keys/bad/import", map[string]any{"ciphertext": b64(bad)}, http.StatusBadRequest, "key unwrap failed")
	a.fail("keys/bad/import", map[string]any{"ciphertext": b64([]byte("short"))}, http.StatusBadRequest, "too short")
}

func TestVaultAPIImportAsymmetric(t *testing.T) {
	a := newAPIEnv(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	a.write("keys/ed/import", map[string]any{"type": "ed25519", "ciphertext": a.wrapForImport(der)})
	sig := payload(t, dataString(t, a.write("sign/ed", map[string]any{"input": input("m")}), "signature"))
	if !ed25519.Verify(pub, []byte("m"), sig) {
		t.Fatal("imported ed25519 key signs with another key")
	}

	// A public key alone verifies; its private half can come later.
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	a.write("keys/ec/import", map[string]any{"type": "ecdsa-p256", "public_key": pubPEM})
	digest := sha256.Sum256([]byte("m"))
	local, _ := ecdsa.SignASN1(rand.Reader, ec, digest[:])
	if v := a.write("verify/ec", map[string]any{"input": input("m"), "signature": "vault:v1:" + b64(local)}); v.Data["valid"] != true {
		t.Fatal("a signature does not verify with an imported public key")
	}
	a.fail("sign/ec", map[string]any{"input": input("m")}, http.StatusBadRequest, "does not contain a private part")
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	a.write("keys/ec/import_version", map[string]any{"ciphertext": a.wrapForImport(ecDER), "version": 1})
	if toText(a.read("keys/ec").Data["latest_version"]) != "1" {
		t.Fatal("completing version 1 added a version")
	}
	sig = payload(t, dataString(t, a.write("sign/ec", map[string]any{"input": input("m")}), "signature"))
	if !ecdsa.VerifyASN1(&ec.PublicKey, digest[:], sig) {
		t.Fatal("completed key signs with another key")
	}
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	otherDER, _ := x509.MarshalPKCS8PrivateKey(other)
	a.fail("keys/ec/import_version", map[string]any{"ciphertext": a.wrapForImport(otherDER)}, http.StatusBadRequest, "not a ecdsa-p256 key")
}

func TestVaultAPIBackupRestore(t *testing.T) {
	a := newAPIEnv(t)
	for _, typ := range []string{"aes256-gcm96", "ecdsa-p384", "ed25519", "rsa-2048", "hmac"} {
		t.Run(typ, func(t *testing.T) {
			a := a.sub(t)
			name := "b-" + typ
			a.write("keys/"+name, map[string]any{"type": typ})
			if _, err := a.c.Logical().Read("transit/backup/" + name + "-missing"); err == nil || !strings.Contains(err.Error(), "not found") {
				t.Fatalf("backup of a missing key: %v", err)
			}
			if _, err := a.c.Logical().Read("transit/backup/" + name); err == nil || !strings.Contains(err.Error(), "exporting is disallowed") {
				t.Fatalf("backup of a non-exportable key: %v", err)
			}
			a.write("keys/"+name+"/config", map[string]any{"exportable": true, "allow_plaintext_backup": true})
			a.write("keys/"+name+"/rotate", nil)
			op, field := "hmac/"+name, "hmac"
			if typ == "aes256-gcm96" {
				op, field = "encrypt/"+name, "ciphertext"
			} else if typ != "hmac" {
				op, field = "sign/"+name, "signature"
			}
			out := dataString(t, a.write(op, map[string]any{"input": input("x"), "plaintext": input("x")}), field)
			backup := dataString(t, a.read("backup/"+name), "backup")
			a.write("restore/"+name+"-copy", map[string]any{"backup": backup})
			copyInfo := a.read("keys/" + name + "-copy").Data
			if toText(copyInfo["latest_version"]) != "2" || copyInfo["restore_info"] == nil || copyInfo["exportable"] != true {
				t.Fatalf("restored key: %v", copyInfo)
			}
			checkRestored(a, typ, name+"-copy", out)
			a.fail("restore", map[string]any{"backup": backup}, http.StatusBadRequest, "already exists")
			a.write("restore", map[string]any{"backup": backup, "force": true})
		})
	}
	a.fail("restore/x", map[string]any{"backup": "!!"}, http.StatusBadRequest, "not base64")
	a.fail("restore/x", map[string]any{"backup": b64([]byte(`{"policy":{"type":99}}`))}, http.StatusBadRequest, "unsupported key type")
}

// checkRestored checks that a restored key still opens what the original made.
func checkRestored(a *apiEnv, typ, name, out string) {
	a.t.Helper()
	var valid bool
	switch typ {
	case "aes256-gcm96":
		valid = dataString(a.t, a.write("decrypt/"+name, map[string]any{"ciphertext": out}), "plaintext") == input("x")
	case "hmac":
		valid = a.write("verify/"+name, map[string]any{"input": input("x"), "hmac": out}).Data["valid"] == true
	default:
		valid = a.write("verify/"+name, map[string]any{"input": input("x"), "signature": out}).Data["valid"] == true
	}
	if !valid {
		a.t.Fatalf("%s: the restored key does not open the original's output", typ)
	}
}

// TestRestoreVaultBackup restores a backup in the shape Vault's backup
// endpoint produces and decrypts a ciphertext made with its key.
func TestRestoreVaultBackup(t *testing.T) {
	a := newAPIEnv(t)
	key := make([]byte, 32)
	rand.Read(key)
	hmacKey := bytes.Repeat([]byte{7}, 32)
	entry := map[string]any{"key": key, "hmac_key": hmacKey, "time": time.Unix(1700000000, 0), "ec_x": nil, "ec_y": nil,
		"ec_d": nil, "rsa_key": nil, "public_key": "", "convergent_version": 0, "creation_time": 1700000000}
	kd := map[string]any{
		"policy": map[string]any{"name": "from-vault", "keys": map[string]any{"1": entry}, "derived": false, "kdf": 0,
			"exportable": true, "min_decryption_version": 1, "min_encryption_version": 0, "latest_version": 1,
			"archive_version": 1, "deletion_allowed": false, "type": 0, "allow_plaintext_backup": true},
		"archived_keys": map[string]any{"keys": []any{map[string]any{}, entry}},
	}
	raw, _ := json.Marshal(kd)
	a.write("restore", map[string]any{"backup": b64(raw)})
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	ct := "vault:v1:" + b64(aead.Seal(nonce, nonce, []byte("from vault"), nil))
	if got := dataString(t, a.write("decrypt/from-vault", map[string]any{"ciphertext": ct}), "plaintext"); got != input("from vault") {
		t.Fatalf("decrypt with a key restored from a Vault backup: %q", got)
	}
	if k := a.read("keys/from-vault").Data["keys"].(map[string]any); toText(k["1"]) != "1700000000" {
		t.Fatalf("creation time of the restored version: %v", k)
	}
}
