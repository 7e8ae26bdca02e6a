package transit_test

import (
	"bytes"
	"testing"
)

// BenchmarkHTTPEncryptAES256_1KiB measures encrypt through the whole
// server: HTTP, token check, policy, routing, audit and the engine.
func BenchmarkHTTPEncryptAES256_1KiB(b *testing.B) {
	a := newAPIEnv(b)
	a.write("keys/k", nil)
	data := map[string]any{"plaintext": b64(bytes.Repeat([]byte("0123456789abcdef"), 64))}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.c.Logical().Write("transit/encrypt/k", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHTTPDecryptAES256_1KiB(b *testing.B) {
	a := newAPIEnv(b)
	a.write("keys/k", nil)
	ct := a.write("encrypt/k", map[string]any{"plaintext": b64(bytes.Repeat([]byte("0123456789abcdef"), 64))}).Data["ciphertext"]
	data := map[string]any{"ciphertext": ct}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.c.Logical().Write("transit/decrypt/k", data); err != nil {
			b.Fatal(err)
		}
	}
}
