// Package awsagent is the agent's endpoint compatible with the AWS Secrets
// Manager Agent (aws/aws-secretsmanager-agent), so code written for that
// agent reads kinko's AWS-style secrets unchanged:
//
//	GET /secretsmanager/get?secretId=NAME[&versionId=ID][&versionStage=LABEL][&refreshNow=true]
//	GET /v1/NAME[?versionId=...&versionStage=...&refreshNow=...]
//	GET /ping                       -> healthy (no token needed)
//
// Answers have GetSecretValue's JSON shape (ARN, Name, VersionId,
// SecretString or SecretBinary, VersionStages, CreatedDate as epoch
// seconds in a string, as the AWS agent writes it). Secrets are read from
// kinko at <mount>/secrets/<id> with the agent's token (version_id and
// version_stage passed on). Answers are cached for TTL in an LRU of
// CacheSize entries; refreshNow bypasses the cache; when a fetch fails
// for a transient reason (network, timeout, 5xx) and IgnoreTransientErrors
// is set, the last answer is served even past its TTL, as the AWS agent
// does.
//
// Refusals follow the AWS agent: more than MaxConn requests in flight 429
// "Connection limit exceeded"; a missing or wrong token 403 "Bad Token"
// (kinko also refuses forwarded and non-loopback requests with 403,
// unless allowed); not GET 405; a bad query 400 with the AWS agent's
// message; unknown paths 404. Errors from kinko come back as
// {"__type": code, "message": text} with AWS's status (400, or 500 for
// InternalServiceError); 502 ConnectionError and 504 TimeoutError when
// kinko cannot be reached.
package awsagent

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/agent/cache"
	"github.com/kinko-dev/kinko/internal/agent/ssrf"
)

// Defaults, as the AWS agent's.
const (
	DefaultTTL        = 300 * time.Second
	DefaultCacheSize  = 1000
	DefaultMaxConn    = 800
	DefaultMount      = "aws-sm"
	DefaultPathPrefix = "/v1/"
	fetchTimeout      = 30 * time.Second
)

// Config configures a Server.
type Config struct {
	// Client reaches kinko; its own token is never used.
	Client *api.Client
	// Token returns the agent's token, waiting for the first login.
	Token func(ctx context.Context) (string, error)
	// Refused, when set, is told of every failed read with the token it
	// used, so that an invalid token makes auto-auth log in again.
	Refused func(tok string, err error) error
	// Guard checks every request but /ping.
	Guard *ssrf.Guard
	// Mount of the aws-sm secrets engine (default "aws-sm").
	Mount string
	// TTL of cached answers; 0 turns the cache off.
	TTL                   time.Duration
	CacheSize             int // default 1000
	MaxConn               int // default 800
	PathPrefix            string
	IgnoreTransientErrors bool
	Logger                *slog.Logger
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Stats counts what the server did.
type Stats struct {
	Hits, Misses, Upstream, Stale int64
}

var _ http.Handler = (*Server)(nil)

// Server is the endpoint, an http.Handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	lru      *cache.LRU[string, *cached]
	flight   cache.Group[string, *cached]
	inflight atomic.Int64

	hits, misses, upstream, stale atomic.Int64
}

// cached is one answer: a body to send, or an error.
type cached struct {
	body    []byte
	err     *Error
	expires time.Time
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Mount == "" {
		cfg.Mount = DefaultMount
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.MaxConn <= 0 {
		cfg.MaxConn = DefaultMaxConn
	}
	if cfg.PathPrefix == "" {
		cfg.PathPrefix = DefaultPathPrefix
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Server{cfg: cfg, log: log.With("component", "aws-secrets-manager"), lru: cache.NewLRU[string, *cached](cfg.CacheSize)}
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{Hits: s.hits.Load(), Misses: s.misses.Load(), Upstream: s.upstream.Load(), Stale: s.stale.Load()}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ping := r.URL.Path == "/ping"
	limit := int64(s.cfg.MaxConn)
	if ping {
		limit += 2 // health checks get through a full agent
	}
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if n > limit {
		plain(w, http.StatusTooManyRequests, "Connection limit exceeded")
		return
	}
	if !ping && s.cfg.Guard != nil {
		if err := s.cfg.Guard.Check(r); err != nil {
			msg := "Bad Token"
			switch {
			case errors.Is(err, ssrf.ErrForwarded):
				msg = "Forwarded"
			case errors.Is(err, ssrf.ErrNotLoopback):
				msg = "Not Loopback"
			}
			plain(w, http.StatusForbidden, msg)
			return
		}
	}
	if r.Method != http.MethodGet {
		plain(w, http.StatusMethodNotAllowed, "Not allowed")
		return
	}
	if ping {
		plain(w, http.StatusOK, "healthy")
		return
	}
	if r.URL.Path != "/secretsmanager/get" && !hasPrefix(r.URL.Path, s.cfg.PathPrefix) {
		plain(w, http.StatusNotFound, "Not found")
		return
	}
	q, err := ParseQuery(r.URL.Path, r.URL.RawQuery, s.cfg.PathPrefix)
	if err != nil {
		plain(w, http.StatusBadRequest, err.Error())
		return
	}
	c := s.get(r.Context(), q)
	if c.err != nil {
		c.err.write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(c.body)
}

func hasPrefix(path, prefix string) bool {
	return len(path) >= len(prefix) && path[:len(prefix)] == prefix
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

// get answers q from the cache or from kinko.
func (s *Server) get(ctx context.Context, q Query) *cached {
	key := q.SecretID + "\x00" + q.VersionID + "\x00" + q.VersionStage
	caching := s.cfg.TTL > 0
	if caching && !q.RefreshNow {
		if c, ok := s.lru.Get(key); ok && s.cfg.Now().Before(c.expires) {
			s.hits.Add(1)
			return c
		}
	}
	s.misses.Add(1)
	c, _, _ := s.flight.Do(key, func() (*cached, error) {
		if c, ok := s.lru.Peek(key); ok && caching && !q.RefreshNow && s.cfg.Now().Before(c.expires) {
			return c, nil // stored by a call that ended after our lookup
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		c := s.fetch(fctx, q)
		if c.err == nil && caching {
			c.expires = s.cfg.Now().Add(s.cfg.TTL)
			s.lru.Add(key, c)
		}
		return c, nil
	})
	if c.err != nil && c.err.transient && s.cfg.IgnoreTransientErrors && caching {
		if old, ok := s.lru.Peek(key); ok {
			s.stale.Add(1)
			s.log.Warn("kinko unreachable; serving the cached secret past its TTL", "secret_id", q.SecretID, "error", c.err.Message)
			return old
		}
	}
	return c
}

// output is GetSecretValue's answer as the AWS agent writes it.
type output struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  *string  `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages,omitempty"`
	CreatedDate   string   `json:"CreatedDate,omitempty"`
}

func (s *Server) fetch(ctx context.Context, q Query) *cached {
	tok, err := s.cfg.Token(ctx)
	if err != nil {
		return &cached{err: &Error{Status: http.StatusBadGateway, Type: "ConnectionError", Message: "the agent is not logged in to kinko yet", transient: true}}
	}
	query := map[string][]string{}
	if q.VersionID != "" {
		query["version_id"] = []string{q.VersionID}
	}
	if q.VersionStage != "" {
		query["version_stage"] = []string{q.VersionStage}
	}
	s.upstream.Add(1)
	resp, err := s.cfg.Client.WithToken(tok).WithoutWrapping().RawRequest(ctx, &api.Request{
		Method: http.MethodGet, Path: s.cfg.Mount + "/secrets/" + q.SecretID, Query: query})
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		if s.cfg.Refused != nil {
			err = s.cfg.Refused(tok, err)
		}
		e := fromKinko(err)
		if e.Status >= 500 {
			s.log.Warn("reading the secret from kinko failed", "secret_id", q.SecretID, "error", e.Message)
		}
		return &cached{err: e}
	}
	sec, err := api.ParseSecret(resp.Body)
	if err != nil || sec == nil {
		return &cached{err: internalFailure()}
	}
	body, err := json.Marshal(toOutput(sec.Data))
	if err != nil {
		return &cached{err: internalFailure()}
	}
	return &cached{body: body}
}

func toOutput(d map[string]any) output {
	str := func(k string) string { v, _ := d[k].(string); return v }
	o := output{ARN: str("ARN"), Name: str("Name"), VersionID: str("VersionId")}
	if v, ok := d["SecretString"].(string); ok {
		o.SecretString = &v
	}
	if v, ok := d["SecretBinary"].(string); ok {
		o.SecretBinary = &v
	}
	if raw, ok := d["VersionStages"].([]any); ok {
		o.VersionStages = make([]string, 0, len(raw))
		for _, v := range raw {
			if s, ok := v.(string); ok {
				o.VersionStages = append(o.VersionStages, s)
			}
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, str("CreatedDate")); err == nil {
		o.CreatedDate = EpochSeconds(t)
	}
	return o
}
