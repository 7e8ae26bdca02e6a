package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/server"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// Whole-stack benchmarks: a real server on loopback, real HTTP, 32
// concurrent clients (RunParallel with parallelism 32/GOMAXPROCS). They
// report req/s; BENCHMARKS.md records the figures.

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}}
}

func mustDo(b *testing.B, c *http.Client, method, url, token string, body []byte, want int) {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("X-Vault-Token", token)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s: status %d, want %d", method, url, resp.StatusCode, want)
	}
}

func runParallel32(b *testing.B, fn func(i int64)) {
	var n atomic.Int64
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			fn(n.Add(1))
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

func BenchmarkKVv2ReadHTTP(b *testing.B) {
	s := testserver.Start(b)
	c := benchClient()
	mustDo(b, c, "POST", s.Addr+"/v1/secret/data/bench", s.RootToken, []byte(`{"data":{"user":"app","password":"correct horse battery staple"}}`), 200)
	url := s.Addr + "/v1/secret/data/bench"
	runParallel32(b, func(int64) { mustDo(b, c, "GET", url, s.RootToken, nil, 200) })
}

func BenchmarkKVv2WriteHTTPDurable(b *testing.B) {
	s := testserver.StartWith(b, server.DevOptions{StoragePath: filepath.Join(b.TempDir(), "kinko.db")})
	c := benchClient()
	body := []byte(`{"data":{"user":"app","password":"correct horse battery staple"}}`)
	runParallel32(b, func(i int64) {
		mustDo(b, c, "POST", fmt.Sprintf("%s/v1/secret/data/bench/%d", s.Addr, i%1024), s.RootToken, body, 200)
	})
}

func BenchmarkTokenLookupSelfHTTP(b *testing.B) {
	s := testserver.Start(b)
	c := benchClient()
	url := s.Addr + "/v1/auth/token/lookup-self"
	runParallel32(b, func(int64) { mustDo(b, c, "GET", url, s.RootToken, nil, 200) })
}
