package core

import (
	"context"
	"time"

	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/token"
)

// Response wrapping: a response is stored under a fresh single-use token
// (policy "response-wrapping", which grants nothing through the ACL) and
// only that token's holder can read it once, through sys/wrapping/unwrap.

const (
	wrappingPolicy = "response-wrapping"
	wrappingPrefix = "sys/wrapping/"
	// MaxWrapTTL bounds how long a wrapped response may wait.
	MaxWrapTTL = 30 * 24 * time.Hour
)

// wrappedResponse is what a wrapping token guards, in storage.
type wrappedResponse struct {
	Data         map[string]any `json:"data,omitempty"`
	Warnings     []string       `json:"warnings,omitempty"`
	Auth         *logical.Auth  `json:"auth,omitempty"`
	Secret       *leaseInfo     `json:"secret,omitempty"`
	CreationPath string         `json:"creation_path"`
	CreationTime time.Time      `json:"creation_time"`
	TTL          time.Duration  `json:"ttl"`
}

type leaseInfo struct {
	LeaseID   string        `json:"lease_id"`
	TTL       time.Duration `json:"ttl"`
	Renewable bool          `json:"renewable"`
}

func wrapView(c *Core) logical.Storage { return barrier.NewView(c.barrier, wrappingPrefix) }

// wrapResponse replaces resp by a wrapping token that guards it.
func (c *Core) wrapResponse(ctx context.Context, st *unsealedState, path string, ttl time.Duration, resp *logical.Response) (*logical.Response, error) {
	if ttl > MaxWrapTTL {
		return nil, logical.InvalidRequest("wrap TTL %s exceeds the maximum of %s", ttl, MaxWrapTTL)
	}
	now := c.conf.Now().UTC()
	w := &wrappedResponse{Data: resp.Data, Warnings: resp.Warnings, Auth: resp.Auth, CreationPath: path, CreationTime: now, TTL: ttl}
	if s := resp.Secret; s != nil {
		w.Secret = &leaseInfo{LeaseID: s.LeaseID, TTL: s.TTL, Renewable: s.Renewable}
	}
	te := &token.Entry{Policies: []string{wrappingPolicy}, TTL: ttl, ExplicitMaxTTL: ttl, NumUses: 1,
		Orphan: true, Path: path, DisplayName: "response-wrapping"}
	if err := st.tokens.Create(ctx, te); err != nil {
		return nil, err
	}
	if err := logical.PutJSON(ctx, wrapView(c), te.Accessor, w); err != nil {
		_ = st.tokens.RevokeAccessor(ctx, te.Accessor)
		return nil, err
	}
	info := &logical.WrapInfo{Token: te.ID, Accessor: te.Accessor, TTL: ttl, CreationTime: now, CreationPath: path}
	if resp.Auth != nil {
		info.WrappedAccessor = resp.Auth.Accessor
	}
	return &logical.Response{WrapInfo: info}, nil
}

// wrappingEntry resolves a wrapping token; anything else is refused.
func (c *Core) wrappingEntry(ctx context.Context, st *unsealedState, raw string) (*token.Entry, error) {
	if raw == "" {
		return nil, logical.InvalidRequest("wrapping token is not valid or does not exist")
	}
	te, err := st.tokens.Lookup(ctx, raw)
	if err != nil {
		return nil, err
	}
	if te == nil || len(te.Policies) != 1 || te.Policies[0] != wrappingPolicy {
		return nil, logical.InvalidRequest("wrapping token is not valid or does not exist")
	}
	return te, nil
}

// unwrap returns the guarded response and destroys the wrapping token.
func (c *Core) unwrap(ctx context.Context, st *unsealedState, raw string) (*wrappedResponse, error) {
	te, err := c.wrappingEntry(ctx, st, raw)
	if err != nil {
		return nil, err
	}
	var w wrappedResponse
	ok, err := logical.GetJSON(ctx, wrapView(c), te.Accessor, &w)
	if err != nil {
		return nil, err
	}
	// the token is spent whatever happens next
	if err := st.tokens.RevokeAccessor(ctx, te.Accessor); err != nil {
		return nil, err
	}
	if !ok {
		return nil, logical.InvalidRequest("wrapping token is not valid or does not exist")
	}
	return &w, wrapView(c).Delete(ctx, te.Accessor)
}

// onTokenRevoked drops what belonged to a revoked or expired token: the
// wrapped response of a wrapping token, and the token's cubbyhole.
func (c *Core) onTokenRevoked(ctx context.Context, te *token.Entry) {
	c.revoked.add(te, c.conf.Now())
	if len(te.Policies) == 1 && te.Policies[0] == wrappingPolicy {
		if err := wrapView(c).Delete(ctx, te.Accessor); err != nil {
			c.logger.Warn("could not delete a wrapped response", "error", err)
		}
	}
	st := c.state.Load()
	if st == nil || te.Accessor == "" {
		return
	}
	if st.leases != nil {
		if _, err := st.leases.RevokeByToken(ctx, te.Hash); err != nil {
			c.logger.Error("could not mark a revoked token's leases for revocation; lease tidy will", "error", err)
		}
	}
	if e, _ := st.router.Load().match("cubbyhole/x"); e != nil && e.mount.Type == "cubbyhole" {
		if err := logical.ClearPrefix(ctx, e.view, te.Accessor+"/"); err != nil {
			c.logger.Warn("could not clear a revoked token's cubbyhole", "error", err)
		}
	}
}

func (w *wrappedResponse) response() *logical.Response {
	r := &logical.Response{Data: w.Data, Warnings: w.Warnings, Auth: w.Auth}
	if w.Secret != nil {
		r.Secret = &logical.Secret{LeaseID: w.Secret.LeaseID, LeaseOptions: logical.LeaseOptions{TTL: w.Secret.TTL, Renewable: w.Secret.Renewable}}
	}
	return r
}
