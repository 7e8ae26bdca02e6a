package transit

import (
	"bytes"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// benchPlaintext is the 1 KiB payload of the encryption benchmarks.
var benchPlaintext = b64(bytes.Repeat([]byte("0123456789abcdef"), 64))

func benchRequest(b *testing.B, e *env, path string, data map[string]any) {
	req := &logical.Request{Operation: logical.UpdateOperation, Path: path, Data: data, Storage: e.s}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.b.HandleRequest(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncryptAES256_1KiB(b *testing.B) {
	e := newEnv(b)
	e.createKey("k", typeAES256, nil)
	benchRequest(b, e, "encrypt/k", map[string]any{"plaintext": benchPlaintext})
}

func BenchmarkDecryptAES256_1KiB(b *testing.B) {
	e := newEnv(b)
	e.createKey("k", typeAES256, nil)
	ct := e.write("encrypt/k", map[string]any{"plaintext": benchPlaintext}).Data["ciphertext"]
	benchRequest(b, e, "decrypt/k", map[string]any{"ciphertext": ct})
}

func BenchmarkEncryptDerivedAES256_1KiB(b *testing.B) {
	e := newEnv(b)
	e.createKey("k", typeAES256, map[string]any{"derived": true})
	benchRequest(b, e, "encrypt/k", map[string]any{"plaintext": benchPlaintext, "context": b64([]byte("tenant"))})
}

func BenchmarkEncryptParallelAES256_1KiB(b *testing.B) {
	e := newEnv(b)
	e.createKey("k", typeAES256, nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := &logical.Request{Operation: logical.UpdateOperation, Path: "encrypt/k",
			Data: map[string]any{"plaintext": benchPlaintext}, Storage: e.s}
		for pb.Next() {
			if _, err := e.b.HandleRequest(b.Context(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSignEd25519(b *testing.B) {
	e := newEnv(b)
	e.createKey("k", typeEd25519, nil)
	benchRequest(b, e, "sign/k", map[string]any{"input": b64([]byte("message to sign"))})
}

func BenchmarkSignECDSAP256(b *testing.B) {
	e := newEnv(b)
	e.createKey("k", typeP256, nil)
	benchRequest(b, e, "sign/k", map[string]any{"input": b64([]byte("message to sign"))})
}

func BenchmarkVerifyECDSAP256(b *testing.B) {
	e := newEnv(b)
	e.createKey("k", typeP256, nil)
	in := b64([]byte("message to sign"))
	sig := e.write("sign/k", map[string]any{"input": in}).Data["signature"]
	benchRequest(b, e, "verify/k", map[string]any{"input": in, "signature": sig})
}

func BenchmarkHMACSHA256(b *testing.B) {
	e := newEnv(b)
	e.createKey("k", typeHMAC, nil)
	benchRequest(b, e, "hmac/k", map[string]any{"input": benchPlaintext})
}
