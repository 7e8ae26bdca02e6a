package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/expiration"
	"github.com/kinko-dev/kinko/internal/logical"
)

// Lease scheduler settings; tests shorten the retry.
var (
	leaseRetryBase = time.Second
	leaseRetryMax  = 5 * time.Minute
)

// startLeases loads the lease manager and starts its timers; the router
// must be in place, since revocations are routed to engines.
func (c *Core) startLeases(bg context.Context, st *unsealedState) error {
	st.leases = expiration.New(barrier.NewView(c.barrier, "sys/expire/"), leaseRouter{c: c, st: st}, expiration.Options{
		Now: c.conf.Now, Logger: c.logger, RetryBase: leaseRetryBase, RetryMax: leaseRetryMax,
		OnRevoked: func(*expiration.Lease) { c.leaseRevocations.Inc() },
	})
	n, err := st.leases.Start(bg)
	if err != nil {
		return err
	}
	if n > 0 {
		c.logger.Info("leases restored", "count", n)
	}
	return nil
}

// leaseRouter sends a lease's renewal or revocation to the engine mounted
// at its path.
type leaseRouter struct {
	c  *Core
	st *unsealedState
}

// errLeaseMountGone: the engine that issued a lease is no longer mounted.
var errLeaseMountGone = errors.New("no secrets engine is mounted at the lease's path; use revoke-force to drop the lease")

func (r leaseRouter) call(ctx context.Context, op logical.Operation, l *expiration.Lease, s *logical.Secret) (*logical.Response, error) {
	e, rel := r.st.router.Load().match(l.Path)
	if e == nil {
		return nil, errLeaseMountGone
	}
	req := &logical.Request{
		ID: l.ID, Operation: op, Path: rel, Storage: e.view, MountPoint: e.prefix, Secret: s,
		MountConfig: backendMountConfig(e.mount),
	}
	return e.backend.HandleRequest(ctx, req)
}

func (r leaseRouter) RevokeLease(ctx context.Context, l *expiration.Lease, s *logical.Secret) error {
	_, err := r.call(ctx, logical.RevokeOperation, l, s)
	return err
}

func (r leaseRouter) RenewLease(ctx context.Context, l *expiration.Lease, s *logical.Secret) (*logical.Response, error) {
	return r.call(ctx, logical.RenewOperation, l, s)
}

// registerLease persists the lease a response asks for, with the TTL the
// engine chose (the mount's default when none), capped by the engine's
// max TTL and the mount's. If the lease cannot be stored the secret is
// revoked at once: nothing is handed out that would never be revoked.
func (c *Core) registerLease(ctx context.Context, st *unsealedState, e *routeEntry, req *logical.Request, fullPath, tokenHash string, resp *logical.Response) error {
	s := resp.Secret
	sv := sysView{c, e.mount}
	maxTTL := sv.MaxLeaseTTL()
	if s.MaxTTL > 0 && s.MaxTTL < maxTTL {
		maxTTL = s.MaxTTL
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = sv.DefaultLeaseTTL()
	}
	if ttl > maxTTL {
		ttl = maxTTL
	}
	if _, err := st.leases.Register(ctx, fullPath, tokenHash, s, ttl, maxTTL); err != nil {
		l := &expiration.Lease{ID: fullPath, Path: fullPath, InternalData: s.InternalData}
		if rerr := (leaseRouter{c: c, st: st}).RevokeLease(ctx, l, s); rerr != nil {
			c.logger.Error("a secret whose lease could not be stored could not be revoked either", "path", fullPath, "error", rerr)
		}
		return fmt.Errorf("failed to register lease: %w", err)
	}
	if tokenHash != "" && st.tokenWatch != nil {
		if te, err := st.tokens.LookupHash(ctx, tokenHash); err == nil && te != nil && !te.ExpireTime.IsZero() {
			st.tokenWatch.watch(tokenHash, te.ExpireTime)
		}
	}
	return nil
}

// tokenExists tells the lease tidy whether a token (by hash) still exists.
func (st *unsealedState) tokenExists(ctx context.Context, hash string) (bool, error) {
	te, err := st.tokens.LookupHash(ctx, hash)
	return te != nil, err
}

// leaseGauge reports how many leases are scheduled.
func (c *Core) leaseGauge() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kinko_leases",
		Help: "Leases held (issued and not yet revoked)."}, func() float64 {
		if st := c.state.Load(); st != nil && st.leases != nil {
			return float64(st.leases.Count())
		}
		return 0
	})
}
