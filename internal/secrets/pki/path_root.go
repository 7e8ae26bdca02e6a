package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// caInput is the body of root and intermediate generation and of
// sign-intermediate.
type caInput struct {
	Type              string        `json:"exported"`
	CommonName        string        `json:"common_name"`
	AltNames          []string      `json:"alt_names"`
	IPSANs            []string      `json:"ip_sans"`
	URISANs           []string      `json:"uri_sans"`
	TTL               time.Duration `json:"ttl"`
	NotAfter          string        `json:"not_after"`
	KeyType           string        `json:"key_type"`
	KeyBits           int           `json:"key_bits"`
	SignatureBits     int           `json:"signature_bits"`
	UsePSS            bool          `json:"use_pss"`
	IssuerName        string        `json:"issuer_name"`
	KeyName           string        `json:"key_name"`
	MaxPathLength     int           `json:"max_path_length"`
	ExcludeCNFromSANs bool          `json:"exclude_cn_from_sans"`
	PermittedDNS      []string      `json:"permitted_dns_domains"`
	NotBeforeDuration time.Duration `json:"not_before_duration"`
	Format            string        `json:"format"`
	PrivateKeyFormat  string        `json:"private_key_format"`
	CSR               string        `json:"csr"`
	UseCSRValues      bool          `json:"use_csr_values"`
	IssuerRef         string        `json:"issuer_ref"`
	subjectFields
}

func caSchema() map[string]*logical.FieldSchema {
	str, list := logical.TypeString, logical.TypeCommaStringSlice
	m := map[string]*logical.FieldSchema{
		"exported":              {Type: str, Description: "internal (the key stays in kinko) or exported (the key is returned once)."},
		"common_name":           {Type: str, Description: "Common name of the CA certificate."},
		"alt_names":             {Type: list, Description: "DNS names and email addresses to add as SANs."},
		"ip_sans":               {Type: list, Description: "IP addresses to add as SANs."},
		"uri_sans":              {Type: list, Description: "URIs to add as SANs."},
		"ttl":                   {Type: logical.TypeDurationSecond, Description: "Lifetime (default: the mount's default, capped at its maximum)."},
		"not_after":             {Type: str, Description: "Explicit NotAfter in UTC; overrides ttl."},
		"key_type":              {Type: str, Default: keyRSA, AllowedValues: []string{keyRSA, keyEC, keyEd25519}, Description: "rsa, ec or ed25519."},
		"key_bits":              {Type: logical.TypeInt, Description: "Key size (0: 2048 for rsa, 256 for ec)."},
		"signature_bits":        {Type: logical.TypeInt, Description: "Hash size of signatures: 256, 384 or 512 (0: automatic)."},
		"use_pss":               {Type: logical.TypeBool, Description: "Sign with RSASSA-PSS (RSA keys)."},
		"issuer_name":           {Type: str, Description: "Name for the new issuer."},
		"key_name":              {Type: str, Description: "Name for the new key."},
		"max_path_length":       {Type: logical.TypeInt, Default: -1, Description: "Path length constraint; -1 for none."},
		"exclude_cn_from_sans":  {Type: logical.TypeBool, Description: "Do not add the common name to the SANs."},
		"permitted_dns_domains": {Type: list, Description: "DNS name constraints of the CA."},
		"not_before_duration":   {Type: logical.TypeDurationSecond, Default: 30, Description: "How far NotBefore is backdated."},
		"format":                {Type: str, Default: "pem", AllowedValues: []string{"pem", "der", "pem_bundle"}, Description: "pem, der or pem_bundle."},
		"private_key_format":    {Type: str, Default: "der", AllowedValues: []string{"", "der", "pem", "pkcs8"}, Description: "der/pem (PKCS #1 or SEC 1) or pkcs8."},
	}
	subjectSchema(m)
	return m
}

func (b *backend) pathGenerateRoot() *logical.Path {
	return &logical.Path{
		Pattern:         `(issuers/)?root/generate/(?P<exported>\w+)`,
		Fields:          caSchema(),
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.generateRoot},
		HelpSynopsis:    "Generate a self-signed root CA (a new issuer).",
		HelpDescription: "exported returns the private key once; internal never does. The first issuer becomes the default.",
	}
}

func decodeCA(d *logical.FieldData, needType bool) (*caInput, error) {
	var in caInput
	if err := d.Decode(&in); err != nil {
		return nil, logical.InvalidRequest("invalid request: %v", err)
	}
	if needType && in.Type != "internal" && in.Type != "exported" {
		return nil, logical.InvalidRequest("invalid type %q in the path: use internal or exported", in.Type)
	}
	return &in, nil
}

// caNames builds the subject and SANs of a CA certificate or CSR.
func (in *caInput) names(spec *certSpec) error {
	dns, emails := splitAltNames(in.AltNames)
	ips, err := parseIPs(in.IPSANs)
	if err != nil {
		return err
	}
	uris, err := parseURIs(in.URISANs)
	if err != nil {
		return err
	}
	if !in.ExcludeCNFromSANs {
		dns, emails, ips = addCNToSANs(in.CommonName, dns, emails, ips)
	}
	spec.Subject = in.subject(in.CommonName)
	spec.DNSNames, spec.Emails, spec.IPs, spec.URIs = dns, emails, ips, uris
	return nil
}

func (b *backend) generateRoot(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, err := decodeCA(d, true)
	if err != nil {
		return nil, err
	}
	if in.CommonName == "" {
		return nil, logical.InvalidRequest("the common_name field is required")
	}
	kp, err := normalizeKeyParams(in.KeyType, in.KeyBits, false)
	if err != nil {
		return nil, err
	}
	notBefore, notAfter, warnings, err := b.window(req, in.TTL, 0, 0, in.NotAfter, in.NotBeforeDuration)
	if err != nil {
		return nil, err
	}
	spec := &certSpec{NotBefore: notBefore, NotAfter: notAfter, IsCA: true, MaxPathLen: in.MaxPathLength,
		PermittedDNS: in.PermittedDNS, SigBits: in.SignatureBits, UsePSS: in.UsePSS}
	if err := in.names(spec); err != nil {
		return nil, err
	}
	key, err := generateKey(b.rand, kp)
	if err != nil {
		return nil, err
	}
	cert, err := b.issueCert(spec, key.Public(), nil, key)
	if err != nil {
		return nil, err
	}
	iss, k, err := b.saveNewIssuer(ctx, req.Storage, cert, key, in)
	if err != nil {
		return nil, err
	}
	var export crypto.Signer
	if in.Type == "exported" {
		export = key
	}
	data, err := certData(cert, []*x509.Certificate{cert}, export, in.Format, in.PrivateKeyFormat)
	if err != nil {
		return nil, err
	}
	if in.Format == "pem_bundle" && export != nil {
		data["certificate"] = data["private_key"].(string) + "\n" + pemCert(cert.Raw)
	}
	delete(data, "ca_chain")
	data["issuer_id"], data["issuer_name"], data["key_id"], data["key_name"] = iss.ID, iss.Name, k.ID, k.Name
	return &logical.Response{Data: data, Warnings: warnings}, nil
}

// saveNewIssuer stores a generated key and its CA certificate as a new
// issuer and builds its (empty) CRL.
func (b *backend) saveNewIssuer(ctx context.Context, s logical.Storage, cert *x509.Certificate, key crypto.Signer, in *caInput) (*issuerEntry, *keyEntry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	all, err := b.listIssuers(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	if err := validIssuerName(in.IssuerName, "", all); err != nil {
		return nil, nil, err
	}
	k, err := b.storeKey(ctx, s, key, in.KeyName)
	if err != nil {
		return nil, nil, err
	}
	iss, err := b.addIssuer(ctx, s, cert, k.ID, in.IssuerName)
	if err != nil {
		return nil, nil, err
	}
	if err := b.rebuildChains(ctx, s); err != nil {
		return nil, nil, err
	}
	return iss, k, b.rebuildCRLs(ctx, s)
}

func (b *backend) pathDeleteRoot() *logical.Path {
	return &logical.Path{
		Pattern:         `root`,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.DeleteOperation: b.deleteRoot},
		HelpSynopsis:    "Delete every issuer and key of the mount.",
		HelpDescription: "Issued certificates, revocations and roles are kept. Needs sudo.",
	}
}

func (b *backend) deleteRoot(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range []string{issuerPrefix, keyPrefix, crlPrefix} {
		if err := logical.ClearPrefix(ctx, req.Storage, p); err != nil {
			return nil, err
		}
	}
	return nil, req.Storage.Delete(ctx, configIssuersKey)
}
