// Package autoauth keeps the agent logged in to kinko: a Method (AppRole,
// JWT) logs in, the Manager renews the token at two thirds of each lease
// (auth/token/renew-self) and logs in again when a renewal fails, the
// token nears its max TTL or a user of the token reports that the server
// refused it (Invalid), and writes every new token to its file sinks.
//
// Invariants: the token and the secrets used to log in are never logged
// nor put in errors; sink files are replaced atomically (temporary file,
// fsync, rename) with their configured mode (default 0600), so a reader
// sees the old token or the new one, never a part. Failed logins are
// retried with exponential backoff and jitter, and the last good token is
// served meanwhile.
//
// Concurrency: Run drives one Manager; Token, WaitToken and Stats may be
// called from any goroutine.
package autoauth

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/atomicfile"
)

// FileSink is a file the token is written to after every login.
type FileSink struct {
	Path string
	Mode os.FileMode // default 0600
}

// DefaultSinkMode is the mode of sink files unless configured.
const DefaultSinkMode os.FileMode = 0o600

// Write replaces the file's content with token, atomically.
func (s *FileSink) Write(token string) error {
	mode := s.Mode
	if mode == 0 {
		mode = DefaultSinkMode
	}
	return atomicfile.Write(s.Path, []byte(token), mode)
}

// Config configures a Manager.
type Config struct {
	Method Method
	Sinks  []*FileSink
	// Client is the kinko client logins and renewals go through; its own
	// token is never used.
	Client *api.Client
	Logger *slog.Logger
	// OnNewToken, when set, is called after each login with the new
	// token (never with a renewal).
	OnNewToken func(token string)
	// MinBackoff and MaxBackoff bound the wait between failed logins
	// (defaults 1s and 5m).
	MinBackoff, MaxBackoff time.Duration
}

// Stats counts what the Manager did.
type Stats struct {
	Logins, LoginFailures, Renewals, RenewalFailures int64
}

// Manager logs in and keeps the token alive.
type Manager struct {
	cfg Config
	log *slog.Logger

	tok    atomic.Pointer[string]
	ready  chan struct{} // closed after the first login
	once   sync.Once
	reauth chan struct{} // capacity 1: the current token was refused

	logins, loginFailures, renewals, renewalFailures atomic.Int64
}

// New returns a Manager; Run starts it.
func New(cfg Config) *Manager {
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(5*time.Minute, cfg.MinBackoff)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Manager{cfg: cfg, log: log.With("component", "auto-auth", "method", cfg.Method.Name()),
		ready: make(chan struct{}), reauth: make(chan struct{}, 1)}
}

// Token is the current token ("" before the first login).
func (m *Manager) Token() string {
	if p := m.tok.Load(); p != nil {
		return *p
	}
	return ""
}

// WaitToken returns the token, waiting for the first login until ctx ends.
func (m *Manager) WaitToken(ctx context.Context) (string, error) {
	select {
	case <-m.ready:
		return m.Token(), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Invalid reports that the server refused tok as an invalid token (it was
// revoked, or the server lost it). When tok is still the current token,
// the Manager logs in again at once instead of waiting for the next
// renewal; reports about an older token are ignored.
func (m *Manager) Invalid(tok string) {
	if tok == "" || tok != m.Token() {
		return
	}
	select {
	case m.reauth <- struct{}{}:
	default:
	}
}

// CheckRefused calls Invalid(tok) when err is the server refusing tok as
// an invalid token; it returns err unchanged, so a caller can wrap a
// request's result in it.
func (m *Manager) CheckRefused(tok string, err error) error {
	if IsInvalidToken(err) {
		m.Invalid(tok)
	}
	return err
}

// IsInvalidToken reports whether err is a 403 answer saying the token is
// invalid (as opposed to lacking a permission).
func IsInvalidToken(err error) bool {
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		return false
	}
	for _, e := range re.Errors {
		if strings.Contains(e, "invalid token") {
			return true
		}
	}
	return false
}

// Stats returns the counters.
func (m *Manager) Stats() Stats {
	return Stats{Logins: m.logins.Load(), LoginFailures: m.loginFailures.Load(),
		Renewals: m.renewals.Load(), RenewalFailures: m.renewalFailures.Load()}
}

// Run logs in and keeps a valid token until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	backoff := m.cfg.MinBackoff
	for ctx.Err() == nil {
		s, err := m.cfg.Method.Login(ctx, m.cfg.Client)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			m.loginFailures.Add(1)
			wait := jitter(backoff)
			m.log.Warn("login failed", "error", err, "retry_in", wait.Round(time.Millisecond))
			if !sleep(ctx, wait) {
				return
			}
			backoff = min(2*backoff, m.cfg.MaxBackoff)
			continue
		}
		backoff = m.cfg.MinBackoff
		select { // a refusal of the previous token is answered by this login
		case <-m.reauth:
		default:
		}
		m.setToken(s.Auth)
		m.logins.Add(1) // counted once the sinks are written
		m.keepAlive(ctx, s.Auth)
	}
}

// setToken publishes a new token and writes it to the sinks.
func (m *Manager) setToken(a *api.SecretAuth) {
	tok := a.ClientToken
	m.tok.Store(&tok)
	m.log.Info("logged in", "ttl", secs(a.LeaseDuration), "renewable", a.Renewable, "policies", a.Policies)
	for _, s := range m.cfg.Sinks {
		if err := s.Write(tok); err != nil {
			m.log.Error("writing the token sink failed", "path", s.Path, "error", err)
		}
	}
	if m.cfg.OnNewToken != nil {
		m.cfg.OnNewToken(tok)
	}
	m.once.Do(func() { close(m.ready) })
}

// keepAlive renews the token at two thirds of each lease and returns when
// it must be replaced: a renewal failed, the server refused the token
// (Invalid), or the server granted less than the login's TTL (the max TTL
// is near), in which case it returns at two thirds of what is left. A
// token without a TTL lives until ctx ends or it is refused.
func (m *Manager) keepAlive(ctx context.Context, a *api.SecretAuth) {
	loginTTL := secs(a.LeaseDuration)
	if loginTTL <= 0 {
		select {
		case <-ctx.Done():
		case <-m.reauth:
			m.log.Warn("the server refused the token; logging in again")
		}
		return
	}
	ttl, renewable := loginTTL, a.Renewable
	client := m.cfg.Client.WithToken(a.ClientToken).WithoutWrapping()
	for {
		if !m.wait(ctx, ttl*2/3) {
			return
		}
		if !renewable || ttl < loginTTL {
			m.log.Info("the token nears its end; logging in again", "ttl_left", (ttl / 3).Round(time.Second))
			return
		}
		s, err := client.Write(ctx, "auth/token/renew-self", map[string]any{"increment": int64(loginTTL / time.Second)})
		if err != nil || s == nil || s.Auth == nil {
			if ctx.Err() != nil {
				return
			}
			m.renewalFailures.Add(1)
			m.log.Warn("token renewal failed; logging in again", "error", err)
			return
		}
		m.renewals.Add(1)
		ttl, renewable = secs(s.Auth.LeaseDuration), s.Auth.Renewable
		m.log.Debug("token renewed", "ttl", ttl)
		if ttl <= 0 {
			return
		}
	}
}

// wait sleeps d; it reports false when ctx ended or the token was
// refused meanwhile.
func (m *Manager) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-m.reauth:
		m.log.Warn("the server refused the token; logging in again")
		return false
	}
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// jitter returns d minus up to a quarter of it, at random.
func jitter(d time.Duration) time.Duration {
	q := int64(d / 4)
	if q <= 0 {
		return d
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return d - time.Duration(binary.LittleEndian.Uint64(b[:])%uint64(q))
}
