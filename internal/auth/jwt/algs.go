package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted for verification.
const minRSABits = 2048

// allowedAlgs are the only signature algorithms kinko verifies: asymmetric
// ones. "none" and the HMAC family are never accepted (a public key must
// not double as an HMAC secret).
var allowedAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// isAllowedAlg reports whether name is one of allowedAlgs.
func isAllowedAlg(name string) bool {
	for _, a := range allowedAlgs {
		if string(a) == name {
			return true
		}
	}
	return false
}

// algNames is allowedAlgs as strings.
func algNames() []string {
	out := make([]string, len(allowedAlgs))
	for i, a := range allowedAlgs {
		out[i] = string(a)
	}
	return out
}

// keyFitsAlg reports whether key may verify a signature of alg: RS*/PS*
// need an RSA key of at least minRSABits, ES256/384/512 an ECDSA key on
// P-256/P-384/P-521, EdDSA an Ed25519 key.
func keyFitsAlg(alg jose.SignatureAlgorithm, key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		a := string(alg)
		return (strings.HasPrefix(a, "RS") || strings.HasPrefix(a, "PS")) && k.N != nil && k.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return k.Curve == elliptic.P256()
		case jose.ES384:
			return k.Curve == elliptic.P384()
		case jose.ES512:
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA && len(k) == ed25519.PublicKeySize
	}
	return false
}

// usableKey reports whether a public key is of a supported kind and size.
func usableKey(key any) bool {
	for _, a := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA} {
		if keyFitsAlg(a, key) {
			return true
		}
	}
	return false
}
