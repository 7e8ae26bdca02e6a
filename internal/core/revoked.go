package core

import (
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/token"
)

// revokedTokens remembers, for a day, which tokens were revoked and by
// which parent, keyed by the token store's hash (never the token), so that
// a request still carrying a token revoked with its parent — a stolen
// child token, a forgotten CI credential — can be told from a typo and
// reported by the detector.
type revokedTokens struct {
	mu    sync.Mutex
	byKey map[string]revokedToken
	order []string // insertion order, for eviction
}

type revokedToken struct {
	parent string
	at     time.Time
}

const (
	revokedKeep = 24 * time.Hour
	revokedMax  = 100_000
)

func (r *revokedTokens) add(te *token.Entry, now time.Time) {
	if te.Hash == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byKey == nil {
		r.byKey = map[string]revokedToken{}
	}
	for len(r.order) > 0 && (len(r.order) >= revokedMax || now.Sub(r.byKey[r.order[0]].at) > revokedKeep) {
		delete(r.byKey, r.order[0])
		r.order = r.order[1:]
	}
	if _, ok := r.byKey[te.Hash]; !ok {
		r.order = append(r.order, te.Hash)
	}
	r.byKey[te.Hash] = revokedToken{parent: te.Parent, at: now}
}

// parentRevoked reports whether the token with this hash was revoked
// together with (or after) its parent.
func (r *revokedTokens) parentRevoked(hash string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.byKey[hash]
	if !ok || t.parent == "" {
		return false
	}
	_, parentGone := r.byKey[t.parent]
	return parentGone
}
