package cert

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

// certRole is the stored record of one trusted certificate ("role").
type certRole struct {
	tokenutil.Params
	Name        string `json:"name"`
	Certificate string `json:"certificate"`
	DisplayName string `json:"display_name"`

	AllowedNames               []string `json:"allowed_names"`
	AllowedCommonNames         []string `json:"allowed_common_names"`
	AllowedDNSSANs             []string `json:"allowed_dns_sans"`
	AllowedEmailSANs           []string `json:"allowed_email_sans"`
	AllowedURISANs             []string `json:"allowed_uri_sans"`
	AllowedOrganizationalUnits []string `json:"allowed_organizational_units"`
	RequiredExtensions         []string `json:"required_extensions"`
	AllowedMetadataExtensions  []string `json:"allowed_metadata_extensions"`

	// Copies of Vault's deprecated fields, kept only while the role was
	// last set through them, so a read shows them as Vault does. The
	// token_* fields always hold the effective values.
	Policies   []string      `json:"policies,omitempty"`
	TTL        time.Duration `json:"ttl,omitempty"`
	MaxTTL     time.Duration `json:"max_ttl,omitempty"`
	Period     time.Duration `json:"period,omitempty"`
	BoundCIDRs []string      `json:"bound_cidrs,omitempty"`
}

// parsedRole is a role ready for login: its certificates parsed and its
// extension constraints split. It is immutable once built and shared by
// concurrent logins through the cache.
type parsedRole struct {
	*certRole
	certs []*x509.Certificate
	// isCA is the CA flag of the first certificate: a CA role anchors
	// chains, a non-CA role pins exactly that leaf (as Vault).
	isCA bool
	// required are the parsed required_extensions.
	required []requiredExt
	// metadataKeys maps an allowed metadata extension OID to its
	// metadata key (the OID with dashes for dots, as Vault).
	metadataKeys map[string]string
}

// requiredExt is one "oid:value-glob" of required_extensions.
type requiredExt struct {
	oid, pattern string
}

func normalizeName(name string) string { return strings.ToLower(name) }

// readRole returns the role named name (already normalised), or nil.
func readRole(ctx context.Context, s logical.Storage, name string) (*certRole, error) {
	var r certRole
	found, err := logical.GetJSON(ctx, s, rolePrefix+name, &r)
	if err != nil {
		return nil, fmt.Errorf("cert: read role: %w", err)
	}
	if !found {
		return nil, nil
	}
	return &r, nil
}

func writeRole(ctx context.Context, s logical.Storage, r *certRole) error {
	if err := logical.PutJSON(ctx, s, rolePrefix+r.Name, r); err != nil {
		return fmt.Errorf("cert: write role: %w", err)
	}
	return nil
}

// loginRole reads a role for login and returns it parsed, or nil when it
// does not exist. The storage read always happens; parsing is skipped when
// the stored bytes equal those of the cached record.
func (b *backend) loginRole(ctx context.Context, s logical.Storage, name string) (*parsedRole, error) {
	key := rolePrefix + name
	e, err := s.Get(ctx, key)
	if err != nil || e == nil {
		return nil, err
	}
	if v, ok := b.roles.get(key, e.Value); ok {
		return v.(*parsedRole), nil
	}
	var r certRole
	if err := json.Unmarshal(e.Value, &r); err != nil {
		return nil, fmt.Errorf("cert: decode role: %w", err)
	}
	p, err := parseRole(&r)
	if err != nil {
		// Validated when written; only a corrupt record gets here.
		return nil, fmt.Errorf("cert: stored role %q: %w", name, err)
	}
	b.roles.put(key, e.Value, p)
	return p, nil
}

// parseRole parses and checks a role's certificate and constraints. Its
// errors are user-facing (ErrInvalidRequest).
func parseRole(r *certRole) (*parsedRole, error) {
	certs, err := parsePEM(r.Certificate)
	if err != nil {
		return nil, err
	}
	p := &parsedRole{certRole: r, certs: certs, isCA: certs[0].IsCA}
	if !p.isCA && !usableForClientAuth(certs[0]) {
		return nil, logical.InvalidRequest("nonCA certificates should have TLS client authentication set as an extended key usage")
	}
	for _, s := range r.RequiredExtensions {
		oid, pattern, ok := strings.Cut(s, ":")
		if !ok || !validOID(oid) {
			return nil, logical.InvalidRequest("invalid required_extensions entry %q: use the form \"oid:value\", e.g. \"2.1.1.1:*\"", s)
		}
		p.required = append(p.required, requiredExt{oid: oid, pattern: pattern})
	}
	if len(r.AllowedMetadataExtensions) > 0 {
		p.metadataKeys = make(map[string]string, len(r.AllowedMetadataExtensions))
	}
	for _, oid := range r.AllowedMetadataExtensions {
		if !validOID(oid) {
			return nil, logical.InvalidRequest("invalid allowed_metadata_extensions entry %q: use a dotted OID, e.g. \"2.1.1.1\"", oid)
		}
		p.metadataKeys[oid] = strings.ReplaceAll(oid, ".", "-")
	}
	return p, nil
}

// usableForClientAuth reports whether a leaf may authenticate a TLS
// client: no extended key usage at all, or client auth or any among them.
func usableForClientAuth(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// validOID reports whether s is a dotted decimal OID such as "1.2.840".
func validOID(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 18 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// parsePEM parses the certificates of a PEM bundle. Blocks of other types
// are skipped (as Vault); a CERTIFICATE block that does not parse is an
// error, and so is a bundle without any certificate.
func parsePEM(bundle string) ([]*x509.Certificate, error) {
	rest := []byte(bundle)
	var certs []*x509.Certificate
	for n := 1; len(rest) > 0; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, logical.InvalidRequest("failed to parse certificate: PEM block %d is not a valid X.509 certificate", n)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, logical.InvalidRequest("failed to parse certificate: send one or more PEM-encoded X.509 certificates (-----BEGIN CERTIFICATE-----)")
	}
	return certs, nil
}

// response is the data of a role read, as Vault shows it.
func (r *certRole) response() map[string]any {
	data := map[string]any{
		"certificate":                  r.Certificate,
		"display_name":                 r.DisplayName,
		"allowed_names":                nonNil(r.AllowedNames),
		"allowed_common_names":         nonNil(r.AllowedCommonNames),
		"allowed_dns_sans":             nonNil(r.AllowedDNSSANs),
		"allowed_email_sans":           nonNil(r.AllowedEmailSANs),
		"allowed_uri_sans":             nonNil(r.AllowedURISANs),
		"allowed_organizational_units": nonNil(r.AllowedOrganizationalUnits),
		"required_extensions":          nonNil(r.RequiredExtensions),
		"allowed_metadata_extensions":  nonNil(r.AllowedMetadataExtensions),
		"ocsp_enabled":                 false,
		"ocsp_ca_certificates":         "",
		"ocsp_servers_override":        []string{},
		"ocsp_fail_open":               false,
		"ocsp_query_all_servers":       false,
	}
	r.Params.Response(data)
	secs := func(d time.Duration) int64 { return int64(d / time.Second) }
	if r.TTL > 0 {
		data["ttl"] = secs(r.TTL)
	}
	if r.MaxTTL > 0 {
		data["max_ttl"] = secs(r.MaxTTL)
	}
	if r.Period > 0 {
		data["period"] = secs(r.Period)
	}
	if len(r.Policies) > 0 {
		data["policies"] = data["token_policies"]
	}
	if len(r.BoundCIDRs) > 0 {
		data["bound_cidrs"] = data["token_bound_cidrs"]
	}
	return data
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
