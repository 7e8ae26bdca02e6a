package transit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// FuzzParseVersioned checks the parser of ciphertexts, signatures and
// HMACs never panics and that what it accepts formats back to itself.
func FuzzParseVersioned(f *testing.F) {
	for _, s := range []string{"kinko:v1:abc", "vault:v12:", "kinko:v:x", "kinko:v-1:x", "kinko:v999999999:x",
		"kinko:v1", "vault:v0:AAAA", "kinko:v01:x", "", "kinko:v1:a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ver, payload, err := parseVersioned(s, "ciphertext")
		if err != nil {
			if !errors.Is(err, logical.ErrInvalidRequest) {
				t.Fatalf("%q: error of the wrong kind: %v", s, err)
			}
			return
		}
		if ver < 0 {
			t.Fatalf("%q: negative version %d", s, ver)
		}
		again, p2, err := parseVersioned(versioned(ver, payload), "ciphertext")
		if err != nil || again != ver || p2 != payload {
			t.Fatalf("%q: reformatted value parses as %d %q %v", s, again, p2, err)
		}
	})
}

// fuzzEnv is a backend with one key of each kind the request fuzzer uses.
func fuzzEnv(t testing.TB) *env {
	e := newEnv(t)
	e.createKey("aes", typeAES256, nil)
	e.createKey("derived", typeChaCha20, map[string]any{"derived": true, "convergent_encryption": true})
	e.createKey("ec", typeP256, nil)
	e.createKey("ed", typeEd25519, map[string]any{"derived": true})
	e.createKey("mac", typeHMAC, nil)
	return e
}

// FuzzRequestBodies sends arbitrary JSON bodies to the data paths and
// checks the engine never panics, never fails with an internal error
// (bad input is always a 400), and that accepted encryptions decrypt.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		`{"plaintext":"aGVsbG8="}`,
		`{"plaintext":"aGVsbG8=","context":"Yw==","key_version":1}`,
		`{"batch_input":[{"plaintext":"YQ=="},{"plaintext":"!!"},{"plaintext":null}]}`,
		`{"batch_input":[{"ciphertext":"kinko:v1:AAAA","context":"Yw=="}],"partial_failure_response_code":200}`,
		`{"ciphertext":"vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
		`{"input":"YQ==","signature":"kinko:v1:MEUCIQ==","marshaling_algorithm":"jws"}`,
		`{"input":"YQ==","hmac":"kinko:v1:AA==","context":"Yw=="}`,
		`{"batch_input":[{"input":"YQ==","signature":"x"},{"input":"YQ==","hmac":"y"}]}`,
		`{"batch_input":"x","key_version":"-1","salt_length":"-5","hash_algorithm":"none","prehashed":true}`,
		`{"batch_input":[{"key_version":1e99}]}`,
	} {
		f.Add([]byte(s))
	}
	e := fuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var in map[string]any
		if dec.Decode(&in) != nil {
			return
		}
		for _, path := range []string{"encrypt/aes", "encrypt/derived", "decrypt/aes", "decrypt/derived", "rewrap/aes",
			"sign/ec", "sign/ed", "verify/ec", "verify/ed", "verify/mac", "hmac/mac", "datakey/wrapped/aes"} {
			resp, err := e.do(logical.UpdateOperation, path, in)
			if err != nil && !errors.Is(err, logical.ErrInvalidRequest) {
				t.Fatalf("%s %s: internal error %v", path, body, err)
			}
			if err == nil && path == "encrypt/aes" && resp.Data["ciphertext"] != nil {
				out, err := e.do(logical.UpdateOperation, "decrypt/aes", map[string]any{
					"ciphertext": resp.Data["ciphertext"], "associated_data": in["associated_data"]})
				// compared decoded: non-canonical base64 ("001=") is accepted,
				// as by Go's and Vault's decoders, and comes back canonical
				want, _ := base64.StdEncoding.DecodeString(fmt.Sprint(in["plaintext"]))
				got, _ := base64.StdEncoding.DecodeString(fmt.Sprint(out.Data["plaintext"]))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("accepted encryption of %s does not decrypt: %v", body, err)
				}
			}
		}
	})
}

// FuzzKWP checks the key unwrap never panics on arbitrary input and that
// wrap and unwrap round-trip.
func FuzzKWP(f *testing.F) {
	kek := bytes.Repeat([]byte{0x42}, 32)
	f.Add([]byte("key material"), []byte{})
	f.Add(make([]byte, 32), make([]byte, 24))
	f.Fuzz(func(t *testing.T, plain, wrapped []byte) {
		if out, err := kwpUnwrap(kek, wrapped); err == nil && len(out) == 0 {
			t.Fatal("unwrap returned nothing without an error")
		}
		if len(plain) == 0 {
			return
		}
		w, err := kwpWrap(kek, plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := kwpUnwrap(kek, w)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip of %x: %x %v", plain, got, err)
		}
	})
}

// FuzzRestore feeds arbitrary backups to restore: only user errors, no
// panics, and what is accepted is a usable key.
func FuzzRestore(f *testing.F) {
	e := newEnv(f)
	e.createKey("src", typeEd25519, map[string]any{"exportable": true, "allow_plaintext_backup": true})
	good := e.ok(logical.ReadOperation, "backup/src", nil).Data["backup"].(string)
	f.Add(good)
	f.Add(b64([]byte(`{"policy":{"name":"x","type":0,"latest_version":1,"keys":{"1":{"key":"AAAA"}}}}`)))
	f.Add(b64([]byte(`{"policy":{"name":"x","type":3,"latest_version":1,"keys":{"1":{"rsa_key":{"N":5,"E":3,"D":1,"Primes":[1,5]}}}}}`)))
	f.Fuzz(func(t *testing.T, backup string) {
		_, err := e.do(logical.UpdateOperation, "restore/fuzzed", map[string]any{"backup": backup, "force": true})
		if err != nil {
			if !errors.Is(err, logical.ErrInvalidRequest) {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		if _, err := e.do(logical.ReadOperation, "keys/fuzzed", nil); err != nil {
			t.Fatalf("restored key does not read: %v", err)
		}
	})
}
