package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// signAndRespond creates the certificate, stores it unless the role says
// no_store, and builds the issue/sign response (with a lease when the
// role has generate_lease).
func (b *backend) signAndRespond(ctx context.Context, req *logical.Request, in *issueInput, role *roleEntry,
	spec *certSpec, pi *parsedIssuer, pub crypto.PublicKey, key crypto.Signer, warnings []string) (*logical.Response, error) {
	cert, err := b.issueCert(spec, pub, pi, nil)
	if err != nil {
		return nil, err
	}
	chain, err := b.issuerChain(ctx, req.Storage, pi)
	if err != nil {
		return nil, err
	}
	if !role.NoStore {
		if err := storeCert(ctx, req.Storage, cert, pi.entry.ID); err != nil {
			return nil, err
		}
	}
	data, err := certData(cert, chain, key, in.Format, in.PrivateKeyFormat)
	if err != nil {
		return nil, err
	}
	if !role.GenerateLease {
		return &logical.Response{Data: data, Warnings: warnings}, nil
	}
	resp := b.lease.Response(data, map[string]any{"serial_number": formatSerial(cert.SerialNumber)})
	resp.Secret.TTL = cert.NotAfter.Sub(b.now())
	resp.Warnings = warnings
	return resp, nil
}

// encodeDER renders DER for a response format: PEM (no trailing newline)
// or base64 for "der".
func encodeDER(der []byte, format string) string {
	if format == "der" {
		return base64.StdEncoding.EncodeToString(der)
	}
	return pemCert(der)
}

// certData is the response data of a new certificate: certificate,
// issuing_ca, ca_chain, serial_number, expiration and, with a key,
// private_key and private_key_type. For pem_bundle, certificate holds the
// key (if any), the certificate and the chain, as in Vault.
func certData(cert *x509.Certificate, chain []*x509.Certificate, key crypto.Signer, format, keyFormat string) (map[string]any, error) {
	caChain := make([]string, len(chain))
	for i, c := range chain {
		caChain[i] = encodeDER(c.Raw, format)
	}
	data := map[string]any{
		"certificate":   encodeDER(cert.Raw, format),
		"issuing_ca":    caChain[0],
		"ca_chain":      caChain,
		"serial_number": formatSerial(cert.SerialNumber),
		"expiration":    cert.NotAfter.Unix(),
	}
	keyText := ""
	if key != nil {
		var err error
		if keyText, err = addPrivateKey(data, key, keyFormat, format); err != nil {
			return nil, err
		}
	}
	if format == "pem_bundle" {
		parts := []string{}
		if keyText != "" {
			parts = append(parts, keyText)
		}
		parts = append(parts, pemCert(cert.Raw))
		parts = append(parts, caChain...)
		data["certificate"] = strings.Join(parts, "\n")
	}
	return data, nil
}

// addPrivateKey adds private_key and private_key_type to a response and
// returns the key's PEM.
func addPrivateKey(data map[string]any, key crypto.Signer, keyFormat, format string) (string, error) {
	block, err := marshalPrivateKey(key, keyFormat)
	if err != nil {
		return "", err
	}
	text := trimNL(pem.EncodeToMemory(block))
	data["private_key"] = text
	if format == "der" {
		data["private_key"] = base64.StdEncoding.EncodeToString(block.Bytes)
	}
	data["private_key_type"] = keyTypeName(key.Public())
	return text, nil
}

// leaseRevoke revokes the certificate of an expired or revoked lease
// (generate_lease); a certificate already gone counts as revoked.
func (b *backend) leaseRevoke(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	serial, _ := req.Secret.InternalData["serial_number"].(string)
	n, err := parseSerial(serial)
	if err != nil {
		return nil, err
	}
	_, err = b.revokeSerial(ctx, b.storage(req), n, false)
	return nil, err
}
