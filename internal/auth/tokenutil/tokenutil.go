// Package tokenutil holds the token_* settings every auth method role or
// user carries (Vault's tokenutil): their field declarations, parsing,
// validation, how they fill a login's logical.Auth, how a role read
// shows them, and how a renewal of a login token is answered by the
// current settings (RenewAuth, CheckPolicies). It also checks client
// addresses against CIDR lists.
//
// Params is a plain value: callers store it inside their own role record.
package tokenutil

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Params are the token settings of a role or user.
type Params struct {
	TokenPolicies        []string      `json:"token_policies"`
	TokenTTL             time.Duration `json:"token_ttl"`
	TokenMaxTTL          time.Duration `json:"token_max_ttl"`
	TokenExplicitMaxTTL  time.Duration `json:"token_explicit_max_ttl"`
	TokenPeriod          time.Duration `json:"token_period"`
	TokenNoDefaultPolicy bool          `json:"token_no_default_policy"`
	TokenNumUses         int           `json:"token_num_uses"`
	TokenBoundCIDRs      []string      `json:"token_bound_cidrs"`
	TokenType            string        `json:"token_type"`
}

// Fields returns the field declarations to merge into a path's Fields.
// With deprecated, the old names policies, ttl, max_ttl and period are
// accepted too (as Vault does for userpass and approle).
func Fields(deprecated bool) map[string]*logical.FieldSchema {
	f := map[string]*logical.FieldSchema{
		"token_policies":          {Type: logical.TypeCommaStringSlice, Description: "policies of tokens issued"},
		"token_ttl":               {Type: logical.TypeDurationSecond, Description: "initial TTL of tokens issued"},
		"token_max_ttl":           {Type: logical.TypeDurationSecond, Description: "maximum lifetime of tokens issued"},
		"token_explicit_max_ttl":  {Type: logical.TypeDurationSecond, Description: "hard cap on token lifetime, even across renewals"},
		"token_period":            {Type: logical.TypeDurationSecond, Description: "make tokens periodic with this period"},
		"token_no_default_policy": {Type: logical.TypeBool, Description: "do not add the default policy"},
		"token_num_uses":          {Type: logical.TypeInt, Description: "maximum uses of each token (0 = unlimited)"},
		"token_bound_cidrs":       {Type: logical.TypeCommaStringSlice, Description: "client networks (CIDR) tokens may be used from"},
		"token_type":              {Type: logical.TypeString, Description: `token type: "service" or "default"`},
	}
	if deprecated {
		f["policies"] = &logical.FieldSchema{Type: logical.TypeCommaStringSlice, Description: "deprecated: use token_policies"}
		f["ttl"] = &logical.FieldSchema{Type: logical.TypeDurationSecond, Description: "deprecated: use token_ttl"}
		f["max_ttl"] = &logical.FieldSchema{Type: logical.TypeDurationSecond, Description: "deprecated: use token_max_ttl"}
		f["period"] = &logical.FieldSchema{Type: logical.TypeDurationSecond, Description: "deprecated: use token_period"}
	}
	return f
}

// AddFields merges Fields(deprecated) into dst and returns it.
func AddFields(dst map[string]*logical.FieldSchema, deprecated bool) map[string]*logical.FieldSchema {
	for k, v := range Fields(deprecated) {
		dst[k] = v
	}
	return dst
}

// Parse applies the sent token fields onto p (fields not sent keep their
// value, so it serves create and update) and validates the result.
func (p *Params) Parse(d *logical.FieldData) error {
	setSlice(d, &p.TokenPolicies, "token_policies", "policies")
	setDur(d, &p.TokenTTL, "token_ttl", "ttl")
	setDur(d, &p.TokenMaxTTL, "token_max_ttl", "max_ttl")
	setDur(d, &p.TokenPeriod, "token_period", "period")
	setDur(d, &p.TokenExplicitMaxTTL, "token_explicit_max_ttl")
	if v, ok, _ := d.GetOk("token_no_default_policy"); ok {
		p.TokenNoDefaultPolicy = v.(bool)
	}
	if v, ok, _ := d.GetOk("token_num_uses"); ok {
		p.TokenNumUses = v.(int)
	}
	if v, ok, _ := d.GetOk("token_bound_cidrs"); ok {
		p.TokenBoundCIDRs = v.([]string)
	}
	if v, ok, _ := d.GetOk("token_type"); ok {
		p.TokenType = v.(string)
	}
	p.TokenPolicies = normalizePolicies(p.TokenPolicies)
	return p.Validate()
}

func setSlice(d *logical.FieldData, dst *[]string, names ...string) {
	for _, n := range names {
		if _, in := d.Schema[n]; !in {
			continue
		}
		if v, ok, _ := d.GetOk(n); ok {
			*dst = v.([]string)
			return
		}
	}
}

func setDur(d *logical.FieldData, dst *time.Duration, names ...string) {
	for _, n := range names {
		if _, in := d.Schema[n]; !in {
			continue
		}
		if v, ok, _ := d.GetOk(n); ok {
			*dst = v.(time.Duration)
			return
		}
	}
}

func normalizePolicies(in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, p := range in {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// Validate checks the settings are coherent.
func (p *Params) Validate() error {
	switch {
	case p.TokenNumUses < 0:
		return logical.InvalidRequest("token_num_uses cannot be negative")
	case p.TokenMaxTTL > 0 && p.TokenTTL > p.TokenMaxTTL:
		return logical.InvalidRequest("token_ttl should not be greater than token_max_ttl")
	case p.TokenType != "" && p.TokenType != "service" && p.TokenType != "default":
		return logical.InvalidRequest("token_type %q is not supported: kinko issues service tokens (use \"service\" or \"default\")", p.TokenType)
	}
	for _, p := range p.TokenPolicies {
		if p == "root" {
			return logical.InvalidRequest("the root policy cannot be granted by an auth method")
		}
	}
	return ValidateCIDRs(p.TokenBoundCIDRs)
}

// PopulateAuth fills a login's Auth from the settings.
func (p *Params) PopulateAuth(a *logical.Auth) {
	a.Policies = append([]string(nil), p.TokenPolicies...)
	a.TTL, a.MaxTTL, a.Period = p.TokenTTL, p.TokenMaxTTL, p.TokenPeriod
	a.ExplicitMaxTTL, a.NumUses = p.TokenExplicitMaxTTL, p.TokenNumUses
	a.NoDefaultPolicy = p.TokenNoDefaultPolicy
	a.BoundCIDRs = append([]string(nil), p.TokenBoundCIDRs...)
	a.Renewable = true
	a.TokenType = "service"
}

// Response adds the settings to a role read's data, as Vault shows them.
func (p *Params) Response(m map[string]any) {
	secs := func(d time.Duration) int64 { return int64(d / time.Second) }
	m["token_policies"] = nonNil(p.TokenPolicies)
	m["token_ttl"] = secs(p.TokenTTL)
	m["token_max_ttl"] = secs(p.TokenMaxTTL)
	m["token_explicit_max_ttl"] = secs(p.TokenExplicitMaxTTL)
	m["token_period"] = secs(p.TokenPeriod)
	m["token_no_default_policy"] = p.TokenNoDefaultPolicy
	m["token_num_uses"] = p.TokenNumUses
	m["token_bound_cidrs"] = nonNil(p.TokenBoundCIDRs)
	tt := p.TokenType
	if tt == "" {
		tt = "default"
	}
	m["token_type"] = tt
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ValidateCIDRs checks each entry is a CIDR block or a bare IP address.
func ValidateCIDRs(cidrs []string) error {
	for _, c := range cidrs {
		if _, err := parseCIDR(c); err != nil {
			return logical.InvalidRequest("invalid CIDR %q: use notation like 10.0.0.0/8 or 192.0.2.7", c)
		}
	}
	return nil
}

func parseCIDR(c string) (netip.Prefix, error) {
	c = strings.TrimSpace(c)
	if strings.Contains(c, "/") {
		p, err := netip.ParsePrefix(c)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(c)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// RemoteAllowed reports whether remoteAddr ("host:port" or "host") lies in
// one of cidrs. An empty list allows everything; an unparsable address is
// refused.
func RemoteAllowed(cidrs []string, remoteAddr string) bool {
	if len(cidrs) == 0 {
		return true
	}
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, c := range cidrs {
		if p, err := parseCIDR(c); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}
