package approle_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/server"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// End-to-end login benchmarks: the whole pipeline with the token mint.
// The in-memory variants measure CPU; the bolt variants write durably
// (fsync) as a production server does.

// benchSetup starts a server with an AppRole role and returns the login body.
func benchSetup(b *testing.B, opts server.DevOptions) (*testserver.Server, []byte) {
	b.Helper()
	srv := testserver.StartWith(b, opts)
	c := e2eClient(b, srv.Addr, srv.RootToken)
	ctx := context.Background()
	if err := c.Sys().EnableAuthWithOptionsWithContext(ctx, "approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Logical().Write("auth/approle/role/bench", map[string]any{"token_policies": "app", "token_ttl": "1h"}); err != nil {
		b.Fatal(err)
	}
	rid, err := c.Logical().Read("auth/approle/role/bench/role-id")
	if err != nil {
		b.Fatal(err)
	}
	sid, err := c.Logical().Write("auth/approle/role/bench/secret-id", map[string]any{})
	if err != nil {
		b.Fatal(err)
	}
	body := `{"role_id":"` + rid.Data["role_id"].(string) + `","secret_id":"` + sid.Data["secret_id"].(string) + `"}`
	return srv, []byte(body)
}

func reportRate(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}

// benchHandler logs in through the server's HTTP handler, in process.
func benchHandler(b *testing.B, opts server.DevOptions) {
	srv, body := benchSetup(b, opts)
	b.SetParallelism(8) // concurrent clients, so durable writes can share fsyncs
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			srv.Handler.ServeHTTP(w, httptest.NewRequest("POST", "/v1/auth/approle/login", bytes.NewReader(body)))
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"client_token":"`) {
				b.Fatalf("login: %d %s", w.Code, w.Body.String())
			}
		}
	})
	reportRate(b, start)
}

// benchHTTP logs in over loopback TCP with keep-alive connections.
func benchHTTP(b *testing.B, opts server.DevOptions) {
	srv, body := benchSetup(b, opts)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	url := srv.Addr + "/v1/auth/approle/login"
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"client_token":"`)) {
				b.Fatalf("login: %d %s", resp.StatusCode, out)
			}
		}
	})
	reportRate(b, start)
}

func BenchmarkLoginHandlerInmem(b *testing.B) { benchHandler(b, server.DevOptions{}) }

func BenchmarkLoginHandlerBolt(b *testing.B) {
	benchHandler(b, server.DevOptions{StoragePath: filepath.Join(b.TempDir(), "kinko.db")})
}

func BenchmarkLoginHTTPInmem(b *testing.B) { benchHTTP(b, server.DevOptions{}) }

func BenchmarkLoginHTTPBolt(b *testing.B) {
	benchHTTP(b, server.DevOptions{StoragePath: filepath.Join(b.TempDir(), "kinko.db")})
}
