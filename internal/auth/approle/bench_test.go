package approle

import (
	"context"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Backend-only login benchmarks (in-memory storage, no barrier, no token
// mint): the cost this package adds to a login.

func benchLogin(b *testing.B, secretData map[string]any) {
	e := newEnv(b)
	roleID := e.role("bench", map[string]any{"token_policies": "app", "token_ttl": "1h"})
	sid, _ := e.secret("bench", secretData)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := e.b.HandleRequest(context.Background(), &logical.Request{
				Operation: logical.UpdateOperation, Path: "login", Storage: e.s,
				Data: map[string]any{"role_id": roleID, "secret_id": sid},
				Conn: &logical.Connection{RemoteAddr: "127.0.0.1:1234"},
			})
			if err != nil || resp.Auth == nil {
				b.Fatalf("login: %v", err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}

func BenchmarkBackendLogin(b *testing.B) { benchLogin(b, nil) }

// BenchmarkBackendLoginNumUses spends a use on every login (one locked
// read-modify-write per login).
func BenchmarkBackendLoginNumUses(b *testing.B) {
	benchLogin(b, map[string]any{"num_uses": 1 << 30})
}
