package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/server"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// In-process benchmarks of the whole pipeline below the network: decode,
// token lookup, ACL check, routing, KV engine, barrier, envelope encoding.

func BenchmarkHandlerKVv2Read(b *testing.B) { benchKVRead(b, false) }

// BenchmarkHandlerKVv2ReadAudited is the same read with one file audit
// device enabled: the difference is the audit overhead.
func BenchmarkHandlerKVv2ReadAudited(b *testing.B) { benchKVRead(b, true) }

func benchKVRead(b *testing.B, audited bool) {
	dir := b.TempDir()
	s := testserver.StartWith(b, server.DevOptions{AuditDir: dir})
	h := s.Handler
	if audited {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("PUT", "/v1/sys/audit/file", strings.NewReader(`{"type":"file","options":{"file_path":"`+dir+`/audit.log"}}`))
		req.Header.Set("X-Vault-Token", s.RootToken)
		h.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			b.Fatalf("enable audit: %d %s", w.Code, w.Body)
		}
	}
	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/secret/data/bench", strings.NewReader(`{"data":{"user":"app","password":"pw"}}`))
	req.Header.Set("X-Vault-Token", s.RootToken)
	h.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("write: %d", w.Code)
	}
	b.ReportAllocs()
	b.SetParallelism(16) // many clients, as a loaded server sees them
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "/v1/secret/data/bench", nil)
			req.Header.Set("X-Vault-Token", s.RootToken)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("read: %d", w.Code)
			}
		}
	})
}

// BenchmarkHandlerKVv2ReadPolicy reads with a non-root token, so the ACL
// check evaluates a real policy.
func BenchmarkHandlerKVv2ReadPolicy(b *testing.B) {
	s := testserver.Start(b)
	h := s.Handler
	do := func(method, path, token, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-Vault-Token", token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	do("POST", "/v1/secret/data/app/db", s.RootToken, `{"data":{"password":"pw"}}`)
	do("PUT", "/v1/sys/policies/acl/app", s.RootToken, `{"policy":"path \"secret/data/app/*\" { capabilities = [\"read\"] }\npath \"secret/data/other/*\" { capabilities = [\"deny\"] }"}`)
	w := do("POST", "/v1/auth/token/create", s.RootToken, `{"policies":["app"]}`)
	tok := extractToken(b, w.Body.String())
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w := do("GET", "/v1/secret/data/app/db", tok, ""); w.Code != 200 {
				b.Fatalf("read: %d", w.Code)
			}
		}
	})
}

func extractToken(b *testing.B, body string) string {
	i := strings.Index(body, `"client_token":"`)
	if i < 0 {
		b.Fatalf("no token in %s", body)
	}
	rest := body[i+len(`"client_token":"`):]
	return rest[:strings.IndexByte(rest, '"')]
}
