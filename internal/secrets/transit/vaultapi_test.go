package transit_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// apiEnv is a real kinko server with transit mounted at transit/, driven
// by the official Vault client.
type apiEnv struct {
	t testing.TB
	c *vault.Client
}

func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	srv := testserver.Start(t)
	c := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	if err := c.Sys().Mount("transit", &vault.MountInput{Type: "transit"}); err != nil {
		t.Fatalf("mount transit: %v", err)
	}
	return &apiEnv{t: t, c: c}
}

// sub returns the env for a subtest, so failures stop the subtest.
func (a *apiEnv) sub(t testing.TB) *apiEnv { return &apiEnv{t: t, c: a.c} }

func (a *apiEnv) write(path string, data map[string]any) *vault.Secret {
	a.t.Helper()
	s, err := a.c.Logical().Write("transit/"+path, data)
	if err != nil {
		a.t.Fatalf("write %s: %v", path, err)
	}
	return s
}

func (a *apiEnv) read(path string) *vault.Secret {
	a.t.Helper()
	s, err := a.c.Logical().Read("transit/" + path)
	if err != nil || s == nil {
		a.t.Fatalf("read %s: %v %v", path, s, err)
	}
	return s
}

// fail writes and expects an HTTP status and a message fragment.
func (a *apiEnv) fail(path string, data map[string]any, status int, msg string) {
	a.t.Helper()
	_, err := a.c.Logical().Write("transit/"+path, data)
	var re *vault.ResponseError
	if !errors.As(err, &re) {
		a.t.Fatalf("write %s: expected HTTP %d, got %v", path, status, err)
	}
	if re.StatusCode != status || !strings.Contains(strings.Join(re.Errors, " "), msg) {
		a.t.Fatalf("write %s: got %d %v, want %d with %q", path, re.StatusCode, re.Errors, status, msg)
	}
}

func dataString(t testing.TB, s *vault.Secret, field string) string {
	t.Helper()
	v, ok := s.Data[field].(string)
	if !ok || v == "" {
		t.Fatalf("field %q missing in %v", field, s.Data)
	}
	return v
}

func TestVaultAPIEncryptDecryptRewrapDatakey(t *testing.T) {
	a := newAPIEnv(t)
	for _, typ := range []string{"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "rsa-2048"} {
		t.Run(typ, func(t *testing.T) {
			a := a.sub(t)
			name := "enc-" + typ
			a.write("keys/"+name, map[string]any{"type": typ})
			ct1 := dataString(t, a.write("encrypt/"+name, map[string]any{"plaintext": b64([]byte("hello"))}), "ciphertext")
			a.write("keys/"+name+"/rotate", nil)
			for v, ct := range map[int]string{1: ct1} {
				if !strings.HasPrefix(ct, "kinko:v1:") {
					t.Fatalf("v%d ciphertext %q", v, ct)
				}
			}
			pt := dataString(t, a.write("decrypt/"+name, map[string]any{"ciphertext": ct1}), "plaintext")
			if string(unb64(t, pt)) != "hello" {
				t.Fatalf("decrypt: %q", pt)
			}
			rw := a.write("rewrap/"+name, map[string]any{"ciphertext": ct1})
			if ct := dataString(t, rw, "ciphertext"); !strings.HasPrefix(ct, "kinko:v2:") {
				t.Fatalf("rewrap: %q", ct)
			}
			dk := a.write("datakey/plaintext/"+name, map[string]any{"bits": 512})
			key := unb64(t, dataString(t, dk, "plaintext"))
			opened := dataString(t, a.write("decrypt/"+name, map[string]any{"ciphertext": dataString(t, dk, "ciphertext")}), "plaintext")
			if len(key) != 64 || opened != dataString(t, dk, "plaintext") {
				t.Fatalf("datakey: %d bytes, decrypts to the key: %v", len(key), opened == dataString(t, dk, "plaintext"))
			}
			wrapped := a.write("datakey/wrapped/"+name, nil)
			if _, has := wrapped.Data["plaintext"]; has {
				t.Fatal("datakey/wrapped returned the plaintext")
			}
		})
	}
}

func TestVaultAPIErrors(t *testing.T) {
	a := newAPIEnv(t)
	a.write("keys/aes", nil)
	a.write("keys/ed", map[string]any{"type": "ed25519"})
	ct := dataString(t, a.write("encrypt/aes", map[string]any{"plaintext": b64([]byte("x"))}), "ciphertext")
	tampered := ct[:len(ct)-3] + "AAA"
	if tampered == ct {
		tampered = ct[:len(ct)-3] + "BBB"
	}
	for _, tc := range []struct {
		path string
		data map[string]any
		msg  string
	}{
		{"decrypt/aes", map[string]any{"ciphertext": tampered}, "cipher: message authentication failed"},
		{"decrypt/aes", map[string]any{"ciphertext": "garbage"}, "invalid ciphertext: no prefix"},
		{"decrypt/missing", map[string]any{"ciphertext": ct}, "encryption key not found"},
		{"encrypt/aes", map[string]any{"plaintext": "***"}, "unable to decode plaintext as base64"},
		{"sign/aes", map[string]any{"input": "YQ=="}, "does not support signing"},
		{"encrypt/ed", map[string]any{"plaintext": "YQ=="}, "not supported for key type ed25519"},
		{"keys/bad", map[string]any{"type": "des"}, "unknown key type"},
		{"encrypt/aes", map[string]any{"batch_input": []any{map[string]any{"plaintext": "YQ=="}, map[string]any{"plaintext": "!"}}},
			"1 of 2 batch items failed: batch item 1"},
	} {
		a.fail(tc.path, tc.data, http.StatusBadRequest, tc.msg)
	}
	_, err := a.c.Logical().Delete("transit/keys/aes")
	var re *vault.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest || !strings.Contains(re.Error(), "deletion is not allowed") {
		t.Fatalf("delete without deletion_allowed: %v", err)
	}
	a.write("keys/aes/config", map[string]any{"deletion_allowed": true})
	if _, err := a.c.Logical().Delete("transit/keys/aes"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if s, err := a.c.Logical().Read("transit/keys/aes"); err != nil || s != nil {
		t.Fatalf("deleted key still reads: %v %v", s, err)
	}
}

func TestVaultAPIKeyReadAndList(t *testing.T) {
	a := newAPIEnv(t)
	a.write("keys/sym", map[string]any{"exportable": true, "auto_rotate_period": "24h"})
	a.write("keys/ec", map[string]any{"type": "ecdsa-p256"})
	k := a.read("keys/sym").Data
	for field, want := range map[string]any{
		"type": "aes256-gcm96", "latest_version": "1", "min_decryption_version": "1", "min_encryption_version": "0",
		"deletion_allowed": false, "exportable": true, "supports_encryption": true, "supports_decryption": true,
		"supports_signing": false, "supports_derivation": true, "auto_rotate_period": "86400", "derived": false,
	} {
		if got := k[field]; toText(got) != toText(want) {
			t.Errorf("keys/sym %s = %v, want %v", field, got, want)
		}
	}
	if keys := k["keys"].(map[string]any); len(keys) != 1 || toText(keys["1"]) == "" {
		t.Errorf("keys/sym keys = %v", k["keys"])
	}
	ec := a.read("keys/ec").Data["keys"].(map[string]any)["1"].(map[string]any)
	if ec["name"] != "P-256" || !strings.HasPrefix(ec["public_key"].(string), "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("keys/ec version 1 = %v", ec)
	}
	list, err := a.c.Logical().List("transit/keys")
	if err != nil || list == nil {
		t.Fatalf("list: %v", err)
	}
	if got := list.Data["keys"].([]any); len(got) != 2 || got[0] != "ec" || got[1] != "sym" {
		t.Fatalf("list = %v", got)
	}
}

// toText renders a JSON value for comparison (json.Number and strings alike).
func toText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	return ""
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return b
}

// TestVaultAPIUpsertNeedsCreate checks that encrypt creates a missing key
// only for a caller with the create capability, as in Vault.
func TestVaultAPIUpsertNeedsCreate(t *testing.T) {
	a := newAPIEnv(t)
	a.write("keys/existing", nil)
	token := func(policy, rules string) *vault.Client {
		if err := a.c.Sys().PutPolicy(policy, rules); err != nil {
			t.Fatal(err)
		}
		secret, err := a.c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{policy}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.c.Clone()
		if err != nil {
			t.Fatal(err)
		}
		c.SetToken(secret.Auth.ClientToken)
		return c
	}
	updater := token("update-only", `path "transit/encrypt/*" { capabilities = ["update"] }`)
	data := map[string]any{"plaintext": input("x")}
	if _, err := updater.Logical().Write("transit/encrypt/existing", data); err != nil {
		t.Fatalf("update-only encrypt with an existing key: %v", err)
	}
	_, err := updater.Logical().Write("transit/encrypt/new-key", data)
	var re *vault.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		t.Fatalf("update-only encrypt with a missing key: %v", err)
	}
	creator := token("create", `path "transit/encrypt/*" { capabilities = ["create", "update"] }`)
	if _, err := creator.Logical().Write("transit/encrypt/new-key", data); err != nil {
		t.Fatalf("create+update encrypt with a missing key: %v", err)
	}
	if k := a.read("keys/new-key").Data; k["type"] != "aes256-gcm96" {
		t.Fatalf("upserted key: %v", k)
	}
}

func TestVaultAPIBatch(t *testing.T) {
	a := newAPIEnv(t)
	a.write("keys/k", nil)
	enc := a.write("encrypt/k", map[string]any{"batch_input": []any{
		map[string]any{"plaintext": input("one"), "reference": "r1"},
		map[string]any{"plaintext": input("two"), "reference": "r2"},
	}}).Data["batch_results"].([]any)
	ct0, ct1 := enc[0].(map[string]any), enc[1].(map[string]any)
	if ct0["reference"] != "r1" || toText(ct1["key_version"]) != "1" {
		t.Fatalf("encrypt batch %v", enc)
	}
	// With partial_failure_response_code, a partly failed batch is a 200
	// whose failed items carry their error.
	dec := a.write("decrypt/k", map[string]any{"partial_failure_response_code": 200, "batch_input": []any{
		map[string]any{"ciphertext": ct0["ciphertext"]},
		map[string]any{"ciphertext": "kinko:v1:" + b64(make([]byte, 40))},
		map[string]any{"ciphertext": ct1["ciphertext"]},
	}}).Data["batch_results"].([]any)
	if dec[0].(map[string]any)["plaintext"] != input("one") || dec[2].(map[string]any)["plaintext"] != input("two") ||
		dec[1].(map[string]any)["error"] != "cipher: message authentication failed" {
		t.Fatalf("decrypt batch %v", dec)
	}
	a.fail("decrypt/k", map[string]any{"batch_input": []any{
		map[string]any{"ciphertext": ct0["ciphertext"]}, map[string]any{"ciphertext": "x"},
	}}, http.StatusBadRequest, "1 of 2 batch items failed: batch item 1: invalid ciphertext: no prefix")
	rw := a.write("rewrap/k", map[string]any{"batch_input": []any{
		map[string]any{"ciphertext": ct0["ciphertext"]}, map[string]any{"ciphertext": "x"},
	}}).Data["batch_results"].([]any)
	if !strings.HasPrefix(toText(rw[0].(map[string]any)["ciphertext"]), "kinko:v1:") || rw[1].(map[string]any)["error"] == nil {
		t.Fatalf("rewrap batch (200 with per-item errors) %v", rw)
	}
}
