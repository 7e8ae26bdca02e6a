package transit_test

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
)

func TestVaultAPISignVerifyAcrossTypesAndVersions(t *testing.T) {
	a := newAPIEnv(t)
	input := b64([]byte("message to sign"))
	other := b64([]byte("another message"))
	for _, tc := range []struct {
		typ  string
		path string // sign/verify suffix: "" or "/<hash>"
		opts map[string]any
	}{
		{typ: "ed25519"},
		{typ: "ecdsa-p256"},
		{typ: "ecdsa-p256", opts: map[string]any{"marshaling_algorithm": "jws"}},
		{typ: "ecdsa-p384", path: "/sha2-384"},
		{typ: "ecdsa-p521", path: "/sha2-512"},
		{typ: "rsa-2048"},
		{typ: "rsa-2048", path: "/sha3-256", opts: map[string]any{"signature_algorithm": "pkcs1v15"}},
		{typ: "rsa-3072", path: "/sha2-512", opts: map[string]any{"salt_length": "hash"}},
	} {
		name := strings.TrimRight(tc.typ+strings.ReplaceAll(tc.path, "/", "-")+"-"+
			toText(tc.opts["marshaling_algorithm"])+toText(tc.opts["signature_algorithm"]), "-")
		t.Run(name, func(t *testing.T) {
			a := a.sub(t)
			with := func(m map[string]any) map[string]any {
				for k, v := range tc.opts {
					m[k] = v
				}
				return m
			}
			a.write("keys/"+name, map[string]any{"type": tc.typ})
			sig1 := a.write("sign/"+name+tc.path, with(map[string]any{"input": input}))
			s1 := dataString(t, sig1, "signature")
			if !strings.HasPrefix(s1, "kinko:v1:") || toText(sig1.Data["key_version"]) != "1" {
				t.Fatalf("v1 signature %v", sig1.Data)
			}
			a.write("keys/"+name+"/rotate", nil)
			s2 := dataString(t, a.write("sign/"+name+tc.path, with(map[string]any{"input": input})), "signature")
			if !strings.HasPrefix(s2, "kinko:v2:") {
				t.Fatalf("v2 signature %q", s2)
			}
			verify := func(in, sig string) bool {
				t.Helper()
				s := a.write("verify/"+name+tc.path, with(map[string]any{"input": in, "signature": sig}))
				return s.Data["valid"] == true
			}
			if !verify(input, s1) || !verify(input, s2) || verify(other, s1) || verify(other, s2) {
				t.Fatal("verification results are wrong")
			}
			a.write("keys/"+name+"/config", map[string]any{"min_decryption_version": 2})
			a.fail("verify/"+name+tc.path, with(map[string]any{"input": input, "signature": s1}), http.StatusBadRequest, "too old")
			if !verify(input, s2) {
				t.Fatal("v2 signature no longer verifies")
			}
		})
	}
}

func TestVaultAPISignBatchAndPrehashed(t *testing.T) {
	a := newAPIEnv(t)
	a.write("keys/ec", map[string]any{"type": "ecdsa-p256"})
	digest := sha256.Sum256([]byte("data"))
	pre := dataString(t, a.write("sign/ec", map[string]any{"input": b64(digest[:]), "prehashed": true}), "signature")
	if v := a.write("verify/ec", map[string]any{"input": b64([]byte("data")), "signature": pre}); v.Data["valid"] != true {
		t.Fatal("a prehashed signature does not verify against the message")
	}
	resp := a.write("sign/ec", map[string]any{"batch_input": []any{
		map[string]any{"input": input("a"), "reference": "A"},
		map[string]any{"input": "!!"},
		map[string]any{},
	}})
	results := resp.Data["batch_results"].([]any)
	r0, r1, r2 := results[0].(map[string]any), results[1].(map[string]any), results[2].(map[string]any)
	if r0["reference"] != "A" || !strings.HasPrefix(toText(r0["signature"]), "kinko:v1:") ||
		!strings.Contains(toText(r1["error"]), "base64") || r2["error"] != "missing input" {
		t.Fatalf("batch results %v", results)
	}
	ver := a.write("verify/ec", map[string]any{"batch_input": []any{
		map[string]any{"input": input("a"), "signature": r0["signature"]},
		map[string]any{"input": input("b"), "signature": r0["signature"]},
		map[string]any{"input": input("a"), "signature": "nope"},
	}}).Data["batch_results"].([]any)
	if ver[0].(map[string]any)["valid"] != true || ver[1].(map[string]any)["valid"] != false ||
		!strings.Contains(toText(ver[2].(map[string]any)["error"]), "no prefix") {
		t.Fatalf("verify batch %v", ver)
	}
	a.fail("verify/ec", map[string]any{"input": input("a")}, http.StatusBadRequest, "neither a 'signature' nor an 'hmac'")
	a.fail("verify/ec", map[string]any{"batch_input": []any{
		map[string]any{"input": input("a"), "signature": pre}, map[string]any{"input": input("a"), "hmac": "kinko:v1:AA=="},
	}}, http.StatusBadRequest, "must all provide")
	a.fail("sign/ec/md5", map[string]any{"input": input("a")}, http.StatusBadRequest, "invalid hash algorithm")
	a.fail("sign/ec", map[string]any{"input": input("a"), "hash_algorithm": "none"}, http.StatusBadRequest, "hash_algorithm=none requires")
	a.fail("sign/missing", map[string]any{"input": input("a")}, http.StatusBadRequest, "signing key not found")
}

func TestVaultAPIDerivedEd25519(t *testing.T) {
	a := newAPIEnv(t)
	a.write("keys/ed", map[string]any{"type": "ed25519", "derived": true})
	c1, c2 := b64([]byte("user-1")), b64([]byte("user-2"))
	s1 := a.write("sign/ed", map[string]any{"input": input("m"), "context": c1})
	again := a.write("sign/ed", map[string]any{"input": input("m"), "context": c1})
	if dataString(t, s1, "signature") != dataString(t, again, "signature") || s1.Data["public_key"] == nil {
		t.Fatalf("derived ed25519 signatures: %v / %v", s1.Data, again.Data)
	}
	verify := func(ctx string) bool {
		return a.write("verify/ed", map[string]any{"input": input("m"), "context": ctx, "signature": s1.Data["signature"]}).Data["valid"] == true
	}
	if !verify(c1) || verify(c2) {
		t.Fatal("derived verification ignores the context")
	}
	a.fail("sign/ed", map[string]any{"input": input("m")}, http.StatusBadRequest, "missing 'context'")
	key := a.read("keys/ed").Data["keys"].(map[string]any)["1"].(map[string]any)
	if key["public_key"] != "" {
		t.Fatalf("a derived key shows a public key without context: %v", key)
	}
}

func TestVaultAPIHMAC(t *testing.T) {
	a := newAPIEnv(t)
	for _, typ := range []string{"hmac", "aes256-gcm96", "ed25519"} {
		t.Run(typ, func(t *testing.T) {
			a := a.sub(t)
			name := "mac-" + typ
			a.write("keys/"+name, map[string]any{"type": typ})
			h1 := dataString(t, a.write("hmac/"+name, map[string]any{"input": input("x")}), "hmac")
			a.write("keys/"+name+"/rotate", nil)
			h2 := dataString(t, a.write("hmac/"+name+"/sha2-512", map[string]any{"input": input("x")}), "hmac")
			if !strings.HasPrefix(h1, "kinko:v1:") || !strings.HasPrefix(h2, "kinko:v2:") {
				t.Fatalf("hmacs %q %q", h1, h2)
			}
			check := func(path, in, mac string) bool {
				return a.write("verify/"+name+path, map[string]any{"input": in, "hmac": mac}).Data["valid"] == true
			}
			if !check("", input("x"), h1) || !check("/sha2-512", input("x"), h2) || check("", input("y"), h1) || check("", input("x"), h2) {
				t.Fatal("hmac verification is wrong")
			}
			// The vault: prefix is accepted for values made by Vault.
			if !check("", input("x"), "vault:"+strings.TrimPrefix(h1, "kinko:")) {
				t.Fatal("vault: prefixed hmac does not verify")
			}
			a.write("keys/"+name+"/config", map[string]any{"min_decryption_version": 2})
			a.fail("verify/"+name, map[string]any{"input": input("x"), "hmac": h1}, http.StatusBadRequest, "too old")
		})
	}
	resp := a.write("hmac/mac-hmac", map[string]any{"batch_input": []any{
		map[string]any{"input": input("a")}, map[string]any{}, map[string]any{"input": ""},
	}}).Data["batch_results"].([]any)
	if !strings.HasPrefix(toText(resp[0].(map[string]any)["hmac"]), "kinko:v2:") ||
		resp[1].(map[string]any)["error"] != "missing input for HMAC" || resp[2].(map[string]any)["hmac"] == nil {
		t.Fatalf("hmac batch %v", resp)
	}
}

// input is the base64 of s.
func input(s string) string { return b64([]byte(s)) }
