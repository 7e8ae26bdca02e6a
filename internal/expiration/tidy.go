package expiration

import (
	"context"
	"fmt"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// TidyResult counts what Tidy did.
type TidyResult struct {
	// StaleIndex: token index entries whose lease was gone, removed.
	StaleIndex int
	// Orphaned: leases whose token no longer exists, marked for revocation.
	Orphaned int
	// Rescheduled: leases found in storage without a timer.
	Rescheduled int
}

// Tidy removes token index entries that point at no lease, revokes leases
// whose token is gone (tokenExists says; nil skips that check) and gives
// every stored lease a timer.
func (m *Manager) Tidy(ctx context.Context, tokenExists func(ctx context.Context, hash string) (bool, error)) (TidyResult, error) {
	var res TidyResult
	err := logical.ScanKeys(ctx, m.view, tokenPrefix, func(key string) error {
		e, err := m.view.Get(ctx, key)
		if err != nil || e == nil {
			return err
		}
		l, err := m.load(ctx, string(e.Value))
		if err != nil {
			return err
		}
		if l == nil {
			res.StaleIndex++
			return m.view.Delete(ctx, key)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("tidy token index: %w", err)
	}
	gone := map[string]bool{}
	err = logical.ScanKeys(ctx, m.view, leasePrefix, func(key string) error {
		id := strings.TrimPrefix(key, leasePrefix)
		l, err := m.load(ctx, id)
		if err != nil || l == nil {
			return err
		}
		m.mu.Lock()
		_, timed := m.queue.Get(id)
		m.mu.Unlock()
		if !timed {
			res.Rescheduled++
			m.schedule(id, l.due())
		}
		if l.TokenHash == "" || tokenExists == nil {
			return nil
		}
		dead, seen := gone[l.TokenHash]
		if !seen {
			ok, err := tokenExists(ctx, l.TokenHash)
			if err != nil {
				return err
			}
			dead = !ok
			gone[l.TokenHash] = dead
		}
		if dead {
			res.Orphaned++
			return m.Revoke(ctx, id, false)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("tidy leases: %w", err)
	}
	return res, nil
}
