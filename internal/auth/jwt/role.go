package jwt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

// Role types and bound-claims match types.
const (
	roleTypeJWT      = "jwt"
	roleTypeOIDC     = "oidc"
	boundClaimString = "string"
	boundClaimGlob   = "glob"
)

// Default leeways (Vault's): clock skew for exp/nbf/iat checks, and the
// windows used to synthesise a missing exp or nbf.
const (
	defaultClockSkew   = 60 * time.Second
	defaultClaimLeeway = 150 * time.Second
)

// role is the stored record of one JWT or OIDC role.
type role struct {
	tokenutil.Params

	Name                      string            `json:"name"`
	RoleType                  string            `json:"role_type"`
	BoundAudiences            []string          `json:"bound_audiences"`
	BoundSubject              string            `json:"bound_subject"`
	BoundClaims               map[string]any    `json:"bound_claims"`
	BoundClaimsType           string            `json:"bound_claims_type"`
	DisableBoundClaimsParsing bool              `json:"disable_bound_claims_parsing"`
	ClaimMappings             map[string]string `json:"claim_mappings"`
	UserClaim                 string            `json:"user_claim"`
	UserClaimJSONPointer      bool              `json:"user_claim_json_pointer"`
	GroupsClaim               string            `json:"groups_claim"`
	// Leeways: 0 means the default, negative means none.
	ClockSkewLeeway  time.Duration `json:"clock_skew_leeway"`
	ExpirationLeeway time.Duration `json:"expiration_leeway"`
	NotBeforeLeeway  time.Duration `json:"not_before_leeway"`
	// OIDC roles: the redirect URIs auth_url accepts (exact match), the
	// scopes requested besides "openid", and max_age (0 = not sent).
	AllowedRedirectURIs []string      `json:"allowed_redirect_uris"`
	OIDCScopes          []string      `json:"oidc_scopes"`
	MaxAge              time.Duration `json:"max_age"`
}

// newRole is a role with Vault's creation defaults (role_type "oidc", as
// Vault: a JWT role must say role_type=jwt).
func newRole(name string) *role {
	return &role{Name: name, RoleType: roleTypeOIDC, BoundClaimsType: boundClaimString, UserClaim: "sub",
		ClockSkewLeeway: defaultClockSkew, ExpirationLeeway: defaultClaimLeeway, NotBeforeLeeway: defaultClaimLeeway}
}

// leeway interprets a stored leeway: 0 is def, negative is none.
func leeway(d, def time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d == 0:
		return def
	}
	return d
}

// validate checks the role is coherent after an update.
func (r *role) validate() error {
	switch {
	case r.RoleType != roleTypeJWT && r.RoleType != roleTypeOIDC:
		return logical.InvalidRequest("invalid 'role_type': %q (use \"jwt\" or \"oidc\")", r.RoleType)
	case r.UserClaim == "":
		return logical.InvalidRequest("a user claim must be defined on the role")
	case r.BoundClaimsType != boundClaimString && r.BoundClaimsType != boundClaimGlob:
		return logical.InvalidRequest("invalid 'bound_claims_type': %q (use \"string\" or \"glob\")", r.BoundClaimsType)
	case r.RoleType == roleTypeJWT && len(r.BoundAudiences) == 0 && r.BoundSubject == "" && len(r.BoundClaims) == 0 && len(r.TokenBoundCIDRs) == 0:
		return logical.InvalidRequest("must have at least one bound constraint when creating/updating a role " +
			"(bound_audiences, bound_subject, bound_claims or token_bound_cidrs)")
	case r.RoleType == roleTypeOIDC && len(r.AllowedRedirectURIs) == 0:
		return logical.InvalidRequest("'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified")
	case r.MaxAge < 0:
		return logical.InvalidRequest("max_age must be a positive duration or 0")
	}
	for _, u := range r.AllowedRedirectURIs {
		if pu, err := url.Parse(u); err != nil || !pu.IsAbs() || pu.Host == "" || pu.Fragment != "" {
			return logical.InvalidRequest("invalid redirect URI %q in allowed_redirect_uris: use an absolute URL without a fragment", u)
		}
	}
	for k, v := range r.BoundClaims {
		if k == "" {
			return logical.InvalidRequest("bound_claims keys must not be empty")
		}
		if _, ok := claimValues(v, r.BoundClaimsType == boundClaimGlob); !ok {
			if r.BoundClaimsType == boundClaimGlob {
				return logical.InvalidRequest("bound claim %q must be a string or a list of strings for glob matching", k)
			}
			return logical.InvalidRequest("bound claim %q is not a string, number, boolean or a list of them", k)
		}
	}
	targets := make(map[string]bool, len(r.ClaimMappings))
	for _, v := range r.ClaimMappings {
		if v == "role" {
			return logical.InvalidRequest(`metadata key "role" is reserved and cannot be a claim_mappings target`)
		}
		if targets[v] {
			return logical.InvalidRequest("multiple keys are mapped to metadata key %q", v)
		}
		targets[v] = true
	}
	return nil
}

// splitBoundClaims turns comma-separated string values into lists, as
// Vault does unless disable_bound_claims_parsing is set.
func splitBoundClaims(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok || !strings.Contains(s, ",") {
			out[k] = v
			continue
		}
		parts := strings.Split(s, ",")
		list := make([]any, 0, len(parts))
		for _, p := range parts {
			list = append(list, strings.TrimSpace(p))
		}
		out[k] = list
	}
	return out
}

// responseData is the role as Vault's role read shows it.
func (r *role) responseData() map[string]any {
	secs := func(d time.Duration) int64 { return int64(d / time.Second) }
	bc := r.BoundClaims
	if bc == nil {
		bc = map[string]any{}
	}
	cm := r.ClaimMappings
	if cm == nil {
		cm = map[string]string{}
	}
	m := map[string]any{
		"role_type":                    r.RoleType,
		"bound_audiences":              nonNil(r.BoundAudiences),
		"bound_subject":                r.BoundSubject,
		"bound_claims":                 bc,
		"bound_claims_type":            r.BoundClaimsType,
		"disable_bound_claims_parsing": r.DisableBoundClaimsParsing,
		"claim_mappings":               cm,
		"user_claim":                   r.UserClaim,
		"user_claim_json_pointer":      r.UserClaimJSONPointer,
		"groups_claim":                 r.GroupsClaim,
		"clock_skew_leeway":            secs(r.ClockSkewLeeway),
		"expiration_leeway":            secs(r.ExpirationLeeway),
		"not_before_leeway":            secs(r.NotBeforeLeeway),
		"allowed_redirect_uris":        nonNil(r.AllowedRedirectURIs),
		"oidc_scopes":                  nonNil(r.OIDCScopes),
		"verbose_oidc_logging":         false,
		"max_age":                      secs(r.MaxAge),
	}
	r.Params.Response(m)
	return m
}

// parseSignedSeconds reads a leeway: a number of seconds or a duration
// string, either possibly negative (-1 disables the leeway).
func parseSignedSeconds(raw any) (time.Duration, error) {
	switch v := raw.(type) {
	case json.Number:
		return parseSignedSeconds(v.String())
	case int:
		return time.Duration(v) * time.Second, nil
	case int64:
		return time.Duration(v) * time.Second, nil
	case float64:
		if v < -1e9 || v > 1e9 {
			return 0, fmt.Errorf("out of range")
		}
		return time.Duration(v) * time.Second, nil
	case string:
		s := strings.TrimSpace(v)
		neg := strings.HasPrefix(s, "-")
		if neg {
			s = s[1:]
		}
		if n, err := strconv.ParseFloat(s, 64); err == nil && n <= 1e9 {
			d := time.Duration(n) * time.Second
			if neg {
				d = -d
			}
			return d, nil
		}
		d, err := logical.ParseDuration(s)
		if err != nil {
			return 0, err
		}
		if neg {
			d = -d
		}
		return d, nil
	}
	return 0, fmt.Errorf("expected a number of seconds or a duration")
}

// loadRole reads a role by name; nil when absent.
func loadRole(ctx context.Context, s logical.Storage, name string) (*role, error) {
	r := &role{}
	found, err := logical.GetJSON(ctx, s, rolePrefix+normalizeName(name), r)
	if err != nil || !found {
		return nil, err
	}
	return r, nil
}

// normalizeName is the storage form of a role name (Vault lower-cases).
func normalizeName(name string) string { return strings.ToLower(name) }
