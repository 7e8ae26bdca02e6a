package transit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestEncryptDecryptRoundTripByType(t *testing.T) {
	e := newEnv(t)
	plaintexts := [][]byte{{}, []byte("x"), []byte("the quick brown fox"), bytes.Repeat([]byte{0, 0xff}, 4000)}
	for _, tc := range []struct {
		typ   keyType
		extra map[string]any
		ctx   map[string]any
	}{
		{typ: typeAES128},
		{typ: typeAES256},
		{typ: typeChaCha20},
		{typ: typeAES256, extra: map[string]any{"derived": true}, ctx: map[string]any{"context": b64([]byte("tenant-1"))}},
		{typ: typeChaCha20, extra: map[string]any{"derived": true}, ctx: map[string]any{"context": b64([]byte("tenant-2"))}},
		{typ: typeRSA2048},
	} {
		name := string(tc.typ)
		if tc.extra != nil {
			name += "-derived"
		}
		t.Run(name, func(t *testing.T) {
			e.createKey(name, tc.typ, tc.extra)
			for _, pt := range plaintexts {
				if tc.typ.rsa() && len(pt) > 100 {
					continue // RSA-OAEP encrypts short messages only
				}
				ct := e.encrypt(name, pt, tc.ctx)
				if !strings.HasPrefix(ct, "kinko:v1:") {
					t.Fatalf("ciphertext %q lacks the kinko:v1: prefix", ct)
				}
				if got := e.decrypt(name, ct, tc.ctx); !bytes.Equal(got, pt) {
					t.Fatalf("round trip of %d bytes gave %d bytes", len(pt), len(got))
				}
			}
		})
	}
}

func TestEncryptUpsertsOnCreate(t *testing.T) {
	e := newEnv(t)
	e.fail(logical.UpdateOperation, "encrypt/new", map[string]any{"plaintext": b64([]byte("a"))}, "encryption key not found")
	resp := e.ok(logical.CreateOperation, "encrypt/new", map[string]any{"plaintext": b64([]byte("a")), "type": "chacha20-poly1305"})
	if resp.Data["key_version"] != 1 {
		t.Fatalf("key_version %v", resp.Data["key_version"])
	}
	key := e.ok(logical.ReadOperation, "keys/new", nil)
	if key.Data["type"] != "chacha20-poly1305" || key.Data["derived"] != false {
		t.Fatalf("upserted key %v", key.Data)
	}
	e.ok(logical.CreateOperation, "encrypt/derived", map[string]any{"plaintext": "", "context": b64([]byte("c"))})
	if d := e.ok(logical.ReadOperation, "keys/derived", nil).Data; d["derived"] != true {
		t.Fatalf("encrypt with context did not make a derived key: %v", d)
	}
	e.fail(logical.CreateOperation, "encrypt/sig", map[string]any{"plaintext": "", "type": "ecdsa-p256"}, "not supported for this operation")
	e.write("config/keys", map[string]any{"disable_upsert": true})
	e.fail(logical.CreateOperation, "encrypt/other", map[string]any{"plaintext": ""}, "encryption key not found")
}

func TestRotationAndMinDecryptionVersion(t *testing.T) {
	e := newEnv(t)
	e.createKey("k", typeAES256, nil)
	v1 := e.encrypt("k", []byte("one"), nil)
	e.write("keys/k/rotate", nil)
	v2 := e.encrypt("k", []byte("two"), nil)
	if !strings.HasPrefix(v2, "kinko:v2:") {
		t.Fatalf("after rotate: %q", v2)
	}
	old := e.write("encrypt/k", map[string]any{"plaintext": b64([]byte("old")), "key_version": 1}).Data["ciphertext"].(string)
	if !strings.HasPrefix(old, "kinko:v1:") {
		t.Fatalf("key_version 1: %q", old)
	}
	rewrapped := e.write("rewrap/k", map[string]any{"ciphertext": v1}).Data["ciphertext"].(string)
	if !strings.HasPrefix(rewrapped, "kinko:v2:") || string(e.decrypt("k", rewrapped, nil)) != "one" {
		t.Fatalf("rewrap: %q", rewrapped)
	}
	e.write("keys/k/config", map[string]any{"min_decryption_version": 2})
	e.fail(logical.UpdateOperation, "decrypt/k", map[string]any{"ciphertext": v1}, "disallowed by policy (too old)")
	if string(e.decrypt("k", v2, nil)) != "two" {
		t.Fatal("v2 no longer decrypts")
	}
	e.fail(logical.UpdateOperation, "encrypt/k", map[string]any{"plaintext": "", "key_version": 3}, "higher than the latest")
	e.write("keys/k/config", map[string]any{"min_encryption_version": 2})
	e.fail(logical.UpdateOperation, "encrypt/k", map[string]any{"plaintext": "", "key_version": 1}, "less than the minimum encryption key version")
	keys := e.ok(logical.ReadOperation, "keys/k", nil).Data["keys"].(map[string]any)
	if len(keys) != 1 || keys["2"] == nil {
		t.Fatalf("keys below min_decryption_version are shown: %v", keys)
	}
}

func TestDecryptErrors(t *testing.T) {
	e := newEnv(t)
	e.createKey("k", typeAES256, nil)
	ct := e.encrypt("k", []byte("secret"), nil)
	payload := strings.TrimPrefix(ct, "kinko:v1:")
	raw := unb64(t, payload)
	raw[len(raw)-1] ^= 1
	for _, tc := range []struct{ ciphertext, msg string }{
		{"kinko:v1:" + b64(raw), "cipher: message authentication failed"},
		{"v1:" + payload, "no prefix"},
		{"kinko:v1" + payload, "wrong number of fields"},
		{"kinko:vx:" + payload, "version number could not be decoded"},
		{"kinko:v-1:" + payload, "version number could not be decoded"},
		{"kinko:v9:" + payload, "version is too new"},
		{"kinko:v1:!!!", "could not decode base64"},
		{"kinko:v1:" + b64([]byte("short")), "invalid ciphertext length"},
		{"", "missing ciphertext to decrypt"},
	} {
		e.fail(logical.UpdateOperation, "decrypt/k", map[string]any{"ciphertext": tc.ciphertext}, tc.msg)
	}
	e.fail(logical.UpdateOperation, "decrypt/nokey", map[string]any{"ciphertext": ct}, "encryption key not found")
	e.fail(logical.UpdateOperation, "encrypt/k", map[string]any{"plaintext": "%%%"}, "unable to decode plaintext as base64")
	e.fail(logical.UpdateOperation, "encrypt/k", nil, "missing plaintext to encrypt")
	// A vault: prefix is accepted: data migrated from Vault keeps working.
	if got := e.decrypt("k", "vault:v1:"+payload, nil); string(got) != "secret" {
		t.Fatalf("vault: prefix: %q", got)
	}
	e.createKey("sig", typeEd25519, nil)
	e.fail(logical.UpdateOperation, "encrypt/sig", map[string]any{"plaintext": ""}, "not supported for key type ed25519")
}

func TestDerivedAndConvergent(t *testing.T) {
	e := newEnv(t)
	e.createKey("d", typeAES256, map[string]any{"derived": true})
	c1 := map[string]any{"context": b64([]byte("ctx-1"))}
	c2 := map[string]any{"context": b64([]byte("ctx-2"))}
	ct := e.encrypt("d", []byte("p"), c1)
	e.fail(logical.UpdateOperation, "decrypt/d", map[string]any{"ciphertext": ct, "context": c2["context"]}, "message authentication failed")
	e.fail(logical.UpdateOperation, "encrypt/d", map[string]any{"plaintext": ""}, "missing 'context' for key derivation")
	if e.encrypt("d", []byte("p"), c1) == ct {
		t.Fatal("non-convergent key gave equal ciphertexts")
	}

	e.createKey("c", typeAES128, map[string]any{"derived": true, "convergent_encryption": true})
	a, b := e.encrypt("c", []byte("same"), c1), e.encrypt("c", []byte("same"), c1)
	if a != b {
		t.Fatalf("convergent encryption gave %q and %q", a, b)
	}
	if e.encrypt("c", []byte("same"), c2) == a || e.encrypt("c", []byte("other"), c1) == a {
		t.Fatal("convergent ciphertext does not depend on context and plaintext")
	}
	if string(e.decrypt("c", a, c1)) != "same" {
		t.Fatal("convergent ciphertext does not decrypt")
	}
	e.fail(logical.UpdateOperation, "keys/bad", map[string]any{"convergent_encryption": true}, "requires derivation")
	e.fail(logical.UpdateOperation, "keys/bad", map[string]any{"type": "ecdsa-p256", "derived": true}, "not supported for keys of type ecdsa-p256")
}

func TestBatchEncryptDecrypt(t *testing.T) {
	e := newEnv(t)
	e.createKey("k", typeAES256, nil)
	resp, err := e.do(logical.UpdateOperation, "encrypt/k", map[string]any{"batch_input": []any{
		map[string]any{"plaintext": b64([]byte("a")), "reference": "first"},
		map[string]any{"plaintext": "not base64!"},
		map[string]any{"plaintext": b64([]byte("c")), "key_version": "7"},
		map[string]any{"plaintext": b64([]byte("d"))},
	}})
	if err == nil || !strings.Contains(err.Error(), "2 of 4 batch items failed: batch item 1: unable to decode plaintext") {
		t.Fatalf("batch with failed items: %v", err)
	}
	results := resp.Data["batch_results"].([]encryptResult)
	if results[0].Reference != "first" || results[0].Ciphertext == "" || results[1].Error == "" ||
		!strings.Contains(results[2].Error, "higher than the latest") || results[3].KeyVersion != 1 {
		t.Fatalf("results %+v", results)
	}
	// partial_failure_response_code=200 answers a partly failed batch as a success.
	resp = e.write("decrypt/k", map[string]any{"partial_failure_response_code": 200, "batch_input": []any{
		map[string]any{"ciphertext": results[0].Ciphertext, "reference": "r0"},
		map[string]any{"ciphertext": "kinko:v1:AAAA"},
		map[string]any{"ciphertext": results[3].Ciphertext},
	}})
	dec := resp.Data["batch_results"].([]decryptResult)
	if string(unb64(t, dec[0].Plaintext)) != "a" || dec[0].Reference != "r0" || dec[1].Error != "invalid ciphertext length" ||
		string(unb64(t, dec[2].Plaintext)) != "d" {
		t.Fatalf("decrypt results %+v", dec)
	}
	e.fail(logical.UpdateOperation, "encrypt/k", map[string]any{"batch_input": []any{}}, "missing batch input")
	e.fail(logical.UpdateOperation, "encrypt/k", map[string]any{"batch_input": []any{map[string]any{"plaintext": 5}}}, "expected type 'string'")
	e.fail(logical.UpdateOperation, "encrypt/k", map[string]any{"batch_input": "x"}, "must be a list")
	e.fail(logical.UpdateOperation, "encrypt/k", map[string]any{"batch_input": []any{
		map[string]any{"plaintext": "", "context": "YQ=="}, map[string]any{"plaintext": ""}}}, "context should be set either in all")
}
