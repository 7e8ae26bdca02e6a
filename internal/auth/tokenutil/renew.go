package tokenutil

import (
	"slices"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// ErrPoliciesChanged refuses renewing a token whose policies are no longer
// those its user or role grants (Vault's wording).
var ErrPoliciesChanged = logical.InvalidRequest("policies have changed, not renewing")

// EquivalentPolicies reports whether a and b name the same policies,
// ignoring order, case, duplicates and "default" (which core adds to
// tokens after the method chose their policies).
func EquivalentPolicies(a, b []string) bool {
	return slices.Equal(policySet(a), policySet(b))
}

func policySet(in []string) []string {
	out := make([]string, 0, len(in))
	for _, p := range in {
		p = strings.ToLower(strings.TrimSpace(p))
		if p != "" && p != "default" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckPolicies refuses with ErrPoliciesChanged unless the renewed token's
// policies (auth.TokenPolicies, else auth.Policies) equal p's.
func (p *Params) CheckPolicies(auth *logical.Auth) error {
	have := auth.TokenPolicies
	if have == nil {
		have = auth.Policies
	}
	if !EquivalentPolicies(p.TokenPolicies, have) {
		return ErrPoliciesChanged
	}
	return nil
}

// RenewAuth is an auth method's answer to a renewal: a copy of auth (the
// token as core describes it) bounded by p, the current settings of the
// user or role that logged in. TTL, MaxTTL and Period become p's, so a
// token renews by today's settings rather than those of its login; an
// explicit max TTL only ever tightens.
func (p *Params) RenewAuth(auth *logical.Auth) *logical.Auth {
	a := *auth
	a.TTL, a.MaxTTL, a.Period = p.TokenTTL, p.TokenMaxTTL, p.TokenPeriod
	if e := p.TokenExplicitMaxTTL; e > 0 && (a.ExplicitMaxTTL == 0 || e < a.ExplicitMaxTTL) {
		a.ExplicitMaxTTL = e
	}
	return &a
}
