package agent

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkAgentCachedRead reads a KV v2 secret through the agent's proxy
// (cache hits) over loopback HTTP, one request at a time, and reports the
// p50 and p99 latency besides ns/op.
func BenchmarkAgentCachedRead(b *testing.B) {
	e := newEnv(b, nil)
	e.putKV("app", "one")
	e.start("")
	benchGet(b, e.proxy+"/v1/secret/data/app", http.Header{"X-Kinko-Agent-Token": {e.agentTok}})
	if st := e.agent.Proxy.Stats(); st.Upstream != 1 {
		b.Fatalf("the reads were not served from the cache: %+v", st)
	}
}

// BenchmarkDirectRead is the same read straight from the server, with the
// token the agent logged in with.
func BenchmarkDirectRead(b *testing.B) {
	e := newEnv(b, nil)
	e.putKV("app", "one")
	e.start("")
	benchGet(b, e.srv.Addr+"/v1/secret/data/app", http.Header{"X-Vault-Token": {e.sinkToken()}})
}

// BenchmarkAgentCachedReadParallel and BenchmarkDirectReadParallel give
// the throughput with GOMAXPROCS concurrent clients.
func BenchmarkAgentCachedReadParallel(b *testing.B) {
	e := newEnv(b, nil)
	e.putKV("app", "one")
	e.start("")
	benchParallel(b, e.proxy+"/v1/secret/data/app", http.Header{"X-Kinko-Agent-Token": {e.agentTok}})
}

func BenchmarkDirectReadParallel(b *testing.B) {
	e := newEnv(b, nil)
	e.putKV("app", "one")
	e.start("")
	benchParallel(b, e.srv.Addr+"/v1/secret/data/app", http.Header{"X-Vault-Token": {e.sinkToken()}})
}

func benchClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: tr}
}

func get(b *testing.B, c *http.Client, url string, hdr http.Header) {
	if err := getErr(c, url, hdr); err != nil {
		b.Fatal(err)
	}
}

func getErr(c *http.Client, url string, hdr http.Header) error {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header = hdr
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func benchGet(b *testing.B, url string, hdr http.Header) {
	c := benchClient()
	get(b, c, url, hdr) // warm: connection, cache
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		get(b, c, url, hdr)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func benchParallel(b *testing.B, url string, hdr http.Header) {
	c := benchClient()
	get(b, c, url, hdr)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := getErr(c, url, hdr); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
