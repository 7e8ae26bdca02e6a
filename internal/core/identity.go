package core

import (
	"context"
	"slices"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/token"
)

// effectivePolicies is a token's own policies plus those its identity
// entity and groups give it. Root tokens have no entity.
func (st *unsealedState) effectivePolicies(ctx context.Context, te *token.Entry) []string {
	if te.EntityID == "" || st.identity == nil {
		return te.Policies
	}
	ip, err := st.identity.IdentityPolicies(ctx, te.EntityID)
	if err != nil || len(ip) == 0 {
		return te.Policies
	}
	out := make([]string, 0, len(te.Policies)+len(ip))
	out = append(out, te.Policies...)
	for _, p := range ip {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// entityDisabled reports a token whose identity entity is disabled: such
// tokens are refused, as Vault does.
func (st *unsealedState) entityDisabled(ctx context.Context, te *token.Entry) bool {
	if te.EntityID == "" || st.identity == nil {
		return false
	}
	e, err := st.identity.Entity(ctx, te.EntityID)
	return err == nil && e != nil && e.Disabled
}

// linkEntity attaches a login to its identity entity (creating entity and
// alias on first login) and returns the entity's MFA requirement, if any.
func (c *Core) linkEntity(ctx context.Context, st *unsealedState, e *routeEntry, a *logical.Auth) (*mfaPending, error) {
	if a.Alias == nil || st.identity == nil {
		return nil, nil
	}
	ent, err := st.identity.LoginEntity(ctx, e.mount.Accessor, e.mount.Type, a.Alias)
	if err != nil {
		return nil, err
	}
	a.EntityID = ent.ID
	req, err := st.identity.LoginMFARequirement(ctx, e.mount.Accessor, e.mount.Type, ent)
	if err != nil || req == nil || len(req.Methods) == 0 {
		return nil, err
	}
	return &mfaPending{entityID: ent.ID, methods: req.Methods}, nil
}
