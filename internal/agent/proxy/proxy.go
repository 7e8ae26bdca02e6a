// Package proxy is the agent's caching proxy for kinko's Vault API.
//
// Every request to /v1/... is sent on to the server with a token chosen by
// the TokenMode (Vault Agent's use_auto_auth_token): TokenAuto sends the
// caller's own X-Vault-Token when it sent one and the agent's token
// otherwise; TokenForce always sends the agent's token; TokenCaller only
// ever sends the caller's. Reads (GET and LIST) of secret paths are
// cached by method, path, query and token — a response read with a
// caller's token is only ever served to requests with that same token, and
// refreshed and renewed with it:
//
//   - a response without a lease is kept for TTL after it was last fetched
//     and re-read every RefreshInterval while it is being used, so a
//     rotated secret is served fresh within one interval, and a secret
//     deleted or no longer allowed is dropped;
//   - a response with a lease (dynamic credentials) is kept until a tenth
//     of its lease before the lease ends, never re-read (that would mint
//     new credentials), and its lease is renewed at two thirds of each
//     lease duration while the server allows; a new agent token drops
//     these entries, since the old token's leases die with it;
//   - sys/ and auth/ paths, wrapped responses, error answers and requests
//     asking for wrapping are never cached.
//
// When the server refuses the agent's token as invalid, OnInvalidToken is
// told, so auto-auth logs in again at once.
//
// At most MaxEntries are kept (least recently used evicted). Concurrent
// identical misses make one upstream call. A write or delete through the
// proxy drops the cached reads it may have changed (see Invalidate). When
// the server cannot be reached, cached entries are served until they
// expire; the proxy never serves an expired entry.
//
// Concurrency: Proxy is an http.Handler safe for concurrent use; Run runs
// the refresh and lease-renewal loops.
package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/internal/agent/cache"
)

// Defaults of Config.
const (
	DefaultTTL             = 5 * time.Minute
	DefaultRefreshInterval = 30 * time.Second
	DefaultMaxEntries      = 10000
	DefaultMaxBody         = 32 << 20
	upstreamTimeout        = 30 * time.Second
	refreshWorkers         = 8
)

// TokenMode says which token a request is sent with.
type TokenMode int

// The token modes (use_auto_auth_token true, "force", false).
const (
	TokenAuto TokenMode = iota
	TokenForce
	TokenCaller
)

// Config configures a Proxy.
type Config struct {
	// Upstream is the kinko server, e.g. https://kinko.example:8200.
	Upstream *url.URL
	// Transport carries requests to Upstream (TLS settings included).
	Transport http.RoundTripper
	// Token returns the agent's token, waiting for the first login until
	// ctx ends.
	Token func(ctx context.Context) (string, error)
	// TokenMode: see the package doc (default TokenAuto).
	TokenMode TokenMode
	// OnInvalidToken, when set, is called with the agent's token when the
	// server refused it as invalid.
	OnInvalidToken func(token string)
	// TTL, RefreshInterval, MaxEntries: see the package doc.
	TTL             time.Duration
	RefreshInterval time.Duration
	MaxEntries      int
	// MaxBody bounds a cached response (default 32 MiB).
	MaxBody int64
	Logger  *slog.Logger
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Stats counts what the proxy did.
type Stats struct {
	Hits, Misses, Upstream, Refreshes, LeaseRenewals, Invalidated int64
	Entries                                                       int
}

var _ http.Handler = (*Proxy)(nil)

// Proxy is the caching proxy.
type Proxy struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	rp     *httputil.ReverseProxy
	lru    *cache.LRU[string, *entry]
	flight cache.Group[string, *entry]

	// mu orders invalidations against stores: an entry fetched before an
	// invalidation (gen changed) is served but not stored.
	mu  sync.Mutex
	gen uint64

	hits, misses, upstream, refreshes, renewals, invalidated atomic.Int64
}

// New returns a Proxy.
func New(cfg Config) *Proxy {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &Proxy{cfg: cfg, log: log.With("component", "proxy"), lru: cache.NewLRU[string, *entry](cfg.MaxEntries),
		client: &http.Client{Transport: cfg.Transport, Timeout: upstreamTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(cfg.Upstream)
			pr.Out.Header.Del("X-Kinko-Agent-Token")
			setToken(pr.Out.Header, tokenFrom(pr.In.Context()))
		},
		Transport:      cfg.Transport,
		ErrorHandler:   p.upstreamError,
		ModifyResponse: p.checkRefused,
	}
	return p
}

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	return Stats{Hits: p.hits.Load(), Misses: p.misses.Load(), Upstream: p.upstream.Load(), Refreshes: p.refreshes.Load(),
		LeaseRenewals: p.renewals.Load(), Invalidated: p.invalidated.Load(), Entries: p.lru.Len()}
}

type tokenKey struct{}

// reqToken is the token a request is sent with; agent marks the agent's.
type reqToken struct {
	tok   string
	agent bool
}

func tokenFrom(ctx context.Context) reqToken {
	t, _ := ctx.Value(tokenKey{}).(reqToken)
	return t
}

// setToken makes h carry t alone: the caller's own token headers are
// replaced when the agent's is sent.
func setToken(h http.Header, t reqToken) {
	if t.agent {
		h.Del("Authorization")
	}
	if t.tok == "" {
		h.Del("X-Vault-Token")
		return
	}
	h.Set("X-Vault-Token", t.tok)
}

// callerToken is the token the caller sent: X-Vault-Token, or a bearer
// token in Authorization as Vault also accepts.
func callerToken(r *http.Request) string {
	if t := r.Header.Get("X-Vault-Token"); t != "" {
		return t
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// ServeHTTP implements http.Handler. The caller has already checked the
// request (SSRF guard).
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/agent/v1/cache-clear":
		p.serveCacheClear(w, r)
		return
	case !strings.HasPrefix(r.URL.Path, "/v1/"):
		writeErrors(w, http.StatusNotFound, "agent: unknown path; the agent serves /v1/ and /agent/v1/cache-clear")
		return
	}
	apiPath := strings.TrimPrefix(r.URL.Path, "/v1/")
	if cacheable(r, apiPath) {
		p.serveCached(w, r, apiPath)
		return
	}
	tok, ok := p.token(w, r)
	if !ok {
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok))
	p.rp.ServeHTTP(w, r)
	if mutating(r.Method) {
		p.Invalidate(apiPath)
	}
}

// token returns the token to send r with (see TokenMode). The agent's
// token is waited for a while after start; when there is none yet, token
// answers 503 itself.
func (p *Proxy) token(w http.ResponseWriter, r *http.Request) (reqToken, bool) {
	if own := callerToken(r); p.cfg.TokenMode == TokenCaller || (own != "" && p.cfg.TokenMode == TokenAuto) {
		return reqToken{tok: own}, true
	}
	ctx, cancel := context.WithTimeout(r.Context(), upstreamTimeout)
	defer cancel()
	tok, err := p.cfg.Token(ctx)
	if err != nil {
		writeErrors(w, http.StatusServiceUnavailable, "agent: not logged in to the server yet")
		return reqToken{}, false
	}
	return reqToken{tok: tok, agent: true}, true
}

// entryToken is the token to refresh or renew e with: its caller's, or
// the agent's current one.
func (p *Proxy) entryToken(ctx context.Context, e *entry) (reqToken, error) {
	if e.token != "" {
		return reqToken{tok: e.token}, nil
	}
	tok, err := p.cfg.Token(ctx)
	return reqToken{tok: tok, agent: true}, err
}

// refusedBodyLimit bounds how much of a 403 answer is read to tell an
// invalid token from a missing permission.
const refusedBodyLimit = 4 << 10

// checkRefused tells OnInvalidToken when the server refused the agent's
// token as invalid (a 403 whose errors say "invalid token").
func (p *Proxy) checkRefused(resp *http.Response) error {
	t := tokenFrom(resp.Request.Context())
	if resp.StatusCode != http.StatusForbidden || !t.agent || p.cfg.OnInvalidToken == nil {
		return nil
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, refusedBodyLimit))
	if err != nil {
		return err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	p.noteRefused(t, resp.StatusCode, head)
	return nil
}

// noteRefused calls OnInvalidToken when an answer to a request sent with
// the agent's token says the token is invalid.
func (p *Proxy) noteRefused(t reqToken, status int, body []byte) {
	if status == http.StatusForbidden && t.agent && p.cfg.OnInvalidToken != nil && bytes.Contains(body, []byte("invalid token")) {
		p.log.Warn("the server refused the agent's token as invalid")
		p.cfg.OnInvalidToken(t.tok)
	}
}

func mutating(method string) bool {
	switch method {
	case http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// cacheable reports whether r is a read the cache may answer.
func cacheable(r *http.Request, apiPath string) bool {
	if r.Method != http.MethodGet && r.Method != "LIST" {
		return false
	}
	if strings.HasPrefix(apiPath, "sys/") || strings.HasPrefix(apiPath, "auth/") || apiPath == "" {
		return false
	}
	return r.Header.Get("X-Vault-Wrap-TTL") == "" && r.Header.Get("X-Vault-Namespace") == ""
}

func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	p.log.Warn("upstream request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	status := http.StatusBadGateway
	if errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusGatewayTimeout
	}
	writeErrors(w, status, "agent: the kinko server could not be reached")
}

// writeErrors answers with Vault's error envelope.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string][]string{"errors": msgs})
}

// serveCacheClear is Vault Agent's POST /agent/v1/cache-clear with
// {"type": "all"} or {"type": "request_path", "value": "secret/data/"}
// (entries whose path starts with value).
func (p *Proxy) serveCacheClear(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		writeErrors(w, http.StatusMethodNotAllowed, "agent: use POST")
		return
	}
	var body struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil {
		writeErrors(w, http.StatusBadRequest, "agent: the body must be JSON with type and value")
		return
	}
	p.mu.Lock()
	p.gen++
	var n int
	switch body.Type {
	case "all":
		n = p.lru.Len()
		p.lru.Purge()
	case "request_path":
		prefix := strings.Trim(body.Value, "/")
		n = p.lru.RemoveIf(func(_ string, e *entry) bool { return strings.HasPrefix(e.path, prefix) })
	default:
		p.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, `agent: type must be "all" or "request_path"`)
		return
	}
	p.mu.Unlock()
	p.invalidated.Add(int64(n))
	p.log.Info("cache cleared", "type", body.Type, "entries", n)
	w.WriteHeader(http.StatusOK)
}

// entry is one cached response. Entries are never changed once stored:
// a refresh or a renewal stores a new one.
type entry struct {
	key, method, path, query string // path without /v1/, query canonical
	token                    string // the caller's token it was read with; "" for the agent's
	status                   int
	contentType              string
	body                     []byte
	cacheable                bool

	fetched time.Time
	expires time.Time
	used    *atomic.Int64 // unix nanoseconds of the last hit, shared across refreshes

	leaseID   string
	leaseDur  time.Duration
	renewable bool
	renewAt   time.Time // zero: no renewal
}

func (e *entry) leased() bool { return e.leaseID != "" }

// cacheKey names a cached read. Reads made with a caller's own token are
// keyed by a hash of that token too, so they are never served to anyone
// else.
func cacheKey(t reqToken, method, path, query string) string {
	k := method + " " + path + "?" + query
	if t.agent {
		return k
	}
	sum := sha256.Sum256([]byte(t.tok))
	return hex.EncodeToString(sum[:16]) + " " + k
}

func (p *Proxy) serveCached(w http.ResponseWriter, r *http.Request, apiPath string) {
	q := r.URL.RawQuery
	if q != "" {
		q = r.URL.Query().Encode() // canonical: sorted keys
	}
	tok, ok := p.token(w, r)
	if !ok {
		return
	}
	if tok.tok == "" { // no token at all (TokenCaller): nothing to key a cache entry by
		r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok))
		p.rp.ServeHTTP(w, r)
		return
	}
	key := cacheKey(tok, r.Method, apiPath, q)
	now := p.cfg.Now()
	if e, ok := p.lru.Get(key); ok && now.Before(e.expires) {
		p.hits.Add(1)
		e.used.Store(now.UnixNano())
		p.write(w, e, "HIT", now)
		return
	}
	p.misses.Add(1)
	e, err, _ := p.flight.Do(key, func() (*entry, error) {
		if e, ok := p.lru.Peek(key); ok && p.cfg.Now().Before(e.expires) {
			return e, nil // stored by a call that ended after our lookup
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), upstreamTimeout)
		defer cancel()
		p.mu.Lock()
		gen := p.gen
		p.mu.Unlock()
		e, err := p.fetch(ctx, r.Method, apiPath, q, tok)
		if err == nil && e.cacheable {
			p.store(key, e, gen)
		}
		return e, err
	})
	if err != nil {
		p.upstreamError(w, r, err)
		return
	}
	p.write(w, e, "MISS", now)
}

// store adds e unless the cache was invalidated since gen.
func (p *Proxy) store(key string, e *entry, gen uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen == gen {
		p.lru.Add(key, e)
	}
}

func (p *Proxy) write(w http.ResponseWriter, e *entry, cacheState string, now time.Time) {
	h := w.Header()
	if e.contentType != "" {
		h.Set("Content-Type", e.contentType)
	}
	h.Set("X-Cache", cacheState)
	if cacheState == "HIT" {
		h.Set("Age", strconv.FormatInt(int64(now.Sub(e.fetched)/time.Second), 10))
	}
	h.Set("Content-Length", strconv.Itoa(len(e.body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body)
}

// fetch reads method path?query from the server with tok and returns the
// answer as an entry, cacheable when it may be stored.
func (p *Proxy) fetch(ctx context.Context, method, apiPath, query string, tok reqToken) (*entry, error) {
	u := *p.cfg.Upstream
	u.Path = strings.TrimRight(u.Path, "/") + "/v1/" + apiPath
	u.RawPath = ""
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	setToken(req.Header, tok)
	req.Header.Set("X-Vault-Request", "true")
	p.upstream.Add(1)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, p.cfg.MaxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > p.cfg.MaxBody {
		return nil, fmt.Errorf("the response to %s is larger than %d bytes", apiPath, p.cfg.MaxBody)
	}
	now := p.cfg.Now()
	p.noteRefused(tok, resp.StatusCode, body)
	e := &entry{key: cacheKey(tok, method, apiPath, query), method: method, path: apiPath, query: query,
		token: ownToken(tok), status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body,
		fetched: now, used: new(atomic.Int64)}
	e.used.Store(now.UnixNano())
	p.classify(e, now)
	return e, nil
}

// classify decides whether e may be cached and until when.
func (p *Proxy) classify(e *entry, now time.Time) {
	if e.status != http.StatusOK || !strings.HasPrefix(e.contentType, "application/json") {
		return
	}
	var env struct {
		LeaseID       string          `json:"lease_id"`
		LeaseDuration int64           `json:"lease_duration"`
		Renewable     bool            `json:"renewable"`
		WrapInfo      json.RawMessage `json:"wrap_info"`
		Auth          json.RawMessage `json:"auth"`
	}
	if err := json.Unmarshal(e.body, &env); err != nil {
		return
	}
	if !isNull(env.WrapInfo) || !isNull(env.Auth) {
		return
	}
	if env.LeaseID == "" {
		e.cacheable, e.expires = true, now.Add(p.cfg.TTL)
		return
	}
	if env.LeaseDuration <= 0 {
		return
	}
	e.cacheable = true
	e.leaseID, e.renewable = env.LeaseID, env.Renewable
	e.setLease(now, time.Duration(env.LeaseDuration)*time.Second)
}

// setLease sets the expiry and the next renewal of a leased entry from a
// lease of d starting now.
func (e *entry) setLease(now time.Time, d time.Duration) {
	e.leaseDur = d
	e.expires = now.Add(d - d/10)
	e.renewAt = time.Time{}
	if e.renewable {
		e.renewAt = now.Add(d * 2 / 3)
	}
}

// ownToken is the caller's token of t, "" for the agent's.
func ownToken(t reqToken) string {
	if t.agent {
		return ""
	}
	return t.tok
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
