package ssh

import (
	"slices"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/logical"
)

// principals returns the principals of the certificate: those requested
// (or the role's default_user), each allowed by allowed_users (user
// certificates) or allowed_domains (host certificates).
func (r *role) principals(certType uint32, sent []string, entity string) ([]string, error) {
	requested, err := cleanPrincipals(sent)
	if err != nil {
		return nil, err
	}
	field, allowedRaw, allowed := "allowed_domains", r.AllowedDomains, splitList(r.AllowedDomains)
	if certType == ssh.UserCert {
		field, allowedRaw, allowed = "allowed_users", r.AllowedUsers, r.allowedUsers(entity)
		if def := r.defaultUser(entity); len(requested) == 0 && def != "" {
			requested = []string{def}
		}
	}
	switch {
	case len(requested) == 0:
		if !r.AllowEmptyPrincipals && allowedRaw != "*" {
			return nil, logical.InvalidRequest("refusing to issue unsafe, globally-valid certificate with no principals specified; set valid_principals or default_user")
		}
		return nil, nil
	case len(allowed) == 0:
		return nil, logical.InvalidRequest("role is not configured to allow any principals (%s is empty)", field)
	case allowedRaw == "*":
		return requested, nil
	}
	for _, p := range requested {
		ok := slices.Contains(allowed, p)
		if certType == ssh.HostCert {
			ok = r.hostAllowed(allowed, p)
		}
		if !ok {
			return nil, logical.InvalidRequest("%s is not a valid value for valid_principals: the role's %s does not allow it", p, field)
		}
	}
	return requested, nil
}

// cleanPrincipals trims and de-duplicates requested principals and refuses
// control characters and oversized lists.
func cleanPrincipals(sent []string) ([]string, error) {
	var out []string
	for _, p := range sent {
		p = strings.TrimSpace(p)
		if p == "" || slices.Contains(out, p) {
			continue
		}
		if len(p) > maxPrincipalLen || strings.ContainsFunc(p, unicode.IsControl) {
			return nil, logical.InvalidRequest("invalid principal: at most %d characters and no control characters", maxPrincipalLen)
		}
		out = append(out, p)
	}
	if len(out) > maxPrincipals {
		return nil, logical.InvalidRequest("at most %d valid_principals may be requested", maxPrincipals)
	}
	return out, nil
}

// hostAllowed matches a host principal against allowed domains: itself if
// allow_bare_domains, a subdomain if allow_subdomains.
func (r *role) hostAllowed(domains []string, host string) bool {
	for _, d := range domains {
		if host == d && r.AllowBareDomains {
			return true
		}
		if r.AllowSubdomains && strings.HasSuffix(host, "."+d) && len(host) > len(d)+1 {
			return true
		}
	}
	return false
}

// allowedUsers renders allowed_users; templated entries are dropped when
// the caller has no identity entity.
func (r *role) allowedUsers(entity string) []string {
	items := splitList(r.AllowedUsers)
	if !r.AllowedUsersTemplate {
		return items
	}
	out := items[:0]
	for _, it := range items {
		if strings.Contains(it, entityIDTemplate) {
			if entity == "" {
				continue
			}
			it = strings.ReplaceAll(it, entityIDTemplate, entity)
		}
		out = append(out, it)
	}
	return out
}

// defaultUser renders default_user; a template without an entity gives
// no default.
func (r *role) defaultUser(entity string) string {
	if !r.DefaultUserTemplate || !strings.Contains(r.DefaultUser, entityIDTemplate) {
		return r.DefaultUser
	}
	if entity == "" {
		return ""
	}
	return strings.ReplaceAll(r.DefaultUser, entityIDTemplate, entity)
}

// criticalOptions returns the requested critical options, each in
// allowed_critical_options unless that is empty, or the role's defaults.
func (r *role) criticalOptions(sent map[string]any) (map[string]string, error) {
	if len(sent) == 0 {
		return r.DefaultCriticalOptions, nil
	}
	opts, err := requestMap("critical_options", sent)
	if err != nil || r.AllowedCriticalOptions == "" {
		return opts, err
	}
	if bad := notIn(opts, splitList(r.AllowedCriticalOptions)); len(bad) > 0 {
		return nil, logical.InvalidRequest("critical options not on allowed list: %v", bad)
	}
	return opts, nil
}

// extensions returns the requested extensions, each in allowed_extensions
// ("*" allows any, empty none), or the role's defaults.
func (r *role) extensions(sent map[string]any) (map[string]string, error) {
	if len(sent) == 0 {
		return r.DefaultExtensions, nil
	}
	ext, err := requestMap("extensions", sent)
	if err != nil || r.AllowedExtensions == "*" {
		return ext, err
	}
	if bad := notIn(ext, splitList(r.AllowedExtensions)); len(bad) > 0 {
		return nil, logical.InvalidRequest("extensions %v are not on allowed list", bad)
	}
	return ext, nil
}

func requestMap(field string, m map[string]any) (map[string]string, error) {
	if len(m) > maxOptions {
		return nil, logical.InvalidRequest("at most %d %s may be requested", maxOptions, field)
	}
	return stringMap(field, m)
}

// notIn returns the sorted keys of m that are not in allowed.
func notIn(m map[string]string, allowed []string) []string {
	var bad []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	return bad
}
