package token

import (
	"context"
	"fmt"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Renew extends a live, renewable token: to its period for a periodic
// token, else to increment (or its creation TTL when increment is 0),
// never past its max TTL (the store MaxTTL or its explicit max TTL, counted
// from creation). It returns the updated entry, the new TTL and warnings
// for any value it capped.
func (s *Store) Renew(ctx context.Context, e *Entry, increment time.Duration) (*Entry, time.Duration, []string, error) {
	if e == nil {
		return nil, 0, nil, ErrTokenNotFound
	}
	return s.renew(ctx, e.Hash, increment, s.defaultLimits())
}

func (s *Store) renew(ctx context.Context, hash string, increment time.Duration, lim limits) (*Entry, time.Duration, []string, error) {
	k, ok := decodeHash(hash)
	if !ok {
		return nil, 0, nil, ErrTokenNotFound
	}
	sh := s.shard(k)
	sh.fill.Lock()
	defer sh.fill.Unlock()
	cur, err := s.current(ctx, k)
	if err != nil {
		return nil, 0, nil, err
	}
	now := s.now()
	if !cur.valid(now) {
		return nil, 0, nil, ErrTokenNotFound
	}
	if !cur.Renewable {
		return nil, 0, nil, ErrNotRenewable
	}
	period, explicit, err := s.renewBounds(ctx, cur)
	if err != nil {
		return nil, 0, nil, err
	}
	ttl, warnings, err := renewTTL(cur, now, increment, period, explicit, lim)
	if err != nil {
		return nil, 0, nil, err
	}
	next := cur.clone()
	next.ExpireTime, next.LastRenewal = now.Add(ttl), now
	if err := s.put(ctx, next); err != nil {
		return nil, 0, nil, fmt.Errorf("token: persist renewal: %w", err)
	}
	s.cachePut(k, next)
	return next, ttl, warnings, nil
}

// renewBounds returns the period and explicit max TTL that govern a
// renewal: a role token follows its role's current values (but never
// loosens the token's own explicit max TTL).
func (s *Store) renewBounds(ctx context.Context, e *Entry) (period, explicit time.Duration, err error) {
	period, explicit = e.Period, e.ExplicitMaxTTL
	if e.Role == "" {
		return period, explicit, nil
	}
	r, err := s.role(ctx, e.Role)
	if err != nil {
		return 0, 0, err
	}
	if r == nil {
		return 0, 0, logical.InvalidRequest("original token role %q could not be found, not renewing", e.Role)
	}
	if r.TokenPeriod > 0 {
		period = r.TokenPeriod
	}
	if r.TokenExplicitMaxTTL > 0 && (explicit == 0 || r.TokenExplicitMaxTTL < explicit) {
		explicit = r.TokenExplicitMaxTTL
	}
	return period, explicit, nil
}

// renewTTL computes the TTL a renewal grants, after Vault's CalculateTTL:
// a periodic token gets its period, bounded only by an explicit max TTL;
// any other token gets increment (else its creation TTL, else the default),
// bounded by the smaller of the max TTL and its explicit max TTL, both
// counted from creation.
func renewTTL(e *Entry, now time.Time, increment, period, explicit time.Duration, lim limits) (time.Duration, []string, error) {
	var ttl time.Duration
	var maxValid time.Time
	if period > 0 {
		ttl = period
		if explicit > 0 {
			maxValid = e.CreationTime.Add(explicit)
		}
	} else {
		switch {
		case increment > 0:
			ttl = increment
		case e.TTL > 0:
			ttl = e.TTL
		default:
			ttl = lim.def
		}
		maxTTL := lim.max
		if explicit > 0 && (maxTTL == 0 || explicit < maxTTL) {
			maxTTL = explicit
		}
		if maxTTL > 0 {
			maxValid = e.CreationTime.Add(maxTTL)
		}
	}
	if maxValid.IsZero() {
		return ttl, nil, nil
	}
	left := maxValid.Sub(now)
	if left <= 0 {
		return 0, nil, ErrPastMaxTTL
	}
	if ttl > left {
		w := fmt.Sprintf("TTL of %q exceeded the effective max_ttl of %q; TTL value is capped accordingly",
			ttl.String(), left.Truncate(time.Second).String())
		return left, []string{w}, nil
	}
	return ttl, nil, nil
}
