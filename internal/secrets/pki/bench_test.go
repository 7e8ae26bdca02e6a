package pki

import (
	"encoding/base64"
	"fmt"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/kinko-dev/kinko/internal/logical"
)

// benchBackend has an EC P-256 root and roles "ec" (P-256) and "rsa"
// (RSA 2048) that store what they issue.
func benchBackend(b *testing.B) *direct {
	d := newDirect(b)
	d.ok(logical.UpdateOperation, "root/generate/internal", map[string]any{"common_name": "Bench Root", "key_type": "ec", "ttl": "87600h"})
	d.ok(logical.UpdateOperation, "roles/ec", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"})
	d.ok(logical.UpdateOperation, "roles/rsa", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "rsa", "key_bits": 2048})
	return d
}

func benchIssue(b *testing.B, role string) {
	d := benchBackend(b)
	data := map[string]any{"common_name": "www.example.com", "alt_names": "api.example.com", "ttl": "24h"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.do(logical.UpdateOperation, "issue/"+role, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
}

func BenchmarkIssueEC256(b *testing.B)   { benchIssue(b, "ec") }
func BenchmarkIssueRSA2048(b *testing.B) { benchIssue(b, "rsa") }

func BenchmarkIssueEC256Parallel(b *testing.B) {
	d := benchBackend(b)
	data := map[string]any{"common_name": "www.example.com", "ttl": "24h"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := d.do(logical.UpdateOperation, "issue/ec", data); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
}

// benchOCSP returns a backend and the base64 OCSP request for one of
// its certificates, with n certificates revoked.
func benchOCSP(b *testing.B, revoked int) (*direct, string) {
	d := benchBackend(b)
	root := mustCert(b, d.ok(logical.ReadOperation, "cert/ca", nil).Data["certificate"].(string))
	var leafPEM string
	for i := 0; i <= revoked; i++ {
		resp := d.ok(logical.UpdateOperation, "issue/ec", map[string]any{"common_name": fmt.Sprintf("h%d.example.com", i)})
		leafPEM = resp.Data["certificate"].(string)
		if i < revoked {
			d.ok(logical.UpdateOperation, "revoke", map[string]any{"serial_number": resp.Data["serial_number"]})
		}
	}
	req, err := ocsp.CreateRequest(mustCert(b, leafPEM), root, nil)
	if err != nil {
		b.Fatal(err)
	}
	return d, base64.StdEncoding.EncodeToString(req)
}

func BenchmarkOCSP(b *testing.B) {
	d, req := benchOCSP(b, 10)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := d.do(logical.ReadOperation, "ocsp/"+req, nil)
		if err != nil || resp.RawStatus != 200 {
			b.Fatalf("%v %+v", err, resp)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
}

func BenchmarkOCSPParallel(b *testing.B) {
	d, req := benchOCSP(b, 10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if resp, err := d.do(logical.ReadOperation, "ocsp/"+req, nil); err != nil || resp.RawStatus != 200 {
				b.Errorf("%v %+v", err, resp)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
}

// BenchmarkRevoke measures a revocation, which re-signs the issuer's CRL
// over every revoked certificate: the CRL starts with base entries and
// grows by one per iteration.
func BenchmarkRevoke(b *testing.B) {
	for _, base := range []int{0, 1000} {
		b.Run(fmt.Sprintf("revoked=%d", base), func(b *testing.B) {
			d := benchBackend(b)
			issue := func() any {
				return d.ok(logical.UpdateOperation, "issue/ec", map[string]any{"common_name": "r.example.com"}).Data["serial_number"]
			}
			for range base {
				d.ok(logical.UpdateOperation, "revoke", map[string]any{"serial_number": issue()})
			}
			for b.Loop() {
				b.StopTimer()
				serial := issue()
				b.StartTimer()
				d.ok(logical.UpdateOperation, "revoke", map[string]any{"serial_number": serial})
			}
		})
	}
}
