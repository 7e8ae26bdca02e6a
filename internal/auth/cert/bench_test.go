package cert

import (
	"context"
	"fmt"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// BenchmarkLogin measures a login through HandleRequest: storage reads,
// chain verification (one ECDSA P-256 signature) and constraint checks.
func BenchmarkLogin(b *testing.B) {
	cases := []struct {
		name  string
		roles int  // roles besides the matching one, each with its own CA
		named bool // login names the role
		crl   bool // a CRL is stored
	}{
		{"named-role", 0, true, false},
		{"all-roles/1", 0, false, false},
		{"all-roles/10", 9, false, false},
		{"all-roles/10+crl", 9, false, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b)
			ca := NewTestCA(b, "ca")
			for i := range tc.roles {
				e.role(fmt.Sprintf("a%02d", i), map[string]any{"certificate": NewTestCA(b, "other").PEM})
			}
			e.role("web", map[string]any{"certificate": ca.PEM, "allowed_common_names": "*.example.com", "token_policies": "web"})
			if tc.crl {
				e.ok(logical.UpdateOperation, "crls/main", map[string]any{"crl": ca.CRL(b, ca.Issue(b, CertOptions{}).Cert)})
			}
			var data map[string]any
			if tc.named {
				data = map[string]any{"name": "web"}
			}
			conn := &logical.Connection{RemoteAddr: "127.0.0.1:5000", ConnState: ca.Issue(b, CertOptions{CommonName: "api.example.com"}).ConnState()}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := e.b.HandleRequest(context.Background(), &logical.Request{Operation: logical.UpdateOperation,
						Path: "login", Data: data, Storage: e.s, MountPoint: "auth/cert/", Conn: conn})
					if err != nil || resp.Auth == nil {
						b.Fatalf("login: %v", err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}
