// Package ssrf guards the agent's local endpoints against server-side
// request forgery: a request is served only when it carries the agent
// token in one of the guard's headers, and (unless forwarding is allowed)
// comes straight from a loopback address without X-Forwarded-For or
// Forwarded headers. A process tricked into fetching a URL for someone
// else cannot add the header, and a proxy in front of the agent gives
// itself away.
//
// The token is compared in constant time (SHA-256 of both sides, so its
// length does not leak either) and never logged.
package ssrf

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
)

// Header names of the agent token.
const (
	AgentTokenHeader = "X-Kinko-Agent-Token"
	AWSTokenHeader   = "X-Aws-Parameters-Secrets-Token"
	VaultTokenHeader = "X-Vault-Token"
)

// Refusal reasons, in the order they are checked.
var (
	ErrForwarded   = errors.New("forwarded requests are refused")
	ErrNotLoopback = errors.New("requests from other hosts are refused")
	ErrBadToken    = errors.New("missing or wrong agent token")
)

// Guard checks requests.
type Guard struct {
	sum            [sha256.Size]byte
	headers        []string
	allowForwarded bool
	log            *slog.Logger
}

// New returns a Guard accepting token in any of headers. allowForwarded
// lifts the loopback and forwarding checks, never the token check.
func New(token string, allowForwarded bool, logger *slog.Logger, headers ...string) *Guard {
	if logger == nil {
		logger = slog.Default()
	}
	return &Guard{sum: sha256.Sum256([]byte(token)), headers: headers, allowForwarded: allowForwarded, log: logger}
}

// Check returns nil when r may be served, else ErrForwarded,
// ErrNotLoopback or ErrBadToken. Refusals are logged with the source
// address and the reason.
func (g *Guard) Check(r *http.Request) error {
	err := g.check(r)
	if err != nil {
		g.log.Warn("request refused", "reason", err.Error(), "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
	}
	return err
}

func (g *Guard) check(r *http.Request) error {
	if !g.allowForwarded {
		if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" {
			return ErrForwarded
		}
		if !IsLoopback(r.RemoteAddr) {
			return ErrNotLoopback
		}
	}
	ok := 0
	for _, h := range g.headers {
		for _, v := range r.Header.Values(h) {
			sum := sha256.Sum256([]byte(v))
			ok |= subtle.ConstantTimeCompare(sum[:], g.sum[:])
		}
	}
	if ok != 1 {
		return ErrBadToken
	}
	return nil
}

// Strip removes from h the guard's headers that hold its token, so that
// a request let in with the agent token in X-Vault-Token is not taken to
// carry a kinko token of its own. Other values are kept.
func (g *Guard) Strip(h http.Header) {
	for _, name := range g.headers {
		vals := h.Values(name)
		if len(vals) == 0 {
			continue
		}
		kept := make([]string, 0, len(vals))
		for _, v := range vals {
			sum := sha256.Sum256([]byte(v))
			if subtle.ConstantTimeCompare(sum[:], g.sum[:]) != 1 {
				kept = append(kept, v)
			}
		}
		h.Del(name)
		for _, v := range kept {
			h.Add(name, v)
		}
	}
}

// IsLoopback reports whether a host:port address is a loopback address.
func IsLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return ip.Unmap().IsLoopback()
}
