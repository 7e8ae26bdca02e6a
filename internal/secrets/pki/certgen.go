package pki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// certSpec is everything that decides a new certificate, already checked
// against the role (or, for CAs, the request).
type certSpec struct {
	Subject     pkix.Name
	DNSNames    []string
	Emails      []string
	IPs         []net.IP
	URIs        []*url.URL
	NotBefore   time.Time
	NotAfter    time.Time
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	IsCA        bool
	// MaxPathLen is the CA's path length constraint; -1 means none.
	MaxPathLen   int
	PermittedDNS []string
	SigBits      int
	UsePSS       bool
	URLs         *urlsConfig
}

// window resolves a certificate's validity as Vault does: the requested
// ttl, else the role's, else the mount default; capped at the role's
// max_ttl (else the mount maximum) with a warning. An explicit not_after
// (RFC 3339) replaces the ttl but may not exceed the maximum either.
func (b *backend) window(req *logical.Request, ttl, roleTTL, roleMax time.Duration, notAfter string, backdate time.Duration) (time.Time, time.Time, []string, error) {
	def, max := b.mountTTLs(req)
	if roleMax > 0 {
		max = roleMax
	}
	if ttl <= 0 {
		ttl = roleTTL
	}
	if ttl <= 0 {
		ttl = def
	}
	var warnings []string
	if ttl > max {
		warnings = append(warnings, fmt.Sprintf("TTL %q is longer than permitted maxTTL %q, so using the maxTTL", ttl.String(), max.String()))
		ttl = max
	}
	now := b.now().UTC().Truncate(time.Second)
	end := now.Add(ttl)
	if notAfter != "" {
		t, err := time.Parse(time.RFC3339, notAfter)
		if err != nil {
			return time.Time{}, time.Time{}, nil, logical.InvalidRequest("invalid not_after %q: use UTC such as 2030-01-02T15:04:05Z", notAfter)
		}
		if end = t.UTC(); end.After(now.Add(max)) {
			return time.Time{}, time.Time{}, nil, logical.InvalidRequest("not_after %s is beyond the maximum lifetime of %s", end.Format(time.RFC3339), max)
		}
	}
	if !end.After(now) {
		return time.Time{}, time.Time{}, nil, logical.InvalidRequest("the certificate would already be expired: not_after %s is not in the future", end.Format(time.RFC3339))
	}
	return now.Add(-backdate), end, warnings, nil
}

// limitToIssuer applies the issuer's leaf_not_after_behavior to a
// certificate that would outlive the issuer.
func limitToIssuer(pi *parsedIssuer, notAfter time.Time) (time.Time, error) {
	if !notAfter.After(pi.cert.NotAfter) {
		return notAfter, nil
	}
	switch pi.entry.LeafNotAfterBehavior {
	case "truncate":
		return pi.cert.NotAfter, nil
	case "permit":
		return notAfter, nil
	}
	return time.Time{}, logical.InvalidRequest(
		"cannot satisfy request, as TTL would result in notAfter %s that is beyond the expiration of the CA certificate at %s",
		notAfter.Format(time.RFC3339), pi.cert.NotAfter.UTC().Format(time.RFC3339))
}

// template builds the x509 template of spec with a fresh serial.
func (b *backend) template(spec *certSpec) (*x509.Certificate, error) {
	serial, err := newSerial(b.rand)
	if err != nil {
		return nil, err
	}
	t := &x509.Certificate{
		SerialNumber: serial, Subject: spec.Subject,
		DNSNames: spec.DNSNames, EmailAddresses: spec.Emails, IPAddresses: spec.IPs, URIs: spec.URIs,
		NotBefore: spec.NotBefore, NotAfter: spec.NotAfter,
		KeyUsage: spec.KeyUsage, ExtKeyUsage: spec.ExtKeyUsage,
		BasicConstraintsValid: true, IsCA: spec.IsCA,
	}
	if spec.IsCA {
		t.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		t.PermittedDNSDomains = spec.PermittedDNS
		switch {
		case spec.MaxPathLen == 0:
			t.MaxPathLen, t.MaxPathLenZero = 0, true
		case spec.MaxPathLen > 0:
			t.MaxPathLen = spec.MaxPathLen
		default:
			t.MaxPathLen = -1
		}
	}
	if u := spec.URLs; u != nil {
		t.IssuingCertificateURL, t.CRLDistributionPoints, t.OCSPServer = u.IssuingCertificates, u.CRLDistributionPoints, u.OCSPServers
	}
	return t, nil
}

// issueCert creates a certificate for pub signed by the issuer pi, or
// self-signed by selfKey when pi is nil.
func (b *backend) issueCert(spec *certSpec, pub crypto.PublicKey, pi *parsedIssuer, selfKey crypto.Signer) (*x509.Certificate, error) {
	t, err := b.template(spec)
	if err != nil {
		return nil, err
	}
	parent, signer := t, selfKey
	if pi != nil {
		parent, signer = pi.cert, pi.signer
	}
	t.SignatureAlgorithm, err = signatureAlgorithm(signer.Public(), spec.SigBits, spec.UsePSS)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(b.rand, t, parent, pub, signer)
	if err != nil {
		return nil, logical.InvalidRequest("unable to create the certificate: %v", err)
	}
	return x509.ParseCertificate(der)
}

// childPathLen derives the path length of a CA signed by pi: the request
// (-1: none), no longer than the parent allows.
func childPathLen(pi *parsedIssuer, requested int) (int, error) {
	p := pi.cert
	if !p.BasicConstraintsValid || (p.MaxPathLen < 0 || (p.MaxPathLen == 0 && !p.MaxPathLenZero)) {
		return requested, nil
	}
	if p.MaxPathLen == 0 {
		return 0, logical.InvalidRequest("the issuer has a max path length of 0 and cannot sign a CA certificate")
	}
	if requested < 0 || requested >= p.MaxPathLen {
		return p.MaxPathLen - 1, nil
	}
	return requested, nil
}

// splitAltNames sorts alt_names into DNS names and email addresses.
func splitAltNames(list []string) (dns, emails []string) {
	for _, n := range list {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
		case strings.Contains(n, "@"):
			emails = append(emails, n)
		default:
			dns = append(dns, n)
		}
	}
	return dns, emails
}

// parseURIs parses uri_sans.
func parseURIs(list []string) ([]*url.URL, error) {
	var out []*url.URL
	for _, s := range list {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Scheme == "" {
			return nil, logical.InvalidRequest("the value %q is not a valid URI", s)
		}
		out = append(out, u)
	}
	return out, nil
}

// addCNToSANs adds the common name to the SANs it belongs in, unless it
// is already there: an IP, an email address, or a DNS name.
func addCNToSANs(cn string, dns, emails []string, ips []net.IP) ([]string, []string, []net.IP) {
	if cn == "" {
		return dns, emails, ips
	}
	if ip := net.ParseIP(cn); ip != nil {
		for _, x := range ips {
			if x.Equal(ip) {
				return dns, emails, ips
			}
		}
		return dns, emails, append(ips, ip)
	}
	if strings.Contains(cn, "@") {
		return dns, appendUnique(emails, cn), ips
	}
	if strings.HasPrefix(cn, "*.") || hostnameRe.MatchString(cn) {
		return appendUnique(dns, cn), emails, ips
	}
	return dns, emails, ips
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return list
		}
	}
	return append(list, s)
}

// subject builds a subject name from a common name and subject fields.
func (f *subjectFields) subject(cn string) pkix.Name {
	return pkix.Name{
		CommonName: cn, Organization: f.Organization, OrganizationalUnit: f.OU, Country: f.Country,
		Locality: f.Locality, Province: f.Province, StreetAddress: f.StreetAddress, PostalCode: f.PostalCode,
	}
}
