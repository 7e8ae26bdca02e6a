package userpass

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Login benchmarks through HandleRequest (in-memory storage, no barrier,
// no token mint). bcrypt dominates: the cost-10 runs are what a production
// login costs; the MinCost run shows the rest of the path.

func benchLogin(b *testing.B, cost int, password string) {
	e := newEnvWith(b, map[string]string{"lockout_disable": "true"}, cost)
	e.user("bench", map[string]any{"password": "bench-password", "token_policies": "app", "token_ttl": "1h"})
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := e.b.HandleRequest(context.Background(), &logical.Request{
				Operation: logical.UpdateOperation, Path: "login/bench", Storage: e.s,
				Data: map[string]any{"password": password},
				Conn: &logical.Connection{RemoteAddr: "127.0.0.1:1234"},
			})
			if (password == "bench-password") != (err == nil && resp != nil && resp.Auth != nil) {
				b.Fatalf("login: %v", err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}

func BenchmarkLoginCost10(b *testing.B) { benchLogin(b, bcrypt.DefaultCost, "bench-password") }

// BenchmarkLoginWrongPassword is a failed login, counted by the lockout.
func BenchmarkLoginWrongPasswordCost10(b *testing.B) { benchLogin(b, bcrypt.DefaultCost, "wrong") }

func BenchmarkLoginMinCost(b *testing.B) { benchLogin(b, bcrypt.MinCost, "bench-password") }

// BenchmarkLockedOut is a login refused by the lockout (no bcrypt).
func BenchmarkLockedOut(b *testing.B) {
	e := newEnv(b)
	e.user("bench", map[string]any{"password": "pw"})
	for range 5 {
		e.login("bench", "wrong")
	}
	req := func() *logical.Request {
		return &logical.Request{Operation: logical.UpdateOperation, Path: "login/bench", Storage: e.s,
			Data: map[string]any{"password": "pw"}, Conn: &logical.Connection{RemoteAddr: "127.0.0.1:1"}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.b.HandleRequest(context.Background(), req()); err != errDenied {
			b.Fatalf("err = %v", err)
		}
	}
}
