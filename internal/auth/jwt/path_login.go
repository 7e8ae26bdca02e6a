package jwt

import (
	"context"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathLogin() *logical.Path {
	return &logical.Path{
		Pattern: "login",
		Fields: map[string]*logical.FieldSchema{
			"role": {Type: logical.TypeString, Description: "Role to log in with (default: the config's default_role)."},
			"jwt":  {Type: logical.TypeString, Description: "The signed JWT."},
		},
		Operations:   map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.login},
		HelpSynopsis: "Log in with a signed JWT.",
		HelpDescription: `The JWT's signature is verified with the configured keys and its claims
against the config (bound_issuer) and the role (audiences, subject, bound
claims, validity times). The role's user claim names the caller.`,
	}
}

// login verifies the JWT and returns the token to mint. Roles of type
// "oidc" are refused: their logins go through oidc/auth_url and
// oidc/callback.
func (b *backend) login(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	k, err := b.keyringFor(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, logical.InvalidRequest("could not load configuration")
	}
	name := d.Get("role").(string)
	if name == "" {
		name = k.cfg.DefaultRole
	}
	if name == "" {
		return nil, logical.InvalidRequest("missing role")
	}
	if len(name) > maxNameLength {
		return nil, logical.InvalidRequest("role %q could not be found", name[:maxNameLength]+"...")
	}
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("role %q could not be found", name)
	}
	if r.RoleType != roleTypeJWT {
		return nil, logical.InvalidRequest("role with oidc role_type is not allowed")
	}
	token := strings.TrimSpace(d.Get("jwt").(string))
	if token == "" {
		return nil, logical.InvalidRequest("missing token")
	}
	if err := checkRemote(req, r); err != nil {
		return nil, err
	}
	all, err := b.verifyToken(ctx, k, r, token)
	if err != nil {
		return nil, err
	}
	a, err := loginAuth(r, all)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Auth: a}, nil
}

// loginAuth builds the token request from the verified claims (of a JWT
// or of an OIDC ID token): alias name from the user claim, alias and token
// metadata from claim_mappings (plus "role" on the token), one group alias
// per value of the groups claim when set, bound_claims enforced.
func loginAuth(r *role, all map[string]any) (*logical.Auth, error) {
	rawUser := getClaim(all, r.UserClaim, r.UserClaimJSONPointer)
	if rawUser == nil {
		return nil, logical.InvalidRequest("claim %q not found in token", r.UserClaim)
	}
	user, ok := rawUser.(string)
	if !ok || user == "" {
		return nil, logical.InvalidRequest("claim %q could not be converted to string", r.UserClaim)
	}
	aliasMeta := make(map[string]string, len(r.ClaimMappings))
	for claim, key := range r.ClaimMappings {
		v := getClaim(all, claim, false)
		if v == nil {
			continue
		}
		s, ok := scalarString(v, false)
		if !ok {
			return nil, logical.InvalidRequest("error converting claim %q to string", claim)
		}
		aliasMeta[key] = s
	}
	groups, err := groupsOf(r, all)
	if err != nil {
		return nil, err
	}
	if err := checkBoundClaims(r.BoundClaims, r.BoundClaimsType == boundClaimGlob, all); err != nil {
		return nil, logical.InvalidRequest("error validating claims: %s", err.Error())
	}
	meta := make(map[string]string, len(aliasMeta)+1)
	for k, v := range aliasMeta {
		meta[k] = v
	}
	meta["role"] = r.Name
	internal := map[string]any{"role": r.Name}
	if groups != nil {
		internal["groups"] = groups
	}
	a := &logical.Auth{
		DisplayName:  user,
		Metadata:     meta,
		InternalData: internal,
		Alias:        &logical.Alias{Name: user, Metadata: aliasMeta},
		GroupAliases: groupAliases(groups),
	}
	r.Params.PopulateAuth(a)
	return a, nil
}

// groupAliases is one alias per distinct, non-empty group name, in claim
// order (nil when there are none).
func groupAliases(groups []string) []*logical.Alias {
	var out []*logical.Alias
	seen := make(map[string]bool, len(groups))
	for _, g := range groups {
		if g == "" || seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, &logical.Alias{Name: g})
	}
	return out
}

// groupsOf returns the values of the role's groups claim (nil when the
// role has none); the claim must then be present and a string or list of
// strings.
func groupsOf(r *role, all map[string]any) ([]string, error) {
	if r.GroupsClaim == "" {
		return nil, nil
	}
	raw := getClaim(all, r.GroupsClaim, false)
	if raw == nil {
		return nil, logical.InvalidRequest("%q claim not found in token", r.GroupsClaim)
	}
	vals, ok := claimValues(raw, true)
	if !ok {
		return nil, logical.InvalidRequest("%q claim is not a string or a list of strings", r.GroupsClaim)
	}
	return vals, nil
}
