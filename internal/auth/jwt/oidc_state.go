package jwt

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Pending OIDC logins (see the package doc).
const (
	// pendingTTL is how long the state of an auth_url waits for its
	// callback.
	pendingTTL = 10 * time.Minute
	// maxPending bounds the logins waiting per mount; auth_url refuses
	// more (an unauthenticated caller must not grow memory without end).
	maxPending = 10000
	// pruneEvery is how often an insert sweeps expired states.
	pruneEvery = time.Minute
	// randomBytes is the entropy of a state, nonce or PKCE verifier.
	randomBytes = 32
)

// pending is one OIDC login between auth_url and callback. Its secrets
// (nonce, PKCE verifier) never leave memory and are never logged.
type pending struct {
	role         string
	redirectURI  string
	nonce        string
	codeVerifier string
	clientNonce  string
	expires      time.Time
	// code and idToken are what a form_post callback (POST) delivered,
	// for the GET that completes the login.
	code, idToken string
	amended       bool
}

// pendingStore holds pending logins by the SHA-256 of their state, so
// that a lookup's timing says nothing about the states held. A state is
// taken (removed) by the callback that uses it, whatever its outcome.
type pendingStore struct {
	mu        sync.Mutex
	m         map[[sha256.Size]byte]*pending
	lastPrune time.Time
}

func stateKey(state string) [sha256.Size]byte { return sha256.Sum256([]byte(state)) }

// errTooManyPending refuses an auth_url when maxPending logins wait.
var errTooManyPending = logical.Errorf(logical.ErrRateLimited, "too many OIDC logins are in progress; try again later")

// add stores p under state, sweeping expired states first when due.
func (s *pendingStore) add(state string, p *pending, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[[sha256.Size]byte]*pending)
	}
	if len(s.m) >= maxPending || now.Sub(s.lastPrune) >= pruneEvery {
		s.pruneLocked(now)
	}
	if len(s.m) >= maxPending {
		return errTooManyPending
	}
	s.m[stateKey(state)] = p
	return nil
}

func (s *pendingStore) pruneLocked(now time.Time) {
	s.lastPrune = now
	for k, p := range s.m {
		if !now.Before(p.expires) {
			delete(s.m, k)
		}
	}
}

// take removes and returns the live login of state (nil when unknown or
// expired).
func (s *pendingStore) take(state string, now time.Time) *pending {
	if state == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := stateKey(state)
	p := s.m[k]
	if p == nil {
		return nil
	}
	delete(s.m, k)
	if !now.Before(p.expires) {
		return nil
	}
	return p
}

// amend records what a form_post callback delivered for state, once; it
// reports whether state names a live, not yet amended login.
func (s *pendingStore) amend(state, code, idToken string, now time.Time) bool {
	if state == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.m[stateKey(state)]
	if p == nil || p.amended || !now.Before(p.expires) {
		return false
	}
	p.code, p.idToken, p.amended = code, idToken, true
	return true
}

// clear drops every pending login.
func (s *pendingStore) clear() {
	s.mu.Lock()
	s.m = nil
	s.mu.Unlock()
}

// size is the number of stored logins (live or not yet swept).
func (s *pendingStore) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// randomToken is randomBytes from crypto/rand, base64url without padding
// (43 characters: also a valid PKCE code verifier).
func randomToken() (string, error) {
	b := make([]byte, randomBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// pkceChallenge is the S256 code challenge of a verifier (RFC 7636).
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
