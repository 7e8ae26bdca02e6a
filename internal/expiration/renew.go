package expiration

import (
	"context"
	"fmt"
	"time"
)

// Renew asks the lease's engine to extend it by increment (0: the
// engine's default) and stores the new expiry, capped by the lease's max
// TTL and by the max TTL the engine returns. It returns the updated lease
// and warnings (a capped TTL).
func (m *Manager) Renew(ctx context.Context, id string, increment time.Duration) (*Lease, []string, error) {
	release, err := m.claim(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	l, err := m.load(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	now := m.opts.Now()
	if l == nil || !l.ExpireTime.After(now) || l.RevokeAttempts > 0 {
		return nil, nil, ErrNotFound
	}
	if !l.Renewable {
		return nil, nil, ErrNotRenewable
	}
	resp, err := m.backend.RenewLease(ctx, l, l.secret(increment))
	if err != nil {
		return nil, nil, err
	}
	ttl := increment
	if resp != nil && resp.Secret != nil && resp.Secret.TTL > 0 {
		ttl = resp.Secret.TTL
	}
	if ttl <= 0 {
		ttl = l.ExpireTime.Sub(l.lastStart()) // the lease's previous length
	}
	exp, warnings := now.Add(ttl), []string(nil)
	if resp != nil {
		warnings = resp.Warnings
	}
	limit := l.MaxExpire
	if resp != nil && resp.Secret != nil && resp.Secret.MaxTTL > 0 {
		if engine := l.IssueTime.Add(resp.Secret.MaxTTL); limit.IsZero() || engine.Before(limit) {
			limit = engine
		}
	}
	if !limit.IsZero() && exp.After(limit) {
		exp = limit
		warnings = append(warnings, fmt.Sprintf("TTL of %q exceeded the effective max_ttl of %q; TTL value is capped accordingly",
			ttl.String(), limit.Sub(now).Truncate(time.Second).String()))
	}
	l.ExpireTime, l.LastRenewal = exp, now
	if err := m.save(ctx, l); err != nil {
		return nil, nil, fmt.Errorf("persist renewed lease: %w", err)
	}
	m.schedule(l.ID, l.ExpireTime)
	return l, warnings, nil
}

// lastStart is when the lease's current term began.
func (l *Lease) lastStart() time.Time {
	if !l.LastRenewal.IsZero() {
		return l.LastRenewal
	}
	return l.IssueTime
}
