package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Key types, as Vault names them.
const (
	keyRSA     = "rsa"
	keyEC      = "ec"
	keyEd25519 = "ed25519"
	keyAny     = "any"
)

// keyParams is a validated key type and size.
type keyParams struct {
	Type string
	Bits int
}

// normalizeKeyParams checks a key type and size and fills in the default
// size (RSA 2048, EC P-256). allowAny admits "any" (roles used for sign).
func normalizeKeyParams(typ string, bits int, allowAny bool) (keyParams, error) {
	switch typ {
	case keyRSA:
		switch bits {
		case 0:
			bits = 2048
		case 2048, 3072, 4096, 8192:
		default:
			return keyParams{}, logical.InvalidRequest("invalid key_bits %d for an rsa key: use 2048, 3072, 4096 or 8192", bits)
		}
	case keyEC:
		switch bits {
		case 0:
			bits = 256
		case 224, 256, 384, 521:
		default:
			return keyParams{}, logical.InvalidRequest("invalid key_bits %d for an ec key: use 224, 256, 384 or 521", bits)
		}
	case keyEd25519:
		bits = 0
	case keyAny:
		if !allowAny {
			return keyParams{}, logical.InvalidRequest("key_type \"any\" is only allowed on roles; use rsa, ec or ed25519")
		}
		bits = 0
	default:
		return keyParams{}, logical.InvalidRequest("invalid key_type %q: use rsa, ec or ed25519", typ)
	}
	return keyParams{Type: typ, Bits: bits}, nil
}

// curve returns the elliptic curve for an EC key size.
func curve(bits int) elliptic.Curve {
	switch bits {
	case 224:
		return elliptic.P224()
	case 384:
		return elliptic.P384()
	case 521:
		return elliptic.P521()
	}
	return elliptic.P256()
}

// generateKey makes a new private key from r (crypto/rand in production).
func generateKey(r io.Reader, p keyParams) (crypto.Signer, error) {
	switch p.Type {
	case keyRSA:
		return rsa.GenerateKey(r, p.Bits)
	case keyEC:
		return ecdsa.GenerateKey(curve(p.Bits), r)
	case keyEd25519:
		_, k, err := ed25519.GenerateKey(r)
		return k, err
	}
	return nil, logical.InvalidRequest("cannot generate a key of type %q", p.Type)
}

// publicKeyParams describes a public key as a key type and size.
func publicKeyParams(pub crypto.PublicKey) (keyParams, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return keyParams{Type: keyRSA, Bits: k.N.BitLen()}, nil
	case *ecdsa.PublicKey:
		return keyParams{Type: keyEC, Bits: k.Curve.Params().BitSize}, nil
	case ed25519.PublicKey:
		return keyParams{Type: keyEd25519}, nil
	}
	return keyParams{}, logical.InvalidRequest("unsupported public key type %T: use rsa, ec or ed25519", pub)
}

// marshalPrivateKey encodes k as Vault does: PKCS #1 for RSA and SEC 1 for
// EC, or PKCS #8 for everything when format is "pkcs8" (Ed25519 always).
func marshalPrivateKey(k crypto.Signer, format string) (*pem.Block, error) {
	if format != "pkcs8" {
		switch key := k.(type) {
		case *rsa.PrivateKey:
			return &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}, nil
		case *ecdsa.PrivateKey:
			der, err := x509.MarshalECPrivateKey(key)
			if err != nil {
				return nil, err
			}
			return &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}, nil
		}
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}, nil
}

// errBadKey never names the key or echoes its bytes.
var errBadKey = errors.New("the private key could not be parsed")

// parsePrivateKey decodes a PEM private key block (PKCS #8, PKCS #1, SEC 1).
func parsePrivateKey(b *pem.Block) (crypto.Signer, error) {
	var (
		k   any
		err error
	)
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, errBadKey
	}
	if err != nil {
		return nil, errBadKey
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errBadKey
	}
	if _, err := publicKeyParams(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

// samePublicKey reports whether two public keys are equal.
func samePublicKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// signatureAlgorithm picks the signature algorithm for a CA key: the hash
// size from signature_bits (0: the key's natural choice) and PSS for RSA
// when asked.
func signatureAlgorithm(pub crypto.PublicKey, bits int, usePSS bool) (x509.SignatureAlgorithm, error) {
	switch bits {
	case 0, 256, 384, 512:
	default:
		return 0, logical.InvalidRequest("invalid signature_bits %d: use 256, 384 or 512", bits)
	}
	switch pub.(type) {
	case *rsa.PublicKey:
		return rsaSignatureAlgorithm(bits, usePSS), nil
	case *ecdsa.PublicKey:
		switch bits {
		case 256:
			return x509.ECDSAWithSHA256, nil
		case 384:
			return x509.ECDSAWithSHA384, nil
		case 512:
			return x509.ECDSAWithSHA512, nil
		}
	}
	return x509.UnknownSignatureAlgorithm, nil // crypto/x509 chooses
}

func rsaSignatureAlgorithm(bits int, usePSS bool) x509.SignatureAlgorithm {
	switch {
	case bits == 384 && usePSS:
		return x509.SHA384WithRSAPSS
	case bits == 384:
		return x509.SHA384WithRSA
	case bits == 512 && usePSS:
		return x509.SHA512WithRSAPSS
	case bits == 512:
		return x509.SHA512WithRSA
	case usePSS:
		return x509.SHA256WithRSAPSS
	}
	return x509.SHA256WithRSA
}

// keyTypeName is the private_key_type of a key.
func keyTypeName(pub crypto.PublicKey) string {
	p, err := publicKeyParams(pub)
	if err != nil {
		return ""
	}
	return p.Type
}

// String renders key parameters for messages ("ec-256").
func (p keyParams) String() string {
	if p.Bits == 0 {
		return p.Type
	}
	return fmt.Sprintf("%s-%d", p.Type, p.Bits)
}
