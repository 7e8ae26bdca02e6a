package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const agentTok = "agent-token-for-tests"

// upstream is a fake kinko: canned answers by "METHOD path", requests
// recorded.
type upstream struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	answers map[string]answer
	seen    []seenReq
	block   chan struct{} // when set, reads wait for it to close
}

type answer struct {
	status int
	body   string
}

type seenReq struct {
	method, path, query, token, agentHeader, body string
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{t: t, answers: map[string]answer{}}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.seen = append(u.seen, seenReq{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Vault-Token"), r.Header.Get("X-Kinko-Agent-Token"), string(body)})
	a, ok := u.answers[r.Method+" "+r.URL.Path]
	block := u.block
	u.mu.Unlock()
	if block != nil && r.Method == http.MethodGet {
		<-block
	}
	if !ok {
		a = answer{404, `{"errors":[]}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func (u *upstream) set(key string, status int, body string) {
	u.mu.Lock()
	u.answers[key] = answer{status, body}
	u.mu.Unlock()
}

func (u *upstream) count(method, path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, s := range u.seen {
		if s.method == method && s.path == path {
			n++
		}
	}
	return n
}

func (u *upstream) last() seenReq {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[len(u.seen)-1]
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newProxy(t *testing.T, u *upstream, mod func(*Config)) (*Proxy, *clock) {
	t.Helper()
	base, _ := url.Parse(u.srv.URL)
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	cfg := Config{Upstream: base, Token: func(context.Context) (string, error) { return agentTok, nil },
		TTL: time.Minute, RefreshInterval: time.Hour, Now: clk.Now}
	if mod != nil {
		mod(&cfg)
	}
	return New(cfg), clk
}

type result struct {
	status int
	cache  string
	body   string
}

// do sends a request without a token of its own, as an app relying on
// the agent's token does.
func do(t *testing.T, p *Proxy, method, target, body string) result {
	t.Helper()
	return doAs(t, p, method, target, body, "")
}

// doAs sends a request with the caller's own token tok ("" for none).
func doAs(t *testing.T, p *Proxy, method, target, body, tok string) result {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("X-Vault-Token", tok)
	}
	req.Header.Set("X-Kinko-Agent-Token", "must-not-travel")
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	return result{rec.Code, rec.Header().Get("X-Cache"), rec.Body.String()}
}

func TestReadIsCachedWithTheAgentToken(t *testing.T) {
	u := newUpstream(t)
	u.set("GET /v1/secret/data/app", 200, `{"data":{"v":"one"}}`)
	p, _ := newProxy(t, u, nil)
	first := do(t, p, "GET", "/v1/secret/data/app?version=1", "")
	second := do(t, p, "GET", "/v1/secret/data/app?version=1", "")
	if first.status != 200 || first.cache != "MISS" || second.cache != "HIT" || second.body != first.body {
		t.Fatalf("first %+v second %+v", first, second)
	}
	if n := u.count("GET", "/v1/secret/data/app"); n != 1 {
		t.Fatalf("upstream reads %d, want 1", n)
	}
	if s := u.last(); s.token != agentTok || s.agentHeader != "" || s.query != "version=1" {
		t.Fatalf("upstream saw %+v", s)
	}
	if other := do(t, p, "GET", "/v1/secret/data/app?version=2", ""); other.cache != "MISS" {
		t.Fatalf("another query must miss: %+v", other)
	}
	if st := p.Stats(); st.Hits != 1 || st.Misses != 2 || st.Entries != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPassThroughWriteUsesAgentTokenAndInvalidates(t *testing.T) {
	u := newUpstream(t)
	u.set("GET /v1/secret/data/app", 200, `{"data":{"v":"one"}}`)
	u.set("PUT /v1/secret/data/app", 200, `{"data":{"version":2}}`)
	p, _ := newProxy(t, u, nil)
	do(t, p, "GET", "/v1/secret/data/app", "")
	w := do(t, p, "PUT", "/v1/secret/data/app", `{"data":{"v":"two"}}`)
	if w.status != 200 || w.body != `{"data":{"version":2}}` {
		t.Fatalf("write %+v", w)
	}
	if s := u.last(); s.method != "PUT" || s.token != agentTok || s.agentHeader != "" || s.body != `{"data":{"v":"two"}}` {
		t.Fatalf("upstream saw %+v", s)
	}
	if r := do(t, p, "GET", "/v1/secret/data/app", ""); r.cache != "MISS" {
		t.Fatalf("read after write %+v", r)
	}
}

func TestNotCached(t *testing.T) {
	u := newUpstream(t)
	u.set("GET /v1/sys/health", 200, `{"initialized":true}`)
	u.set("GET /v1/auth/token/lookup-self", 200, `{"data":{"id":"x"}}`)
	u.set("GET /v1/secret/wrapped", 200, `{"wrap_info":{"token":"w"}}`)
	u.set("GET /v1/secret/error", 500, `{"errors":["boom"]}`)
	u.set("GET /v1/secret/leased0", 200, `{"lease_id":"x/1","lease_duration":0,"data":{}}`)
	p, _ := newProxy(t, u, nil)
	for _, path := range []string{"/v1/sys/health", "/v1/auth/token/lookup-self", "/v1/secret/wrapped", "/v1/secret/error", "/v1/secret/missing", "/v1/secret/leased0"} {
		do(t, p, "GET", path, "")
		do(t, p, "GET", path, "")
		if n := u.count("GET", path); n != 2 {
			t.Errorf("%s: upstream reads %d, want 2 (never cached)", path, n)
		}
	}
	req := httptest.NewRequest("GET", "/v1/secret/data/app", nil)
	req.Header.Set("X-Vault-Wrap-TTL", "60")
	if cacheable(req, "secret/data/app") {
		t.Error("a request asking for wrapping is cacheable")
	}
	if r := do(t, p, "GET", "/elsewhere", ""); r.status != 404 {
		t.Errorf("non-API path: %+v", r)
	}
}

func TestConcurrentMissesMakeOneUpstreamCall(t *testing.T) {
	u := newUpstream(t)
	u.set("GET /v1/secret/data/app", 200, `{"data":{"v":"one"}}`)
	u.block = make(chan struct{})
	p, _ := newProxy(t, u, nil)
	const n = 16
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := do(t, p, "GET", "/v1/secret/data/app", ""); r.status == 200 && strings.Contains(r.body, "one") {
				ok.Add(1)
			}
		}()
	}
	waitFor(t, func() bool { return p.Stats().Misses == n })
	close(u.block)
	wg.Wait()
	if ok.Load() != n {
		t.Fatalf("%d of %d callers got the secret", ok.Load(), n)
	}
	if c := u.count("GET", "/v1/secret/data/app"); c != 1 {
		t.Fatalf("upstream reads %d, want 1", c)
	}
}

func TestServedUntilTTLWhenServerIsDown(t *testing.T) {
	u := newUpstream(t)
	u.set("GET /v1/secret/data/app", 200, `{"data":{"v":"one"}}`)
	p, clk := newProxy(t, u, nil)
	do(t, p, "GET", "/v1/secret/data/app", "")
	u.srv.Close()
	clk.add(59 * time.Second)
	if r := do(t, p, "GET", "/v1/secret/data/app", ""); r.cache != "HIT" || !strings.Contains(r.body, "one") {
		t.Fatalf("within TTL, server down: %+v", r)
	}
	p.RefreshNow(context.Background()) // fails: the entry is kept
	if r := do(t, p, "GET", "/v1/secret/data/app", ""); r.cache != "HIT" {
		t.Fatalf("after a failed refresh: %+v", r)
	}
	clk.add(2 * time.Second)
	if r := do(t, p, "GET", "/v1/secret/data/app", ""); r.status != http.StatusBadGateway {
		t.Fatalf("after TTL, server down: %+v", r)
	}
}

func TestRefreshReplacesChangedAndDropsGone(t *testing.T) {
	u := newUpstream(t)
	u.set("GET /v1/secret/data/app", 200, `{"data":{"v":"one"}}`)
	u.set("GET /v1/secret/data/old", 200, `{"data":{"v":"old"}}`)
	p, clk := newProxy(t, u, nil)
	do(t, p, "GET", "/v1/secret/data/app", "")
	do(t, p, "GET", "/v1/secret/data/old", "")
	u.set("GET /v1/secret/data/app", 200, `{"data":{"v":"two"}}`)
	u.set("GET /v1/secret/data/old", 403, `{"errors":["permission denied"]}`)
	clk.add(50 * time.Second)
	p.RefreshNow(context.Background())
	if r := do(t, p, "GET", "/v1/secret/data/app", ""); r.cache != "HIT" || !strings.Contains(r.body, "two") {
		t.Fatalf("after refresh: %+v", r)
	}
	if r := do(t, p, "GET", "/v1/secret/data/old", ""); r.cache != "MISS" || r.status != 403 {
		t.Fatalf("a secret no longer allowed must be dropped: %+v", r)
	}
	// the refresh restarted the TTL
	clk.add(50 * time.Second)
	if r := do(t, p, "GET", "/v1/secret/data/app", ""); r.cache != "HIT" {
		t.Fatalf("refreshed entry expired early: %+v", r)
	}
	// an entry nobody used for a TTL is not refreshed
	clk.add(61 * time.Second)
	before := u.count("GET", "/v1/secret/data/app")
	p.RefreshNow(context.Background())
	if u.count("GET", "/v1/secret/data/app") != before {
		t.Fatal("an unused, expired entry was refreshed")
	}
}

func TestLeasedEntryRenewedAndDroppedOnNewToken(t *testing.T) {
	u := newUpstream(t)
	u.set("GET /v1/database/creds/app", 200, `{"lease_id":"database/creds/app/abc","lease_duration":30,"renewable":true,"data":{"username":"u1"}}`)
	u.set("PUT /v1/sys/leases/renew", 200, `{"lease_id":"database/creds/app/abc","lease_duration":30,"renewable":true}`)
	p, clk := newProxy(t, u, nil)
	do(t, p, "GET", "/v1/database/creds/app", "")
	p.RefreshNow(context.Background())
	if n := u.count("GET", "/v1/database/creds/app"); n != 1 {
		t.Fatalf("a leased secret was re-read by the refresh (%d reads): that mints new credentials", n)
	}
	clk.add(19 * time.Second)
	p.maintainLeases(context.Background())
	if u.count("PUT", "/v1/sys/leases/renew") != 0 {
		t.Fatal("renewed before two thirds of the lease")
	}
	clk.add(2 * time.Second)
	p.maintainLeases(context.Background())
	if s := u.last(); s.method != "PUT" || !strings.Contains(s.body, `"lease_id":"database/creds/app/abc"`) || s.token != agentTok {
		t.Fatalf("renewal request %+v", s)
	}
	if p.Stats().LeaseRenewals != 1 {
		t.Fatalf("stats %+v", p.Stats())
	}
	// the lease now runs 30s from the renewal: still served 26s later
	clk.add(26 * time.Second)
	r := do(t, p, "GET", "/v1/database/creds/app", "")
	if r.cache != "HIT" || !strings.Contains(r.body, `"u1"`) {
		t.Fatalf("after renewal %+v", r)
	}
	p.TokenChanged()
	if r := do(t, p, "GET", "/v1/database/creds/app", ""); r.cache != "MISS" {
		t.Fatalf("a new token must drop cached leases: %+v", r)
	}
}

func TestLeasedEntryExpiresBeforeItsLease(t *testing.T) {
	u := newUpstream(t)
	u.set("GET /v1/database/creds/app", 200, `{"lease_id":"l/1","lease_duration":100,"renewable":false,"data":{}}`)
	p, clk := newProxy(t, u, nil)
	do(t, p, "GET", "/v1/database/creds/app", "")
	clk.add(89 * time.Second)
	if r := do(t, p, "GET", "/v1/database/creds/app", ""); r.cache != "HIT" {
		t.Fatalf("at 89s of 100: %+v", r)
	}
	clk.add(time.Second) // a tenth of the lease before its end
	if r := do(t, p, "GET", "/v1/database/creds/app", ""); r.cache != "MISS" {
		t.Fatalf("at 90s of 100: %+v", r)
	}
}

func TestInvalidate(t *testing.T) {
	cached := []string{"secret/data/a/b", "secret/metadata/a/b", "secret/data/a", "secret/data/a/b/c", "secret/data/other",
		"aws-sm/secrets/prod/db", "aws-sm/describe/prod/db", "aws-sm/secrets/prod/api"}
	tests := []struct {
		write string
		kept  []string
	}{
		{"secret/data/a/b", []string{"secret/data/other", "aws-sm/secrets/prod/db", "aws-sm/describe/prod/db", "aws-sm/secrets/prod/api"}},
		{"secret/delete/a/b", []string{"secret/data/a", "secret/data/a/b/c", "secret/data/other", "aws-sm/secrets/prod/db", "aws-sm/describe/prod/db", "aws-sm/secrets/prod/api"}},
		{"aws-sm/stage/prod/db", []string{"secret/data/a/b", "secret/metadata/a/b", "secret/data/a", "secret/data/a/b/c", "secret/data/other", "aws-sm/secrets/prod/api"}},
		{"secret/data/zzz", []string{"secret/data/a/b", "secret/metadata/a/b", "secret/data/a", "secret/data/a/b/c", "secret/data/other",
			"aws-sm/secrets/prod/db", "aws-sm/describe/prod/db", "aws-sm/secrets/prod/api"}},
	}
	for _, tc := range tests {
		t.Run(tc.write, func(t *testing.T) {
			u := newUpstream(t)
			p, _ := newProxy(t, u, nil)
			for _, c := range cached {
				u.set("GET /v1/"+c, 200, `{"data":{}}`)
				do(t, p, "GET", "/v1/"+c, "")
			}
			p.Invalidate(tc.write)
			var kept []string
			keys, _ := p.lru.Snapshot()
			for _, c := range cached {
				for _, k := range keys {
					if k == cacheKey(reqToken{agent: true}, "GET", c, "") {
						kept = append(kept, c)
					}
				}
			}
			if strings.Join(kept, ",") != strings.Join(tc.kept, ",") {
				t.Fatalf("kept %v\nwant %v", kept, tc.kept)
			}
		})
	}
}

func TestSizeLimitAndCacheClear(t *testing.T) {
	u := newUpstream(t)
	p, _ := newProxy(t, u, func(c *Config) { c.MaxEntries = 2 })
	for _, path := range []string{"kv/a", "kv/b", "kv/c"} {
		u.set("GET /v1/"+path, 200, `{"data":{}}`)
		do(t, p, "GET", "/v1/"+path, "")
	}
	if n := p.Stats().Entries; n != 2 {
		t.Fatalf("entries %d, want 2", n)
	}
	if r := do(t, p, "GET", "/v1/kv/a", ""); r.cache != "MISS" {
		t.Fatalf("the least recently used entry survived: %+v", r)
	}
	if r := do(t, p, "POST", "/agent/v1/cache-clear", `{"type":"request_path","value":"kv/a"}`); r.status != 200 {
		t.Fatalf("cache-clear %+v", r)
	}
	if r := do(t, p, "GET", "/v1/kv/c", ""); r.cache != "HIT" {
		t.Fatalf("request_path cleared too much: %+v", r)
	}
	do(t, p, "POST", "/agent/v1/cache-clear", `{"type":"all"}`)
	if n := p.Stats().Entries; n != 0 {
		t.Fatalf("entries after clear all: %d", n)
	}
	if r := do(t, p, "POST", "/agent/v1/cache-clear", `{"type":"lease"}`); r.status != 400 {
		t.Fatalf("unknown clear type: %+v", r)
	}
}

func TestNoTokenYet(t *testing.T) {
	u := newUpstream(t)
	p, _ := newProxy(t, u, func(c *Config) {
		c.Token = func(context.Context) (string, error) { return "", errors.New("not yet") }
	})
	r := do(t, p, "GET", "/v1/secret/data/app", "")
	var env struct{ Errors []string }
	if r.status != 503 || json.Unmarshal([]byte(r.body), &env) != nil || len(env.Errors) != 1 {
		t.Fatalf("%+v", r)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		<-tick.C
	}
}

func TestTokenModeAndCacheIsolation(t *testing.T) {
	tests := []struct {
		mode                TokenMode
		withOwn, withoutOwn string // token the server sees
	}{
		{TokenAuto, "alice", agentTok},
		{TokenForce, agentTok, agentTok},
		{TokenCaller, "alice", ""},
	}
	for _, tc := range tests {
		u := newUpstream(t)
		u.set("GET /v1/secret/data/app", 200, `{"data":{"v":"one"}}`)
		u.set("PUT /v1/secret/data/other", 204, ``)
		p, _ := newProxy(t, u, func(c *Config) { c.TokenMode = tc.mode })
		for _, m := range []string{"GET", "PUT"} {
			path := map[string]string{"GET": "/v1/secret/data/app", "PUT": "/v1/secret/data/other"}[m]
			doAs(t, p, m, path+"?fresh="+m, "", "alice")
			if got := u.last().token; got != tc.withOwn {
				t.Errorf("mode %d %s with a token: server saw %q, want %q", tc.mode, m, got, tc.withOwn)
			}
			doAs(t, p, m, path+"?fresh=none"+m, "", "")
			if got := u.last().token; got != tc.withoutOwn {
				t.Errorf("mode %d %s without a token: server saw %q, want %q", tc.mode, m, got, tc.withoutOwn)
			}
		}
		// a read cached for alice is not served to bob, nor to the agent's token
		if tc.mode == TokenForce {
			continue
		}
		before := u.count("GET", "/v1/secret/data/app")
		if r := doAs(t, p, "GET", "/v1/secret/data/app?k=1", "", "alice"); r.cache != "MISS" {
			t.Fatalf("alice first: %+v", r)
		}
		if r := doAs(t, p, "GET", "/v1/secret/data/app?k=1", "", "alice"); r.cache != "HIT" {
			t.Fatalf("alice again: %+v", r)
		}
		if r := doAs(t, p, "GET", "/v1/secret/data/app?k=1", "", "bob"); r.cache != "MISS" || u.last().token != "bob" {
			t.Fatalf("bob was served alice's entry: %+v", r)
		}
		if n := u.count("GET", "/v1/secret/data/app") - before; n != 2 {
			t.Fatalf("upstream reads %d, want 2 (alice, bob)", n)
		}
	}
}

func TestOwnTokenEntryRefreshedWithItsToken(t *testing.T) {
	u := newUpstream(t)
	u.set("GET /v1/secret/data/app", 200, `{"data":{"v":"one"}}`)
	p, _ := newProxy(t, u, nil)
	doAs(t, p, "GET", "/v1/secret/data/app", "", "alice")
	u.set("GET /v1/secret/data/app", 200, `{"data":{"v":"two"}}`)
	p.RefreshNow(context.Background())
	if got := u.last().token; got != "alice" {
		t.Fatalf("refreshed with %q, want alice's token", got)
	}
	if r := doAs(t, p, "GET", "/v1/secret/data/app", "", "alice"); r.cache != "HIT" || !strings.Contains(r.body, "two") {
		t.Fatalf("after refresh: %+v", r)
	}
}

func TestInvalidAgentTokenReported(t *testing.T) {
	tests := []struct {
		name, method, path, body, tok string
		status                        int
		reported                      bool
	}{
		{"cached read, invalid token", "GET", "/v1/secret/data/app", `{"errors":["permission denied: invalid token"]}`, "", 403, true},
		{"proxied write, invalid token", "PUT", "/v1/secret/data/app", `{"errors":["permission denied: invalid token"]}`, "", 403, true},
		{"missing permission", "GET", "/v1/secret/data/app", `{"errors":["permission denied"]}`, "", 403, false},
		{"caller's own token refused", "GET", "/v1/secret/data/app", `{"errors":["permission denied: invalid token"]}`, "alice", 403, false},
		{"success", "PUT", "/v1/secret/data/app", `{}`, "", 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t)
			u.set(tc.method+" /v1/secret/data/app", tc.status, tc.body)
			var got []string
			p, _ := newProxy(t, u, func(c *Config) { c.OnInvalidToken = func(tok string) { got = append(got, tok) } })
			r := doAs(t, p, tc.method, tc.path, "", tc.tok)
			if r.status != tc.status || r.body != tc.body {
				t.Fatalf("answer %d %q, want %d %q (passed on unchanged)", r.status, r.body, tc.status, tc.body)
			}
			if want := tc.reported; want != (len(got) == 1 && got[0] == agentTok) || len(got) > 1 {
				t.Fatalf("reported %v, want reported=%v", got, want)
			}
		})
	}
}
