package cert

import (
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Login refusals, worded as Vault's (which answers them all with 400).
var (
	errNoTLS   = logical.InvalidRequest("tls connection required")
	errNoCert  = logical.InvalidRequest("client certificate must be supplied")
	errNoTrust = logical.InvalidRequest("invalid certificate or no client certificate supplied")
	errNoMatch = logical.InvalidRequest("no chain matching all constraints could be found for this login certificate")
	// errDenied is a source address outside the role's token_bound_cidrs.
	errDenied = logical.Errorf(logical.ErrPermissionDenied, "permission denied")
)

// matcher finds the role a presented certificate chain logs in through.
type matcher struct {
	now     time.Time
	revoked []map[string]struct{} // serial sets of the stored CRLs
}

// match returns the first role (pinned leaves first, then CA roles, each
// in name order) that trusts peer and whose constraints peer meets.
func (m *matcher) match(peer []*x509.Certificate, roles []*parsedRole) (*parsedRole, error) {
	leaf := peer[0]
	roots := x509.NewCertPool() // never nil: a nil pool means the system roots
	var cas []*parsedRole
	for _, r := range roles {
		if r.isCA {
			for _, c := range r.certs {
				roots.AddCert(c)
			}
			cas = append(cas, r)
		}
	}
	chains, err := m.verify(peer, roots)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if !r.isCA && m.pins(r, leaf) && m.allows(r, leaf, r.certs) {
			return r, nil
		}
	}
	if len(chains) == 0 {
		return nil, errNoTrust
	}
	for _, r := range cas {
		for _, chain := range chains {
			if anchors(r, chain) && m.allows(r, leaf, chain) {
				return r, nil
			}
		}
	}
	return nil, errNoMatch
}

// verify builds the chains from the leaf (with the other presented
// certificates as intermediates) to roots, for client authentication at
// m.now. An unknown authority is no chain, not an error (a pinned leaf may
// still match); any other failure (expiry, key usage) refuses the login,
// as Vault.
func (m *matcher) verify(peer []*x509.Certificate, roots *x509.CertPool) ([][]*x509.Certificate, error) {
	opts := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   m.now,
		// A leaf with no extended key usage, or with "any", also passes.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range peer[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := peer[0].Verify(opts)
	if err != nil {
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) {
			return nil, nil
		}
		return nil, logical.InvalidRequest("failed to verify client's certificate: %v", err)
	}
	return chains, nil
}

// pins reports whether leaf is exactly the non-CA certificate role r
// pins, within its validity period.
func (m *matcher) pins(r *parsedRole, leaf *x509.Certificate) bool {
	pinned := r.certs[0]
	return subtle.ConstantTimeCompare(pinned.Raw, leaf.Raw) == 1 &&
		!m.now.Before(leaf.NotBefore) && !m.now.After(leaf.NotAfter) &&
		usableForClientAuth(leaf)
}

// anchors reports whether one of r's certificates is part of chain.
func anchors(r *parsedRole, chain []*x509.Certificate) bool {
	for _, t := range r.certs {
		for _, c := range chain {
			if t.Equal(c) {
				return true
			}
		}
	}
	return false
}

// allows checks r's constraints on leaf, and that no certificate of chain
// is revoked.
func (m *matcher) allows(r *parsedRole, leaf *x509.Certificate, chain []*x509.Certificate) bool {
	return !m.chainRevoked(chain) &&
		(len(r.AllowedNames) == 0 || anyGlob(r.AllowedNames, []string{leaf.Subject.CommonName}) ||
			anyGlob(r.AllowedNames, leaf.DNSNames) || anyGlob(r.AllowedNames, leaf.EmailAddresses)) &&
		(len(r.AllowedCommonNames) == 0 || anyGlob(r.AllowedCommonNames, []string{leaf.Subject.CommonName})) &&
		(len(r.AllowedDNSSANs) == 0 || anyGlob(r.AllowedDNSSANs, leaf.DNSNames)) &&
		(len(r.AllowedEmailSANs) == 0 || anyGlob(r.AllowedEmailSANs, leaf.EmailAddresses)) &&
		(len(r.AllowedURISANs) == 0 || anyGlob(r.AllowedURISANs, uriStrings(leaf))) &&
		(len(r.AllowedOrganizationalUnits) == 0 || anyGlob(r.AllowedOrganizationalUnits, leaf.Subject.OrganizationalUnit)) &&
		hasRequiredExtensions(r, leaf)
}

func (m *matcher) chainRevoked(chain []*x509.Certificate) bool {
	if len(m.revoked) == 0 {
		return false
	}
	for _, c := range chain {
		serial := c.SerialNumber.String()
		for _, set := range m.revoked {
			if _, ok := set[serial]; ok {
				return true
			}
		}
	}
	return false
}

func uriStrings(c *x509.Certificate) []string {
	out := make([]string, len(c.URIs))
	for i, u := range c.URIs {
		out[i] = u.String()
	}
	return out
}

// hasRequiredExtensions checks every required "oid:glob" against the
// leaf's extension values read as ASN.1 strings (as Vault).
func hasRequiredExtensions(r *parsedRole, leaf *x509.Certificate) bool {
	for _, req := range r.required {
		v, ok := extensionString(leaf, req.oid)
		if !ok || !globMatch(req.pattern, v) {
			return false
		}
	}
	return true
}

// extensionString returns the value of the leaf's extension oid read as
// an ASN.1 string ("" when it is not a string, as Vault), and whether the
// extension is present.
func extensionString(leaf *x509.Certificate, oid string) (string, bool) {
	for _, ext := range leaf.Extensions {
		if ext.Id.String() == oid {
			var s string
			if _, err := asn1.Unmarshal(ext.Value, &s); err != nil {
				return "", true
			}
			return s, true
		}
	}
	return "", false
}
