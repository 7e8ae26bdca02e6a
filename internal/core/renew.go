package core

import (
	"context"
	"maps"
	"slices"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/token"
)

// errNoAuthHandler refuses renewing a login token whose auth mount is gone.
var errNoAuthHandler = logical.InvalidRequest("no handler for the auth method that issued this token, not renewing")

// renewWithAuthMethod is the token store's RenewCheck: it hands the
// renewal of a login token to the auth method mounted where the token was
// minted (te.Path), as Vault does, so the method can refuse (user deleted,
// role gone, policies changed) and bound the new TTL by its current
// settings. The method sees a RenewOperation with an empty path, the
// token as req.Auth, its mount's storage view and the renewing request's
// connection. Its answer is further bounded by the auth mount's tuned
// default and max lease TTLs.
func (c *Core) renewWithAuthMethod(ctx context.Context, te *token.Entry, conn *logical.Connection) (*logical.Auth, error) {
	st, err := c.unsealed()
	if err != nil {
		return nil, err
	}
	e, _ := st.router.Load().match(te.Path)
	if e == nil || e.mount.Table != TableAuth || e.mount.Type == "token" {
		return nil, errNoAuthHandler
	}
	cfg := e.mount.Config
	req := &logical.Request{
		Operation:   logical.RenewOperation,
		Storage:     e.view,
		MountPoint:  e.prefix,
		MountConfig: logical.MountConfig{DefaultLeaseTTL: cfg.DefaultLeaseTTL, MaxLeaseTTL: cfg.MaxLeaseTTL},
		Auth:        renewalAuth(te),
		Conn:        conn,
		Data:        map[string]any{},
	}
	resp, err := e.backend.HandleRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.Auth == nil {
		return nil, token.ErrRenewRefused
	}
	a := *resp.Auth
	if a.TTL <= 0 {
		a.TTL = cfg.DefaultLeaseTTL
	}
	if m := cfg.MaxLeaseTTL; m > 0 && (a.MaxTTL <= 0 || m < a.MaxTTL) {
		a.MaxTTL = m
	}
	return &a, nil
}

// renewalAuth describes a login token to the method that minted it, as the
// method's login described it: the policies it chose (with the "default"
// core added; compare with tokenutil.EquivalentPolicies), its metadata and
// internal data. Slices and maps are copies: the entry is shared.
func renewalAuth(te *token.Entry) *logical.Auth {
	policies := slices.Clone(te.Policies)
	return &logical.Auth{
		Accessor:       te.Accessor,
		Policies:       policies,
		TokenPolicies:  policies,
		Metadata:       maps.Clone(te.Meta),
		DisplayName:    te.DisplayName,
		EntityID:       te.EntityID,
		Orphan:         te.Orphan,
		NumUses:        te.NumUses,
		Period:         te.Period,
		ExplicitMaxTTL: te.ExplicitMaxTTL,
		TokenType:      token.TokenType,
		InternalData:   maps.Clone(te.InternalData),
		BoundCIDRs:     slices.Clone(te.BoundCIDRs),
		LeaseOptions:   logical.LeaseOptions{TTL: te.TTL, Renewable: te.Renewable, IssueTime: te.CreationTime},
	}
}
