package transit

import (
	"crypto/elliptic"
	"slices"
)

// keyType is the algorithm of a named key, by its API name.
type keyType string

// The key types, named as in Vault's API.
const (
	typeAES128   keyType = "aes128-gcm96"
	typeAES256   keyType = "aes256-gcm96"
	typeChaCha20 keyType = "chacha20-poly1305"
	typeEd25519  keyType = "ed25519"
	typeP256     keyType = "ecdsa-p256"
	typeP384     keyType = "ecdsa-p384"
	typeP521     keyType = "ecdsa-p521"
	typeRSA2048  keyType = "rsa-2048"
	typeRSA3072  keyType = "rsa-3072"
	typeRSA4096  keyType = "rsa-4096"
	typeHMAC     keyType = "hmac"
)

// allKeyTypes lists every supported type, in the order help text shows them.
var allKeyTypes = []keyType{typeAES128, typeAES256, typeChaCha20, typeEd25519,
	typeP256, typeP384, typeP521, typeRSA2048, typeRSA3072, typeRSA4096, typeHMAC}

// HMAC key sizes (bytes) allowed for the hmac type, as in Vault.
const (
	hmacMinKeySize = 32
	hmacMaxKeySize = 512
)

func parseKeyType(s string) (keyType, bool) {
	t := keyType(s)
	return t, slices.Contains(allKeyTypes, t)
}

func (t keyType) symmetric() bool {
	return t == typeAES128 || t == typeAES256 || t == typeChaCha20
}

func (t keyType) ecdsa() bool { return t == typeP256 || t == typeP384 || t == typeP521 }

func (t keyType) rsa() bool { return t == typeRSA2048 || t == typeRSA3072 || t == typeRSA4096 }

func (t keyType) supportsEncryption() bool { return t.symmetric() || t.rsa() }

func (t keyType) supportsSigning() bool { return t.ecdsa() || t.rsa() || t == typeEd25519 }

func (t keyType) supportsDerivation() bool { return t.symmetric() || t == typeEd25519 }

// hashesInput reports whether signing hashes the input first (ed25519
// hashes internally).
func (t keyType) hashesInput() bool { return t.ecdsa() || t.rsa() }

// asymmetric reports whether versions carry a public key.
func (t keyType) asymmetric() bool { return t.supportsSigning() }

// symmetricKeySize is the raw key length of a symmetric type.
func (t keyType) symmetricKeySize() int {
	if t == typeAES128 {
		return 16
	}
	return 32
}

func (t keyType) rsaBits() int {
	switch t {
	case typeRSA3072:
		return 3072
	case typeRSA4096:
		return 4096
	}
	return 2048
}

func (t keyType) curve() elliptic.Curve {
	switch t {
	case typeP384:
		return elliptic.P384()
	case typeP521:
		return elliptic.P521()
	}
	return elliptic.P256()
}
