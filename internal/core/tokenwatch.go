package core

import (
	"context"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/schedule"
	"github.com/kinko-dev/kinko/internal/token"
)

// tokenWatch revokes a token that holds leases when it expires, so its
// leases are revoked at that moment rather than at the next token tidy
// (up to tidyInterval later). A token renewed meanwhile is looked at
// again at its new expiry. Tokens are watched from their first lease;
// at unseal the watch starts empty and the tidy covers tokens whose
// leases were issued before.
type tokenWatch struct {
	mu   sync.Mutex
	q    schedule.Queue[string] // token hash → expiry
	wake chan struct{}
}

// watchRetry is when a token whose revocation failed is tried again.
const watchRetry = 10 * time.Second

func newTokenWatch() *tokenWatch { return &tokenWatch{wake: make(chan struct{}, 1)} }

// watch makes sure the token is looked at when it expires.
func (w *tokenWatch) watch(hash string, expire time.Time) {
	w.mu.Lock()
	if at, ok := w.q.Get(hash); ok && at.Equal(expire) {
		w.mu.Unlock()
		return
	}
	w.q.Set(hash, expire)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run revokes expired watched tokens until ctx ends.
func (w *tokenWatch) run(ctx context.Context, now func() time.Time, tokens *token.Store, failed func(error)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-w.wake:
		}
		w.mu.Lock()
		due := w.q.PopDue(now())
		w.mu.Unlock()
		for _, h := range due {
			te, err := tokens.LookupHash(ctx, h)
			switch {
			case err != nil:
				failed(err)
				w.watch(h, now().Add(watchRetry))
			case te != nil && !te.ExpireTime.IsZero(): // renewed: look again then
				w.watch(h, te.ExpireTime)
			case te == nil: // expired (or gone): revoke it and, through OnRevoke, its leases
				if err := tokens.RevokeTree(ctx, h); err != nil {
					failed(err)
					w.watch(h, now().Add(watchRetry))
				}
			}
		}
		w.mu.Lock()
		wait := w.q.Wait(now(), time.Minute)
		w.mu.Unlock()
		timer.Stop()
		select {
		case <-timer.C:
		default:
		}
		timer.Reset(wait)
	}
}
