package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"net"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// issueInput is the body of issue/:role, sign/:role and sign-verbatim.
type issueInput struct {
	Role              string        `json:"role"`
	IssuerRef         string        `json:"issuer_ref"`
	CommonName        string        `json:"common_name"`
	AltNames          []string      `json:"alt_names"`
	IPSANs            []string      `json:"ip_sans"`
	URISANs           []string      `json:"uri_sans"`
	TTL               time.Duration `json:"ttl"`
	NotAfter          string        `json:"not_after"`
	Format            string        `json:"format"`
	PrivateKeyFormat  string        `json:"private_key_format"`
	ExcludeCNFromSANs bool          `json:"exclude_cn_from_sans"`
	CSR               string        `json:"csr"`
	KeyUsage          []string      `json:"key_usage"`
	ExtKeyUsage       []string      `json:"ext_key_usage"`
}

func issueSchema(withCSR bool) map[string]*logical.FieldSchema {
	str, list := logical.TypeString, logical.TypeCommaStringSlice
	m := map[string]*logical.FieldSchema{
		"role":                 {Type: str, Description: "Role to issue under."},
		"issuer_ref":           {Type: str, Description: "Issuer to sign with (from the path); default: the role's."},
		"common_name":          {Type: str, Description: "Common name of the certificate."},
		"alt_names":            {Type: list, Description: "DNS names and email addresses to add as SANs."},
		"ip_sans":              {Type: list, Description: "IP addresses to add as SANs."},
		"uri_sans":             {Type: list, Description: "URIs to add as SANs."},
		"ttl":                  {Type: logical.TypeDurationSecond, Description: "Requested lifetime (capped by the role's max_ttl)."},
		"not_after":            {Type: str, Description: "Explicit NotAfter in UTC (2030-01-02T15:04:05Z); overrides ttl."},
		"format":               {Type: str, Default: "pem", AllowedValues: []string{"pem", "der", "pem_bundle"}, Description: "pem, der (base64) or pem_bundle."},
		"private_key_format":   {Type: str, Default: "der", AllowedValues: []string{"", "der", "pem", "pkcs8"}, Description: "der/pem (PKCS #1 or SEC 1) or pkcs8."},
		"exclude_cn_from_sans": {Type: logical.TypeBool, Description: "Do not add the common name to the SANs."},
	}
	if withCSR {
		m["csr"] = &logical.FieldSchema{Type: str, Required: true, Description: "PEM certificate signing request."}
	}
	return m
}

// issuerRolePath matches an operation with an optional issuer prefix:
// issue/:role or issuer/:ref/issue/:role.
func issuerRolePath(op string) string {
	return `(issuer/(?P<issuer_ref>[^/]+)/)?` + op + `/` + logical.GenericNameRegex("role")
}

func (b *backend) pathIssue() *logical.Path {
	return &logical.Path{
		Pattern:         issuerRolePath("issue"),
		Fields:          issueSchema(false),
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.issue},
		HelpSynopsis:    "Issue a certificate and a new private key under a role.",
		HelpDescription: "The role decides which names are allowed, the key type, usages and the longest lifetime.",
	}
}

func (b *backend) pathSign() *logical.Path {
	return &logical.Path{
		Pattern:         issuerRolePath("sign"),
		Fields:          issueSchema(true),
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.sign},
		HelpSynopsis:    "Sign a CSR under a role.",
		HelpDescription: "The CSR's key must match the role's key_type (unless any) and be at least key_bits strong.",
	}
}

func (b *backend) pathSignVerbatim() *logical.Path {
	m := issueSchema(true)
	m["key_usage"] = &logical.FieldSchema{Type: logical.TypeCommaStringSlice, Default: "DigitalSignature,KeyAgreement,KeyEncipherment", Description: "Key usages."}
	m["ext_key_usage"] = &logical.FieldSchema{Type: logical.TypeCommaStringSlice, Description: "Extended key usages."}
	return &logical.Path{
		Pattern:         `(issuer/(?P<issuer_ref>[^/]+)/)?sign-verbatim(/` + logical.GenericNameRegex("role") + `)?`,
		Fields:          m,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.signVerbatim},
		HelpSynopsis:    "Sign a CSR as it is, without role name checks.",
		HelpDescription: "The subject and SANs come from the CSR. A role, if named, only sets lifetimes and storage.",
	}
}

// issued is a new certificate with what its response needs.
type issued struct {
	cert     *x509.Certificate
	chain    []*x509.Certificate // the issuer and its parents
	key      crypto.Signer       // nil for sign
	warnings []string
}

func (b *backend) issue(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, role, err := b.decodeIssue(ctx, req, d)
	if err != nil {
		return nil, err
	}
	if role.KeyType == keyAny {
		return nil, logical.InvalidRequest("role key type \"any\" not allowed for issuing certificates, only signing")
	}
	kp, err := normalizeKeyParams(role.KeyType, role.KeyBits, false)
	if err != nil {
		return nil, err
	}
	key, err := generateKey(b.rand, kp)
	if err != nil {
		return nil, err
	}
	return b.finishIssue(ctx, req, in, role, nil, key)
}

func (b *backend) sign(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, role, err := b.decodeIssue(ctx, req, d)
	if err != nil {
		return nil, err
	}
	csr, err := parseCSR(in.CSR)
	if err != nil {
		return nil, err
	}
	if err := role.checkCSRKey(csr.PublicKey); err != nil {
		return nil, err
	}
	return b.finishIssue(ctx, req, in, role, csr, nil)
}

// signVerbatim signs a CSR's own subject and SANs; an optional role only
// contributes lifetimes, no_store and generate_lease.
func (b *backend) signVerbatim(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	var in issueInput
	if err := d.Decode(&in); err != nil {
		return nil, logical.InvalidRequest("invalid request: %v", err)
	}
	role := &roleEntry{IssuerRef: defaultRef, NotBeforeDuration: 30 * time.Second, AllowAnyName: true,
		AllowIPSANs: true, AllowWildcardCertificates: true, KeyType: keyAny, UseCSRCommonName: true, UseCSRSANs: true,
		KeyUsage: in.KeyUsage, ExtKeyUsage: in.ExtKeyUsage}
	if in.Role != "" {
		r, err := roleFor(ctx, req.Storage, in.Role)
		if err != nil {
			return nil, err
		}
		role.TTL, role.MaxTTL, role.NoStore, role.GenerateLease = r.TTL, r.MaxTTL, r.NoStore, r.GenerateLease
		role.IssuerRef, role.NotBeforeDuration, role.SignatureBits, role.UsePSS = r.IssuerRef, r.NotBeforeDuration, r.SignatureBits, r.UsePSS
	}
	if err := role.validate(); err != nil {
		return nil, err
	}
	csr, err := parseCSR(in.CSR)
	if err != nil {
		return nil, err
	}
	pi, err := b.signingIssuer(ctx, req.Storage, firstNonEmpty(in.IssuerRef, role.IssuerRef))
	if err != nil {
		return nil, err
	}
	spec, warnings, err := b.leafSpec(ctx, req, &in, role, csr, pi)
	if err != nil {
		return nil, err
	}
	spec.Subject = csr.Subject
	spec.DNSNames, spec.Emails, spec.IPs, spec.URIs = csr.DNSNames, csr.EmailAddresses, csr.IPAddresses, csr.URIs
	return b.signAndRespond(ctx, req, &in, role, spec, pi, csr.PublicKey, nil, warnings)
}

func (b *backend) decodeIssue(ctx context.Context, req *logical.Request, d *logical.FieldData) (*issueInput, *roleEntry, error) {
	var in issueInput
	if err := d.Decode(&in); err != nil {
		return nil, nil, logical.InvalidRequest("invalid request: %v", err)
	}
	role, err := roleFor(ctx, req.Storage, in.Role)
	if err != nil {
		return nil, nil, err
	}
	return &in, role, nil
}

// finishIssue checks names against the role, signs and answers. Exactly
// one of csr (sign) and key (issue) is set.
func (b *backend) finishIssue(ctx context.Context, req *logical.Request, in *issueInput, role *roleEntry, csr *x509.CertificateRequest, key crypto.Signer) (*logical.Response, error) {
	pi, err := b.signingIssuer(ctx, req.Storage, firstNonEmpty(in.IssuerRef, role.IssuerRef))
	if err != nil {
		return nil, err
	}
	spec, warnings, err := b.leafSpec(ctx, req, in, role, csr, pi)
	if err != nil {
		return nil, err
	}
	if err := b.leafNames(spec, in, role, csr); err != nil {
		return nil, err
	}
	pub := crypto.PublicKey(nil)
	if csr != nil {
		pub = csr.PublicKey
	} else {
		pub = key.Public()
	}
	return b.signAndRespond(ctx, req, in, role, spec, pi, pub, key, warnings)
}

// leafSpec fills lifetime, usages and URLs of a leaf certificate.
func (b *backend) leafSpec(ctx context.Context, req *logical.Request, in *issueInput, role *roleEntry, csr *x509.CertificateRequest, pi *parsedIssuer) (*certSpec, []string, error) {
	notBefore, notAfter, warnings, err := b.window(req, in.TTL, role.TTL, role.MaxTTL, in.NotAfter, role.NotBeforeDuration)
	if err != nil {
		return nil, nil, err
	}
	if notAfter, err = limitToIssuer(pi, notAfter); err != nil {
		return nil, nil, err
	}
	ku, err := parseKeyUsages(role.KeyUsage)
	if err != nil {
		return nil, nil, err
	}
	urls, err := loadURLs(ctx, req.Storage)
	if err != nil {
		return nil, nil, err
	}
	return &certSpec{NotBefore: notBefore, NotAfter: notAfter, KeyUsage: ku, ExtKeyUsage: role.extKeyUsages(),
		SigBits: role.SignatureBits, UsePSS: role.UsePSS, URLs: urls, MaxPathLen: -1}, warnings, nil
}

// leafNames decides the subject and SANs of a leaf under a role.
func (b *backend) leafNames(spec *certSpec, in *issueInput, role *roleEntry, csr *x509.CertificateRequest) error {
	cn := ""
	if csr != nil && role.UseCSRCommonName {
		cn = csr.Subject.CommonName
	}
	if cn == "" {
		cn = in.CommonName
	}
	if cn == "" && role.RequireCN {
		return logical.InvalidRequest(`the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false`)
	}
	dns, emails := splitAltNames(in.AltNames)
	ips, err := parseIPs(in.IPSANs)
	if err != nil {
		return err
	}
	uris, err := parseURIs(in.URISANs)
	if err != nil {
		return err
	}
	if csr != nil && role.UseCSRSANs {
		dns, emails, ips, uris = csr.DNSNames, csr.EmailAddresses, csr.IPAddresses, csr.URIs
	}
	if !in.ExcludeCNFromSANs {
		dns, emails, ips = addCNToSANs(cn, dns, emails, ips)
	}
	if len(ips) > 0 && !role.AllowIPSANs {
		return logical.InvalidRequest("IP Subject Alternative Names are not allowed in this role, but were provided: %v", ips)
	}
	if len(uris) > 0 && !role.AllowAnyName {
		return logical.InvalidRequest("URI Subject Alternative Names are not allowed in this role, but were provided")
	}
	cnIsName := cn != "" && net.ParseIP(cn) == nil
	if err := role.checkNames(cn, cnIsName, dns, emails); err != nil {
		return err
	}
	spec.Subject = role.subject(cn)
	spec.DNSNames, spec.Emails, spec.IPs, spec.URIs = dns, emails, ips, uris
	return nil
}

// checkCSRKey checks a CSR's key against the role's key_type and key_bits.
func (r *roleEntry) checkCSRKey(pub crypto.PublicKey) error {
	got, err := publicKeyParams(pub)
	if err != nil {
		return err
	}
	if r.KeyType == keyAny {
		if got.Type == keyRSA && got.Bits < 2048 {
			return logical.InvalidRequest("RSA keys below 2048 bits are not allowed; the CSR has %d", got.Bits)
		}
		return nil
	}
	if got.Type != r.KeyType {
		return logical.InvalidRequest("role requires keys of type %s, the CSR has a %s key", r.KeyType, got.Type)
	}
	want, err := normalizeKeyParams(r.KeyType, r.KeyBits, false)
	if err != nil {
		return err
	}
	if got.Bits < want.Bits {
		return logical.InvalidRequest("role requires a key of at least %d bits, the CSR has %d", want.Bits, got.Bits)
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
