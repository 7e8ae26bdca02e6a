package expiration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// claim makes the caller the only one acting on lease id until release
// is called, waiting for another holder to finish.
func (m *Manager) claim(ctx context.Context, id string) (release func(), err error) {
	for {
		m.mu.Lock()
		ch, busy := m.claims[id]
		if !busy {
			ch = make(chan struct{})
			m.claims[id] = ch
			m.inflight[id] = true
			m.mu.Unlock()
			return func() {
				m.mu.Lock()
				delete(m.claims, id)
				delete(m.inflight, id)
				deferred := m.deferred[id]
				if deferred {
					delete(m.deferred, id)
					m.queue.Set(id, m.opts.Now())
				}
				m.mu.Unlock()
				close(ch)
				if deferred {
					m.kick()
				}
			}, nil
		}
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// expire is a worker's handling of a lease whose time came.
func (m *Manager) expire(ctx context.Context, id string) {
	release, err := m.claim(ctx, id)
	if err != nil {
		return
	}
	defer release()
	l, err := m.load(ctx, id)
	if err != nil {
		m.opts.Logger.Error("cannot read lease to revoke it; will retry", "lease_id", id, "error", err)
		return // it stays in the heap, a retry period ahead
	}
	if l == nil {
		m.unschedule(id)
		return
	}
	if due := l.due(); due.After(m.opts.Now()) {
		m.schedule(id, due) // renewed or rescheduled meanwhile
		return
	}
	_ = m.revokeNow(ctx, l)
}

// revokeNow asks the engine to revoke a claimed lease and deletes it; on
// failure the lease is kept and retried with backoff.
func (m *Manager) revokeNow(ctx context.Context, l *Lease) error {
	now := m.opts.Now()
	if err := m.backend.RevokeLease(ctx, l, l.secret(0)); err != nil {
		l.RevokeAttempts++
		l.LastError = err.Error()
		l.NextAttempt = now.Add(m.backoff(l.RevokeAttempts))
		if l.ExpireTime.After(now) {
			l.ExpireTime = now
		}
		m.opts.Logger.Warn("lease revocation failed; will retry", "lease_id", l.ID,
			"attempt", l.RevokeAttempts, "retry_at", l.NextAttempt, "error", err)
		if serr := m.save(ctx, l); serr != nil {
			m.opts.Logger.Error("cannot record failed revocation", "lease_id", l.ID, "error", serr)
		}
		m.schedule(l.ID, l.NextAttempt)
		return fmt.Errorf("failed to revoke lease %s: %w", l.ID, err)
	}
	if err := m.delete(ctx, l); err != nil {
		m.opts.Logger.Error("lease revoked but not deleted; will retry", "lease_id", l.ID, "error", err)
		m.schedule(l.ID, now.Add(m.opts.RetryBase))
		return err
	}
	m.unschedule(l.ID)
	if m.opts.OnRevoked != nil {
		m.opts.OnRevoked(l)
	}
	return nil
}

// backoff is RetryBase doubled per attempt, capped at RetryMax.
func (m *Manager) backoff(attempt int) time.Duration {
	d := m.opts.RetryBase
	for i := 1; i < attempt && d < m.opts.RetryMax; i++ {
		d *= 2
	}
	if d > m.opts.RetryMax {
		d = m.opts.RetryMax
	}
	return d
}

func (m *Manager) delete(ctx context.Context, l *Lease) error {
	ops := []storage.Op{{Kind: storage.OpDelete, Entry: &storage.Entry{Key: leaseKey(l.ID)}}}
	if l.TokenHash != "" {
		ops = append(ops, storage.Op{Kind: storage.OpDelete, Entry: &storage.Entry{Key: tokenIndexKey(l.TokenHash, l.ID)}})
	}
	return storage.Apply(ctx, m.view, ops)
}

// Revoke revokes a lease. With sync the engine is asked now and its error
// returned (the lease is then kept and retried in the background);
// without, the lease is marked expired and revoked by the workers. A
// lease that does not exist is already revoked: nil.
func (m *Manager) Revoke(ctx context.Context, id string, sync bool) error {
	return m.withLease(ctx, id, func(l *Lease) error {
		if sync {
			return m.revokeNow(ctx, l)
		}
		return m.expireNow(ctx, l)
	})
}

// withLease runs fn on a stored lease while holding its claim; a lease
// that does not exist is nothing to do.
func (m *Manager) withLease(ctx context.Context, id string, fn func(l *Lease) error) error {
	release, err := m.claim(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	l, err := m.load(ctx, id)
	if err != nil || l == nil {
		return err
	}
	return fn(l)
}

// expireNow marks a claimed lease as expired and schedules it at once.
func (m *Manager) expireNow(ctx context.Context, l *Lease) error {
	now := m.opts.Now()
	if l.ExpireTime.After(now) {
		l.ExpireTime = now
		if err := m.save(ctx, l); err != nil {
			return fmt.Errorf("mark lease for revocation: %w", err)
		}
	}
	m.schedule(l.ID, l.due())
	return nil
}

// RevokePrefix revokes every lease whose ID starts with prefix (a lease
// ID itself, or a path: "database/creds/app"). It returns how many were
// revoked (or, without sync, marked) and the first error.
func (m *Manager) RevokePrefix(ctx context.Context, prefix string, sync bool) (int, error) {
	return m.forPrefix(ctx, prefix, func(id string) error { return m.Revoke(ctx, id, sync) })
}

// RevokeForce deletes every lease under prefix without asking its engine,
// for secrets an operator has removed by hand (or whose engine is gone).
func (m *Manager) RevokeForce(ctx context.Context, prefix string) (int, error) {
	return m.forPrefix(ctx, prefix, func(id string) error {
		return m.withLease(ctx, id, func(l *Lease) error {
			if err := m.delete(ctx, l); err != nil {
				return err
			}
			m.unschedule(id)
			m.opts.Logger.Warn("lease force-revoked: its engine was not asked to revoke it", "lease_id", id)
			return nil
		})
	})
}

// forPrefix calls fn, Workers at a time, for every lease under prefix.
func (m *Manager) forPrefix(ctx context.Context, prefix string, fn func(id string) error) (int, error) {
	var ids []string
	if l, err := m.load(ctx, strings.TrimSuffix(prefix, "/")); err != nil {
		return 0, err
	} else if l != nil {
		ids = append(ids, l.ID)
	}
	dir := leaseKey(strings.TrimSuffix(prefix, "/") + "/")
	err := logical.ScanKeys(ctx, m.view, dir, func(key string) error {
		ids = append(ids, strings.TrimPrefix(key, leasePrefix))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list leases: %w", err)
	}
	return len(ids), m.parallel(ids, fn)
}

func (m *Manager) parallel(ids []string, fn func(id string) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		slots = make(chan struct{}, m.opts.Workers)
	)
	for _, id := range ids {
		slots <- struct{}{}
		wg.Add(1)
		go func(id string) {
			defer func() { <-slots; wg.Done() }()
			if err := fn(id); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(id)
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d leases: %w", len(errs), len(ids), errs[0])
	}
	return nil
}

// RevokeByToken marks every lease of a token (by the token store's hash)
// as expired, so the workers revoke them; Vault does the same when a
// token is revoked or expires.
func (m *Manager) RevokeByToken(ctx context.Context, tokenHash string) (int, error) {
	if tokenHash == "" {
		return 0, nil
	}
	var ids []string
	err := logical.ScanKeys(ctx, m.view, tokenPrefix+tokenHash+"/", func(key string) error {
		e, err := m.view.Get(ctx, key)
		if err != nil {
			return err
		}
		if e != nil {
			ids = append(ids, string(e.Value))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list the token's leases: %w", err)
	}
	return len(ids), m.parallel(ids, func(id string) error { return m.Revoke(ctx, id, false) })
}
