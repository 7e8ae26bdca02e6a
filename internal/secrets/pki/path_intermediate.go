package pki

import (
	"context"
	"crypto/x509"
	"encoding/pem"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathGenerateIntermediate() *logical.Path {
	return &logical.Path{
		Pattern:         `(issuers/)?intermediate/generate/(?P<exported>\w+)`,
		Fields:          caSchema(),
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.generateIntermediate},
		HelpSynopsis:    "Generate a key and a CSR for an intermediate CA.",
		HelpDescription: "Have the CSR signed (root/sign-intermediate, here or elsewhere), then import the result with intermediate/set-signed.",
	}
}

func (b *backend) generateIntermediate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
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
	spec := &certSpec{}
	if err := in.names(spec); err != nil {
		return nil, err
	}
	key, err := generateKey(b.rand, kp)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.CertificateRequest{Subject: spec.Subject, DNSNames: spec.DNSNames, EmailAddresses: spec.Emails,
		IPAddresses: spec.IPs, URIs: spec.URIs}
	if tmpl.SignatureAlgorithm, err = signatureAlgorithm(key.Public(), in.SignatureBits, in.UsePSS); err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(b.rand, tmpl, key)
	if err != nil {
		return nil, logical.InvalidRequest("unable to create the CSR: %v", err)
	}
	b.mu.Lock()
	k, err := b.storeKey(ctx, req.Storage, key, in.KeyName)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	data := map[string]any{"key_id": k.ID, "key_name": k.Name,
		"csr": trimNL(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))}
	if in.Format == "der" {
		data["csr"] = encodeDER(der, "der")
	}
	if in.Type == "exported" {
		if _, err := addPrivateKey(data, key, in.PrivateKeyFormat, in.Format); err != nil {
			return nil, err
		}
	}
	return logical.DataResponse(data), nil
}

func signIntermediateSchema() map[string]*logical.FieldSchema {
	m := caSchema()
	m["csr"] = &logical.FieldSchema{Type: logical.TypeString, Required: true, Description: "PEM CSR of the intermediate CA."}
	m["use_csr_values"] = &logical.FieldSchema{Type: logical.TypeBool, Description: "Take the whole subject and SANs from the CSR."}
	m["issuer_ref"] = &logical.FieldSchema{Type: logical.TypeString, Default: defaultRef, Description: "Issuer that signs."}
	return m
}

func (b *backend) pathSignIntermediate() *logical.Path {
	return &logical.Path{
		Pattern:         `root/sign-intermediate`,
		Fields:          signIntermediateSchema(),
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.signIntermediate},
		HelpSynopsis:    "Sign an intermediate CA's CSR with the default issuer (or issuer_ref).",
		HelpDescription: "The common name and SANs default to the CSR's. The path length is capped by the signing issuer's.",
	}
}

func (b *backend) pathIssuerSignIntermediate() *logical.Path {
	return &logical.Path{
		Pattern:         `issuer/(?P<issuer_ref>[^/]+)/sign-intermediate`,
		Fields:          signIntermediateSchema(),
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.signIntermediate},
		HelpSynopsis:    "Sign an intermediate CA's CSR with the named issuer.",
		HelpDescription: "As root/sign-intermediate, with the issuer taken from the path.",
	}
}

func (b *backend) signIntermediate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, err := decodeCA(d, false)
	if err != nil {
		return nil, err
	}
	csr, err := parseCSR(in.CSR)
	if err != nil {
		return nil, err
	}
	pi, err := b.signingIssuer(ctx, req.Storage, in.IssuerRef)
	if err != nil {
		return nil, err
	}
	spec, warnings, err := b.intermediateSpec(ctx, req, in, csr, pi)
	if err != nil {
		return nil, err
	}
	cert, err := b.issueCert(spec, csr.PublicKey, pi, nil)
	if err != nil {
		return nil, err
	}
	if err := storeCert(ctx, req.Storage, cert, pi.entry.ID); err != nil {
		return nil, err
	}
	chain, err := b.issuerChain(ctx, req.Storage, pi)
	if err != nil {
		return nil, err
	}
	data, err := certData(cert, chain, nil, in.Format, "")
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: data, Warnings: warnings}, nil
}

// intermediateSpec decides the certificate of an intermediate CA.
func (b *backend) intermediateSpec(ctx context.Context, req *logical.Request, in *caInput, csr *x509.CertificateRequest, pi *parsedIssuer) (*certSpec, []string, error) {
	notBefore, notAfter, warnings, err := b.window(req, in.TTL, 0, 0, in.NotAfter, in.NotBeforeDuration)
	if err != nil {
		return nil, nil, err
	}
	if notAfter, err = limitToIssuer(pi, notAfter); err != nil {
		return nil, nil, err
	}
	pathLen, err := childPathLen(pi, in.MaxPathLength)
	if err != nil {
		return nil, nil, err
	}
	urls, err := loadURLs(ctx, req.Storage)
	if err != nil {
		return nil, nil, err
	}
	spec := &certSpec{NotBefore: notBefore, NotAfter: notAfter, IsCA: true, MaxPathLen: pathLen,
		PermittedDNS: in.PermittedDNS, SigBits: in.SignatureBits, UsePSS: in.UsePSS, URLs: urls}
	if in.UseCSRValues {
		spec.Subject = csr.Subject
		spec.DNSNames, spec.Emails, spec.IPs, spec.URIs = csr.DNSNames, csr.EmailAddresses, csr.IPAddresses, csr.URIs
		return spec, warnings, nil
	}
	if in.CommonName == "" {
		in.CommonName = csr.Subject.CommonName
	}
	if in.CommonName == "" {
		return nil, nil, logical.InvalidRequest("the common_name field is required (or a CSR with a common name)")
	}
	if len(in.AltNames) == 0 && len(in.IPSANs) == 0 && len(in.URISANs) == 0 {
		in.AltNames = append(append([]string{}, csr.DNSNames...), csr.EmailAddresses...)
		for _, ip := range csr.IPAddresses {
			in.IPSANs = append(in.IPSANs, ip.String())
		}
		for _, u := range csr.URIs {
			in.URISANs = append(in.URISANs, u.String())
		}
	}
	if err := in.names(spec); err != nil {
		return nil, nil, err
	}
	return spec, warnings, nil
}
