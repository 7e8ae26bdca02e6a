package jwt

import (
	"context"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

// maxNameLength caps role names.
const maxNameLength = 512

func (b *backend) pathRoleList() *logical.Path {
	return &logical.Path{
		Pattern:         "role/?",
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.roleList},
		HelpSynopsis:    "List the roles of this JWT mount.",
		HelpDescription: "Returns the names of all roles.",
	}
}

func roleFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"name":              {Type: logical.TypeString, Description: "Name of the role."},
		"role_type":         {Type: logical.TypeString, Description: `Type of role: "oidc" (browser login, the default, as Vault) or "jwt".`},
		"bound_audiences":   {Type: logical.TypeCommaStringSlice, Description: "The token's aud claim must contain one of these."},
		"bound_subject":     {Type: logical.TypeString, Description: "The token's sub claim must equal this."},
		"bound_claims":      {Type: logical.TypeMap, Description: `Claims the token must carry: claim (or "/json/pointer") -> value or list of values.`},
		"bound_claims_type": {Type: logical.TypeString, Description: `How bound_claims values match: "string" (exact, default) or "glob" ("*" wildcards).`},
		"disable_bound_claims_parsing": {Type: logical.TypeBool,
			Description: "Keep comma-separated bound_claims string values whole instead of splitting them into lists."},
		"claim_mappings":          {Type: logical.TypeKVPairs, Description: "Claims copied into token and alias metadata: claim -> metadata key."},
		"user_claim":              {Type: logical.TypeString, Description: `Claim naming the caller (alias name); default "sub".`},
		"user_claim_json_pointer": {Type: logical.TypeBool, Description: "Read user_claim as a JSON pointer."},
		"groups_claim":            {Type: logical.TypeString, Description: "Claim holding the caller's groups (must be present when set)."},
		"clock_skew_leeway": {Type: logical.TypeRaw,
			Description: "Leeway for exp/nbf/iat checks, in seconds or a duration (0 = 60s, -1 = none)."},
		"expiration_leeway": {Type: logical.TypeRaw,
			Description: "Lifetime given to a token without exp, from its iat/nbf (0 = 150s, -1 = none)."},
		"not_before_leeway": {Type: logical.TypeRaw,
			Description: "Window before exp in which a token without nbf/iat is valid (0 = 150s, -1 = none)."},
		"allowed_redirect_uris": {Type: logical.TypeCommaStringSlice,
			Description: "Redirect URIs an OIDC login may use (exact match; required for oidc roles)."},
		"oidc_scopes": {Type: logical.TypeCommaStringSlice, Description: `OIDC scopes requested besides "openid".`},
		"verbose_oidc_logging": {Type: logical.TypeBool,
			Description: "Accepted for Vault compatibility and always off: kinko never logs tokens or claims."},
		"max_age": {Type: logical.TypeDurationSecond,
			Description: "Longest time since the user last authenticated at the provider (OIDC max_age; 0 = not sent)."},
	}
}

func (b *backend) pathRole() *logical.Path {
	return &logical.Path{
		Pattern:        "role/" + logical.GenericNameRegex("name"),
		Fields:         tokenutil.AddFields(roleFields(), true),
		ExistenceCheck: b.roleExists,
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.CreateOperation: b.roleWrite,
			logical.UpdateOperation: b.roleWrite,
			logical.ReadOperation:   b.roleRead,
			logical.DeleteOperation: b.roleDelete,
		},
		HelpSynopsis: "Create, read, update or delete a JWT or OIDC role.",
		HelpDescription: `A role binds the claims a login's JWT (or, for an "oidc" role, the provider's
ID token) must carry (bound_audiences, bound_subject, bound_claims), names
the user and groups claims and the claims copied into metadata, and holds the
settings of the tokens its logins receive (token_*). An "oidc" role also
lists the redirect URIs its browser logins may use (allowed_redirect_uris)
and the scopes they request (oidc_scopes).`,
	}
}

func (b *backend) roleExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	r, err := loadRole(ctx, req.Storage, d.Get("name").(string))
	return r != nil, err
}

func (b *backend) roleList(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	keys, err := req.Storage.List(ctx, rolePrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

// roleName returns the validated, normalised role name of a request.
func roleName(d *logical.FieldData) (string, error) {
	name := d.Get("name").(string)
	switch {
	case name == "":
		return "", logical.InvalidRequest("missing name")
	case len(name) > maxNameLength:
		return "", logical.InvalidRequest("role name is longer than %d bytes", maxNameLength)
	}
	return normalizeName(name), nil
}

func (b *backend) roleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name, err := roleName(d)
	if err != nil {
		return nil, err
	}
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil || r == nil {
		return nil, err
	}
	return &logical.Response{Data: r.responseData()}, nil
}

func (b *backend) roleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name, err := roleName(d)
	if err != nil {
		return nil, err
	}
	lock := b.roleLock(name)
	lock.Lock()
	defer lock.Unlock()
	return nil, req.Storage.Delete(ctx, rolePrefix+name)
}

func (b *backend) roleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name, err := roleName(d)
	if err != nil {
		return nil, err
	}
	lock := b.roleLock(name)
	lock.Lock()
	defer lock.Unlock()
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = newRole(name)
	}
	if err := applyRoleFields(d, r); err != nil {
		return nil, err
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	resp, err := b.checkTokenLimits(req, r)
	if err != nil {
		return nil, err
	}
	if v, ok, _ := d.GetOk("verbose_oidc_logging"); ok && v.(bool) {
		if resp == nil {
			resp = &logical.Response{}
		}
		resp.AddWarning("verbose_oidc_logging is ignored: kinko never logs OIDC tokens or claims")
	}
	return resp, logical.PutJSON(ctx, req.Storage, rolePrefix+name, r)
}

// applyRoleFields copies the sent fields onto r (fields not sent keep
// their value, so it serves create and update).
func applyRoleFields(d *logical.FieldData, r *role) error {
	if err := r.Params.Parse(d); err != nil {
		return err
	}
	setString(d, "role_type", &r.RoleType)
	setString(d, "bound_subject", &r.BoundSubject)
	setString(d, "bound_claims_type", &r.BoundClaimsType)
	setString(d, "user_claim", &r.UserClaim)
	setString(d, "groups_claim", &r.GroupsClaim)
	if v, ok, _ := d.GetOk("bound_audiences"); ok {
		r.BoundAudiences = v.([]string)
	}
	if v, ok, _ := d.GetOk("user_claim_json_pointer"); ok {
		r.UserClaimJSONPointer = v.(bool)
	}
	if v, ok, _ := d.GetOk("disable_bound_claims_parsing"); ok {
		r.DisableBoundClaimsParsing = v.(bool)
	}
	if v, ok, _ := d.GetOk("bound_claims"); ok {
		r.BoundClaims = v.(map[string]any)
		if !r.DisableBoundClaimsParsing {
			r.BoundClaims = splitBoundClaims(r.BoundClaims)
		}
	}
	if v, ok, _ := d.GetOk("claim_mappings"); ok {
		r.ClaimMappings = v.(map[string]string)
	}
	if v, ok, _ := d.GetOk("allowed_redirect_uris"); ok {
		r.AllowedRedirectURIs = trimAll(v.([]string))
	}
	if v, ok, _ := d.GetOk("oidc_scopes"); ok {
		r.OIDCScopes = trimAll(v.([]string))
	}
	if v, ok, _ := d.GetOk("max_age"); ok {
		r.MaxAge = v.(time.Duration)
	}
	for name, dst := range map[string]*time.Duration{
		"clock_skew_leeway": &r.ClockSkewLeeway, "expiration_leeway": &r.ExpirationLeeway, "not_before_leeway": &r.NotBeforeLeeway,
	} {
		raw, ok := d.Raw[name]
		if !ok || raw == nil {
			continue
		}
		v, err := parseSignedSeconds(raw)
		if err != nil {
			return logical.InvalidRequest("invalid %s: %v", name, err)
		}
		*dst = v
	}
	return nil
}

// trimAll trims each string and drops empty ones.
func trimAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func setString(d *logical.FieldData, name string, dst *string) {
	if v, ok, _ := d.GetOk(name); ok {
		*dst = v.(string)
	}
}

// checkTokenLimits compares the token settings with the mount's max TTL.
func (b *backend) checkTokenLimits(req *logical.Request, r *role) (*logical.Response, error) {
	maxTTL := b.maxLeaseTTL(req)
	if maxTTL > 0 && r.TokenPeriod > maxTTL {
		return nil, logical.InvalidRequest("period of %q is greater than the backend's maximum lease TTL of %q",
			r.TokenPeriod.String(), maxTTL.String())
	}
	if maxTTL > 0 && r.TokenMaxTTL > maxTTL {
		resp := &logical.Response{}
		resp.AddWarning("token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be truncated")
		return resp, nil
	}
	return nil, nil
}
