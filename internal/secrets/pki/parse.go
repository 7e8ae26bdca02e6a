package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Bounds on untrusted PEM input.
const (
	maxPEMInput   = 1 << 20
	maxPEMBlocks  = 64
	maxCSRPEMSize = 64 << 10
)

// parseCSR decodes and checks a PEM certificate signing request: its
// signature must verify and its key must be rsa, ec or ed25519.
func parseCSR(text string) (*x509.CertificateRequest, error) {
	if len(text) > maxCSRPEMSize {
		return nil, logical.InvalidRequest("csr is too large: the limit is %d bytes", maxCSRPEMSize)
	}
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil || (block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST") {
		return nil, logical.InvalidRequest("csr must be a PEM-encoded CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, logical.InvalidRequest("csr could not be parsed: %v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, logical.InvalidRequest("csr signature does not verify: %v", err)
	}
	if _, err := publicKeyParams(csr.PublicKey); err != nil {
		return nil, err
	}
	return csr, nil
}

// pemBundle is the content of a PEM bundle: certificates and private keys
// in the order given.
type pemBundle struct {
	certs []*x509.Certificate
	keys  []crypto.Signer
}

// parsePEMBundle decodes certificates and private keys (PKCS #8, PKCS #1,
// SEC 1; "EC PARAMETERS" blocks are skipped). Anything else, or text
// between blocks other than whitespace, is an error. Key errors never
// include key bytes.
func parsePEMBundle(text string) (*pemBundle, error) {
	if len(text) > maxPEMInput {
		return nil, logical.InvalidRequest("pem_bundle is too large: the limit is %d bytes", maxPEMInput)
	}
	rest := bytes.TrimSpace([]byte(text))
	out := &pemBundle{}
	for n := 0; len(rest) > 0; n++ {
		if n == maxPEMBlocks {
			return nil, logical.InvalidRequest("pem_bundle has more than %d PEM blocks", maxPEMBlocks)
		}
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, logical.InvalidRequest("pem_bundle must contain only PEM blocks (certificates and private keys)")
		}
		rest = bytes.TrimSpace(rest)
		if err := out.add(block, n+1); err != nil {
			return nil, err
		}
	}
	if len(out.certs) == 0 && len(out.keys) == 0 {
		return nil, logical.InvalidRequest("pem_bundle contains no certificate or private key")
	}
	return out, nil
}

func (pb *pemBundle) add(block *pem.Block, n int) error {
	switch block.Type {
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return logical.InvalidRequest("PEM block %d: the certificate could not be parsed: %v", n, err)
		}
		pb.certs = append(pb.certs, c)
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		k, err := parsePrivateKey(block)
		if err != nil {
			return logical.InvalidRequest("PEM block %d: %v", n, err)
		}
		pb.keys = append(pb.keys, k)
	case "EC PARAMETERS":
	default:
		return logical.InvalidRequest("PEM block %d has unsupported type %q: use CERTIFICATE or PRIVATE KEY blocks", n, block.Type)
	}
	return nil
}

// parseCertificatePEM decodes exactly one PEM certificate (revoke by
// certificate).
func parseCertificatePEM(text string) (*x509.Certificate, error) {
	if len(text) > maxCSRPEMSize {
		return nil, logical.InvalidRequest("certificate is too large: the limit is %d bytes", maxCSRPEMSize)
	}
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, logical.InvalidRequest("certificate must be a PEM-encoded CERTIFICATE")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, logical.InvalidRequest("certificate could not be parsed: %v", err)
	}
	return c, nil
}
