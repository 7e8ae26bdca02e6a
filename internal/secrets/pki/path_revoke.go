package pki

import (
	"context"
	"crypto/x509"
	"math/big"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathRevoke() *logical.Path {
	return &logical.Path{
		Pattern: `revoke`,
		Fields: map[string]*logical.FieldSchema{
			"serial_number": {Type: logical.TypeString, Description: "Serial of the certificate, hex bytes separated by ':' or '-'."},
			"certificate":   {Type: logical.TypeString, Description: "PEM certificate to revoke (instead of serial_number)."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.revoke},
		HelpSynopsis:    "Revoke a certificate.",
		HelpDescription: "The CRL of the certificate's issuer is rebuilt before the call returns; OCSP answers revoked at once.",
	}
}

func (b *backend) revoke(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	serialText, _ := d.Get("serial_number").(string)
	certText, _ := d.Get("certificate").(string)
	switch {
	case serialText != "" && certText != "":
		return nil, logical.InvalidRequest("must provide either the certificate or the serial to revoke; not both")
	case certText != "":
		return b.revokeByCert(ctx, req.Storage, certText)
	case serialText == "":
		return nil, logical.InvalidRequest("the serial number or certificate to revoke must be provided")
	}
	serial, err := parseSerial(serialText)
	if err != nil {
		return nil, err
	}
	return b.revokeSerial(ctx, req.Storage, serial, true)
}

// revokeByCert revokes a certificate given whole; it must have been
// signed by an issuer of this mount (it need not be stored: no_store).
func (b *backend) revokeByCert(ctx context.Context, s logical.Storage, text string) (*logical.Response, error) {
	cert, err := parseCertificatePEM(text)
	if err != nil {
		return nil, err
	}
	all, err := b.listIssuers(ctx, s)
	if err != nil {
		return nil, err
	}
	issuerID := ""
	for _, pi := range all {
		if cert.CheckSignatureFrom(pi.cert) == nil {
			issuerID = pi.entry.ID
			break
		}
	}
	if issuerID == "" {
		return nil, logical.InvalidRequest("the certificate was not issued by any issuer of this mount")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if stored, err := loadCert(ctx, s, serialKey(cert.SerialNumber)); err != nil {
		return nil, err
	} else if stored != nil && !cert.Equal(mustParse(stored.DER)) {
		return nil, logical.InvalidRequest("the certificate does not match the stored certificate with serial %s", formatSerial(cert.SerialNumber))
	}
	return b.revokeLocked(ctx, s, cert, issuerID, all)
}

// mustParse parses stored DER; a corrupt record compares unequal.
func mustParse(der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return &x509.Certificate{}
	}
	return c
}

// revokeSerial revokes a stored certificate. An unknown serial is an
// error when mustExist, else nothing happens (a lease whose certificate
// was tidied away).
func (b *backend) revokeSerial(ctx context.Context, s logical.Storage, serial *big.Int, mustExist bool) (*logical.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ce, err := loadCert(ctx, s, serialKey(serial))
	if err != nil {
		return nil, err
	}
	if ce == nil {
		if rev, err := loadRevoked(ctx, s, serialKey(serial)); err != nil || rev != nil {
			return revokedResponse(rev), err
		}
		if mustExist {
			return nil, logical.InvalidRequest("certificate with serial %s not found", formatSerial(serial))
		}
		return nil, nil
	}
	cert, err := x509.ParseCertificate(ce.DER)
	if err != nil {
		return nil, err
	}
	all, err := b.listIssuers(ctx, s)
	if err != nil {
		return nil, err
	}
	return b.revokeLocked(ctx, s, cert, ce.IssuerID, all)
}

// revokeLocked records the revocation and rebuilds the issuer's CRL. The
// caller holds b.mu.
func (b *backend) revokeLocked(ctx context.Context, s logical.Storage, cert *x509.Certificate, issuerID string, all []*parsedIssuer) (*logical.Response, error) {
	key := serialKey(cert.SerialNumber)
	if rev, err := loadRevoked(ctx, s, key); err != nil || rev != nil {
		return revokedResponse(rev), err
	}
	for _, pi := range all {
		if pi.cert.Equal(cert) {
			return nil, logical.InvalidRequest("adding issuer (id: %s) to its own CRL is not allowed; delete the issuer instead", pi.entry.ID)
		}
	}
	now := b.now().UTC()
	if cert.NotAfter.Before(now) {
		resp := logical.DataResponse(map[string]any{"revocation_time": 0})
		resp.AddWarning("The certificate has already expired; it is not added to the CRL.")
		return resp, nil
	}
	rev := &revokedEntry{DER: cert.Raw, RevocationTime: now.Truncate(time.Second), IssuerID: issuerID, NotAfter: cert.NotAfter.Unix()}
	if err := logical.PutJSON(ctx, s, revokedPrefix+key, rev); err != nil {
		return nil, err
	}
	if err := b.appendCRL(ctx, s, issuerID, x509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: rev.RevocationTime}); err != nil {
		return nil, err
	}
	return revokedResponse(rev), nil
}

func revokedResponse(rev *revokedEntry) *logical.Response {
	if rev == nil {
		return nil
	}
	return logical.DataResponse(map[string]any{
		"revocation_time":         rev.RevocationTime.Unix(),
		"revocation_time_rfc3339": rev.RevocationTime.UTC().Format(time.RFC3339Nano),
		"state":                   "revoked",
	})
}

func (b *backend) pathRotateCRL() *logical.Path {
	return &logical.Path{
		Pattern:         `crl/rotate`,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.rotateCRL},
		HelpSynopsis:    "Rebuild every issuer's CRL now.",
		HelpDescription: "CRLs are also rebuilt on every revocation and when read after their nextUpdate.",
	}
}

func (b *backend) rotateCRL(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.rebuildCRLs(ctx, req.Storage); err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"success": true}), nil
}
