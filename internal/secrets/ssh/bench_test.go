package ssh

import (
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// benchSign measures sign/ through the backend: two storage reads, the
// role checks, and one signature by a CA of caType.
func benchSign(b *testing.B, caData map[string]any, parallel bool) {
	e := newEnv(b)
	e.ok(logical.UpdateOperation, "config/ca", caData)
	e.role("bench", map[string]any{"allowed_users": "alice", "default_extensions": map[string]any{"permit-pty": ""}})
	data := map[string]any{"public_key": authorizedLine(b, newKey(b, "ed25519")), "valid_principals": "alice"}
	b.ReportAllocs()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.do(logical.UpdateOperation, "sign/bench", data); err != nil {
					b.Error(err)
					return
				}
			}
		})
		return
	}
	for b.Loop() {
		if _, err := e.do(logical.UpdateOperation, "sign/bench", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) { benchSign(b, map[string]any{}, false) }

func BenchmarkSignParallel(b *testing.B) { benchSign(b, map[string]any{}, true) }

func BenchmarkSignRSA2048(b *testing.B) {
	benchSign(b, map[string]any{"key_type": "rsa", "key_bits": 2048}, false)
}

func BenchmarkParsePublicKey(b *testing.B) {
	line := authorizedLine(b, newKey(b, "ed25519"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parsePublicKey(line); err != nil {
			b.Fatal(err)
		}
	}
}
