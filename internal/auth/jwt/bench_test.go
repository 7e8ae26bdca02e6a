package jwt

import (
	"context"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Backend-only login benchmarks (in-memory storage, no barrier, no token
// mint): signature verification dominates.

func benchLogin(b *testing.B, s *signer, jwks bool) {
	e := newEnv(b)
	e.b.now = time.Now
	if jwks {
		srv := newJWKSServer(b, false, s.jwk())
		e.ok(logical.UpdateOperation, "config", map[string]any{"jwks_url": srv.URL + "/keys"})
	} else {
		e.ok(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": s.pubPEM(b),
			"bound_issuer": "https://token.actions.githubusercontent.com"})
	}
	e.ok(logical.CreateOperation, "role/r", map[string]any{"role_type": "jwt", "bound_audiences": "https://github.com/octo-org",
		"bound_claims": map[string]any{"repository": "octo-org/octo-repo"}, "user_claim": "repository",
		"claim_mappings": map[string]any{"ref": "ref", "workflow": "workflow"}, "token_policies": "app"})
	tok := s.sign(b, githubClaims(time.Now()))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := e.b.HandleRequest(context.Background(), &logical.Request{
				Operation: logical.UpdateOperation, Path: "login", Storage: e.s,
				Data: map[string]any{"role": "r", "jwt": tok},
				Conn: &logical.Connection{RemoteAddr: "127.0.0.1:1234"},
			})
			if err != nil || resp.Auth == nil {
				b.Fatalf("login: %v", err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}

func BenchmarkLoginRS256(b *testing.B)     { benchLogin(b, sharedRSA(b, ""), false) }
func BenchmarkLoginES256(b *testing.B)     { benchLogin(b, newEC(b, ""), false) }
func BenchmarkLoginEdDSA(b *testing.B)     { benchLogin(b, newEd(b, ""), false) }
func BenchmarkLoginES256JWKS(b *testing.B) { benchLogin(b, newEC(b, "k1"), true) }
