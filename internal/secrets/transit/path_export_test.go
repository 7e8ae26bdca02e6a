package transit

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func exportKeys(t *testing.T, e *env, path string, data map[string]any) map[string]string {
	t.Helper()
	resp := e.ok(logical.ReadOperation, path, data)
	if resp == nil {
		t.Fatalf("%s: not found", path)
	}
	return resp.Data["keys"].(map[string]string)
}

func TestExportVersionsAndFormats(t *testing.T) {
	e := newEnv(t)
	e.createKey("k", typeAES256, map[string]any{"exportable": true})
	e.write("keys/k/rotate", nil)
	e.write("keys/k/rotate", nil)
	for path, want := range map[string]string{
		"export/encryption-key/k":        "1,2,3",
		"export/encryption-key/k/latest": "3",
		"export/encryption-key/k/v2":     "2",
		"export/hmac-key/k/1":            "1",
	} {
		keys := exportKeys(t, e, path, nil)
		var got []string
		for _, n := range []string{"1", "2", "3"} {
			if k, ok := keys[n]; ok && len(unb64(t, k)) == 32 {
				got = append(got, n)
			}
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s exported versions %v, want %s", path, keys, want)
		}
	}
	e.write("keys/k/config", map[string]any{"min_decryption_version": 2})
	if keys := exportKeys(t, e, "export/encryption-key/k", nil); len(keys) != 2 {
		t.Errorf("export below min_decryption_version: %v", keys)
	}
	e.fail(logical.ReadOperation, "export/encryption-key/k/1", nil, "below minimum decryption version")
	e.fail(logical.ReadOperation, "export/encryption-key/k/9", nil, "does not exist")
	e.fail(logical.ReadOperation, "export/encryption-key/k/x", nil, "invalid key version")
	e.fail(logical.ReadOperation, "export/signing-key/k", nil, "signing not supported")
	e.fail(logical.ReadOperation, "export/public-key/k", nil, "public key not available")
	e.fail(logical.ReadOperation, "export/secret-key/k", nil, "invalid export type")
	e.fail(logical.ReadOperation, "export/encryption-key/k", map[string]any{"format": "pem"}, "unknown format")
	if resp := e.ok(logical.ReadOperation, "export/encryption-key/missing", nil); resp != nil {
		t.Fatalf("export of a missing key: %v", resp.Data)
	}

	e.createKey("ed", typeEd25519, map[string]any{"exportable": true})
	pemKey := exportKeys(t, e, "export/signing-key/ed/1", map[string]any{"format": "pem"})["1"]
	block, _ := pem.Decode([]byte(pemKey))
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("pem signing key: %v", err)
	}
	raw := ed25519.PublicKey(unb64(t, exportKeys(t, e, "export/public-key/ed/1", nil)["1"]))
	if !priv.(ed25519.PrivateKey).Public().(ed25519.PublicKey).Equal(raw) {
		t.Fatal("pem private key and raw public key differ")
	}
	der := unb64(t, exportKeys(t, e, "export/public-key/ed/1", map[string]any{"format": "der"})["1"])
	if pub, err := x509.ParsePKIXPublicKey(der); err != nil || !raw.Equal(pub) {
		t.Fatalf("der public key: %v", err)
	}
	e.createKey("ec", typeP384, nil)
	e.fail(logical.ReadOperation, "export/signing-key/ec", nil, "not exportable")
	if k := exportKeys(t, e, "export/public-key/ec", nil)["1"]; !strings.HasPrefix(k, "-----BEGIN PUBLIC KEY-----") || strings.HasSuffix(k, "\n") {
		t.Fatalf("ec public key: %q", k)
	}
}
