package token

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// RenewCheckFunc asks the auth method whose login minted e whether e may be
// renewed; conn is the renewing request's connection (nil when unknown). It returns the bounds the method sets today: Auth.Period
// (replacing the token's), Auth.TTL (granted when no increment is asked;
// zero means the default), Auth.MaxTTL (a cap counted from creation) and
// Auth.ExplicitMaxTTL (which only tightens the token's own). An error
// refuses the renewal and is returned to the caller as is. It is called
// with no lock of the store held, so it may use the store.
type RenewCheckFunc func(ctx context.Context, e *Entry, conn *logical.Connection) (*logical.Auth, error)

// ErrRenewRefused is returned when RenewCheck approves nothing (a nil Auth
// without an error).
var ErrRenewRefused = logical.Errorf(logical.ErrInvalidRequest, "the auth method that issued this token refused to renew it")

// IsLoginPath reports whether a token made at path was minted by an auth
// method's login, whose renewals RenewCheck approves: any path below
// "auth/" except the token store's own.
func IsLoginPath(path string) bool {
	return strings.HasPrefix(path, "auth/") && !strings.HasPrefix(path, "auth/token/")
}

// Renew extends a live, renewable token: to its period for a periodic
// token, else to increment (or its creation TTL when increment is 0),
// never past its max TTL (the store MaxTTL or its explicit max TTL, counted
// from creation). A token minted by an auth method login is renewed only
// if RenewCheck (when set) approves, within the bounds it returns. Renew
// returns the updated entry, the new TTL and warnings for any value it
// capped.
func (s *Store) Renew(ctx context.Context, e *Entry, increment time.Duration) (*Entry, time.Duration, []string, error) {
	if e == nil {
		return nil, 0, nil, ErrTokenNotFound
	}
	return s.renew(ctx, e.Hash, increment, s.defaultLimits(), nil)
}

func (s *Store) renew(ctx context.Context, hash string, increment time.Duration, lim limits, conn *logical.Connection) (*Entry, time.Duration, []string, error) {
	k, ok := decodeHash(hash)
	if !ok {
		return nil, 0, nil, ErrTokenNotFound
	}
	method, err := s.askMethod(ctx, hash, conn)
	if err != nil {
		return nil, 0, nil, err
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
	base := cur
	if method != nil {
		base, period, explicit, lim = methodBounds(cur, method, explicit, lim)
	}
	ttl, warnings, err := renewTTL(base, now, increment, period, explicit, lim)
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

// askMethod runs RenewCheck for a live, renewable login token, before the
// token's lock is taken (the method reads its own storage and may use the
// store). It returns nil, nil when no method is to be asked; the locked
// renewal then reports a gone or non-renewable token itself.
func (s *Store) askMethod(ctx context.Context, hash string, conn *logical.Connection) (*logical.Auth, error) {
	if s.RenewCheck == nil {
		return nil, nil
	}
	e, err := s.lookupHash(ctx, hash)
	if err != nil || e == nil || !e.Renewable || !IsLoginPath(e.Path) {
		return nil, err
	}
	a, err := s.RenewCheck(ctx, e, conn)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, ErrRenewRefused
	}
	return a, nil
}

// methodBounds applies the bounds an auth method returned for a renewal:
// its period replaces the token's, its TTL replaces the creation TTL as
// the default grant, and its max TTL and explicit max TTL only tighten.
// It returns the renewTTL inputs: a view of e, period, explicit and lim.
func methodBounds(e *Entry, a *logical.Auth, explicit time.Duration, lim limits) (*Entry, time.Duration, time.Duration, limits) {
	view := e.clone()
	view.TTL = a.TTL
	lim.max = tighter(lim.max, a.MaxTTL)
	return view, a.Period, tighter(explicit, a.ExplicitMaxTTL), lim
}

// tighter returns the smaller of the limits cur and d, where 0 means none.
func tighter(cur, d time.Duration) time.Duration {
	if d > 0 && (cur == 0 || d < cur) {
		return d
	}
	return cur
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
