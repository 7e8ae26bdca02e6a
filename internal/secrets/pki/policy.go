package pki

import (
	"crypto/x509"
	"net"
	"regexp"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// hostnameRe is a DNS name of letters, digits and hyphens (a trailing dot
// allowed), as Vault's enforce_hostnames checks it.
var hostnameRe = regexp.MustCompile(`^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])\.?$`)

// wildcardLabelRe is the leftmost label of a wildcard name: one '*' with
// optional letters, digits and hyphens around it.
var wildcardLabelRe = regexp.MustCompile(`^[a-zA-Z0-9-]*\*[a-zA-Z0-9-]*$`)

// nameAllowed reports whether the role lets a certificate carry name (a
// DNS name or an email address), following Vault's rules: wildcard shape,
// enforce_hostnames, then allow_any_name, localhost, and allowed_domains
// with allow_bare_domains, allow_subdomains and allow_glob_domains.
func (r *roleEntry) nameAllowed(name string) bool {
	reduced := strings.ToLower(name)
	isEmail := false
	if strings.Contains(reduced, "@") {
		parts := strings.Split(reduced, "@")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" || strings.Contains(parts[0], "*") {
			return false
		}
		reduced, isEmail = parts[1], true
	}
	isWildcard := strings.Contains(reduced, "*")
	if isWildcard {
		label, rest, ok := strings.Cut(reduced, ".")
		if isEmail || !ok || !r.AllowWildcardCertificates || !wildcardLabelRe.MatchString(label) || strings.Contains(rest, "*") {
			return false
		}
		reduced = rest
	}
	if r.EnforceHostnames && !hostnameRe.MatchString(reduced) {
		return false
	}
	if r.AllowAnyName {
		return true
	}
	if r.AllowLocalhost && localhostAllowed(reduced, isWildcard, r.AllowSubdomains) {
		return true
	}
	return r.domainAllowed(strings.ToLower(name), reduced, isWildcard)
}

func localhostAllowed(reduced string, isWildcard, subdomains bool) bool {
	for _, base := range []string{"localhost", "localdomain"} {
		if reduced == base && !isWildcard {
			return true
		}
		if subdomains && (strings.HasSuffix(reduced, "."+base) || (isWildcard && reduced == base)) {
			return true
		}
	}
	return false
}

// domainAllowed matches a name against allowed_domains. full is the whole
// lower-cased name, reduced its host part without a wildcard label.
func (r *roleEntry) domainAllowed(full, reduced string, isWildcard bool) bool {
	for _, dom := range r.AllowedDomains {
		dom = strings.ToLower(strings.TrimSpace(dom))
		if dom == "" {
			continue
		}
		if r.AllowBareDomains && !isWildcard && reduced == dom {
			return true
		}
		if r.AllowSubdomains && (strings.HasSuffix(reduced, "."+dom) || (isWildcard && reduced == dom)) {
			return true
		}
		if r.AllowGlobDomains && strings.Contains(dom, "*") && globMatch(dom, full) {
			return true
		}
	}
	return false
}

// globMatch matches s against pattern, where '*' stands for any run of
// characters (dots included), as Vault's glob domains do.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// checkNames validates the common name and every DNS and email SAN.
func (r *roleEntry) checkNames(cn string, cnIsName bool, dns, emails []string) error {
	if cnIsName && !r.nameAllowed(cn) {
		return logical.InvalidRequest("common name %s not allowed by this role", cn)
	}
	for _, list := range [][]string{dns, emails} {
		for _, n := range list {
			if !r.nameAllowed(n) {
				return logical.InvalidRequest("subject alternate name %s not allowed by this role", n)
			}
		}
	}
	return nil
}

// parseIPs parses ip_sans.
func parseIPs(list []string) ([]net.IP, error) {
	out := make([]net.IP, 0, len(list))
	for _, s := range list {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil {
			return nil, logical.InvalidRequest("the value %q is not a valid IP address", s)
		}
		out = append(out, ip)
	}
	return out, nil
}

var keyUsageNames = map[string]x509.KeyUsage{
	"digitalsignature":  x509.KeyUsageDigitalSignature,
	"contentcommitment": x509.KeyUsageContentCommitment,
	"keyencipherment":   x509.KeyUsageKeyEncipherment,
	"dataencipherment":  x509.KeyUsageDataEncipherment,
	"keyagreement":      x509.KeyUsageKeyAgreement,
	"certsign":          x509.KeyUsageCertSign,
	"crlsign":           x509.KeyUsageCRLSign,
	"encipheronly":      x509.KeyUsageEncipherOnly,
	"decipheronly":      x509.KeyUsageDecipherOnly,
}

// parseKeyUsages maps Vault's key usage names (any case, with or without
// the KeyUsage prefix) to bits.
func parseKeyUsages(names []string) (x509.KeyUsage, error) {
	var ku x509.KeyUsage
	for _, n := range names {
		k := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(n)), "keyusage")
		if k == "" {
			continue
		}
		bit, ok := keyUsageNames[k]
		if !ok {
			return 0, logical.InvalidRequest("unknown key_usage %q: use e.g. DigitalSignature, KeyEncipherment, KeyAgreement", n)
		}
		ku |= bit
	}
	return ku, nil
}

var extKeyUsageNames = map[string]x509.ExtKeyUsage{
	"any":                            x509.ExtKeyUsageAny,
	"serverauth":                     x509.ExtKeyUsageServerAuth,
	"clientauth":                     x509.ExtKeyUsageClientAuth,
	"codesigning":                    x509.ExtKeyUsageCodeSigning,
	"emailprotection":                x509.ExtKeyUsageEmailProtection,
	"ipsecendsystem":                 x509.ExtKeyUsageIPSECEndSystem,
	"ipsectunnel":                    x509.ExtKeyUsageIPSECTunnel,
	"ipsecuser":                      x509.ExtKeyUsageIPSECUser,
	"timestamping":                   x509.ExtKeyUsageTimeStamping,
	"ocspsigning":                    x509.ExtKeyUsageOCSPSigning,
	"microsoftservergatedcrypto":     x509.ExtKeyUsageMicrosoftServerGatedCrypto,
	"netscapeservergatedcrypto":      x509.ExtKeyUsageNetscapeServerGatedCrypto,
	"microsoftcommercialcodesigning": x509.ExtKeyUsageMicrosoftCommercialCodeSigning,
	"microsoftkernelcodesigning":     x509.ExtKeyUsageMicrosoftKernelCodeSigning,
}

// parseExtKeyUsages maps Vault's extended key usage names (ServerAuth,
// ClientAuth, ...; any case, with or without the ExtKeyUsage prefix).
func parseExtKeyUsages(names []string) ([]x509.ExtKeyUsage, error) {
	var out []x509.ExtKeyUsage
	for _, n := range names {
		k := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(n)), "extkeyusage")
		if k == "" {
			continue
		}
		u, ok := extKeyUsageNames[k]
		if !ok {
			return nil, logical.InvalidRequest("unknown ext_key_usage %q: use e.g. ServerAuth, ClientAuth, CodeSigning", n)
		}
		out = append(out, u)
	}
	return out, nil
}
