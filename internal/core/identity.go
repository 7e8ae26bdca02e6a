package core

import (
	"context"
	"errors"
	"slices"

	"github.com/kinko-dev/kinko/internal/identity"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/token"
)

// effectivePolicies is a token's own policies plus those its identity
// entity and groups give it (root tokens have no entity). A disabled
// entity's tokens are refused, as Vault does: identity.ErrEntityDisabled.
func (st *unsealedState) effectivePolicies(ctx context.Context, te *token.Entry) ([]string, error) {
	if te.EntityID == "" || st.identity == nil {
		return te.Policies, nil
	}
	ip, err := st.identity.IdentityPolicies(ctx, te.EntityID)
	if errors.Is(err, identity.ErrEntityDisabled) {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "permission denied: the token's entity is disabled")
	}
	if err != nil || len(ip) == 0 {
		return te.Policies, nil
	}
	out := make([]string, 0, len(te.Policies)+len(ip))
	out = append(out, te.Policies...)
	for _, p := range ip {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// linkEntity attaches a login to its identity entity (creating entity and
// alias on first login), brings the entity's external group memberships on
// this mount in line with the groups the method reported, and returns the
// entity's MFA requirement, if any.
func (c *Core) linkEntity(ctx context.Context, st *unsealedState, e *routeEntry, a *logical.Auth) (*mfaPending, error) {
	if a.Alias == nil || st.identity == nil {
		return nil, nil
	}
	ent, err := st.identity.LoginEntity(ctx, e.mount.Accessor, e.mount.Type, a.Alias)
	if err != nil {
		return nil, err
	}
	a.EntityID = ent.ID
	if err := st.syncExternalGroups(ctx, ent.ID, e.mount.Accessor, a.GroupAliases); err != nil {
		return nil, err
	}
	req, err := st.identity.LoginMFARequirement(ctx, e.mount.Accessor, e.mount.Type, ent)
	if err != nil || req == nil || len(req.Enforcements) == 0 {
		return nil, err
	}
	return &mfaPending{entityID: ent.ID, enforcements: req.Enforcements}, nil
}

// syncExternalGroups makes the entity a member of exactly the external
// groups whose group alias on the mount is named in groups, as Vault does
// on every login and renewal. A nil list (a method without group support)
// leaves memberships alone; an empty one removes those of this mount.
func (st *unsealedState) syncExternalGroups(ctx context.Context, entityID, accessor string, groups []*logical.Alias) error {
	if groups == nil || entityID == "" || st.identity == nil {
		return nil
	}
	names := make([]string, 0, len(groups))
	for _, g := range groups {
		if g != nil && g.Name != "" {
			names = append(names, g.Name)
		}
	}
	return st.identity.SyncExternalGroups(ctx, entityID, accessor, names)
}
