package transit

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"

	"github.com/kinko-dev/kinko/internal/logical"
)

// errTooOld is Vault's message for a value older than min_decryption_version.
const errTooOld = "ciphertext or signature version is disallowed by policy (too old)"

// errMissingContext is the message for a derived key used without context.
const errMissingContext = "missing 'context' for key derivation; the key was created using a derived key, " +
	"which means additional, per-request information must be included in order to perform operations with the key"

// encryptVersion resolves the version an encryption, signature or HMAC
// uses (0 is the latest) and checks it against the policy.
func (p *keyPolicy) encryptVersion(ver int, what string) (*keyVersion, int, error) {
	switch {
	case ver == 0:
		ver = p.LatestVersion
	case ver < 0:
		return nil, 0, logical.InvalidRequest("requested version for %s is negative", what)
	case ver > p.LatestVersion:
		return nil, 0, logical.InvalidRequest("requested version for %s is higher than the latest key version", what)
	case ver < p.MinEncryptionVersion:
		return nil, 0, logical.InvalidRequest("requested version for %s is less than the minimum encryption key version", what)
	}
	v := p.Versions[ver]
	if v == nil {
		return nil, 0, logical.InvalidRequest("requested version %d for %s is no longer available (trimmed)", ver, what)
	}
	return v, ver, nil
}

// decryptVersion checks the version of a value to decrypt or verify.
func (p *keyPolicy) decryptVersion(ver int, what string) (*keyVersion, error) {
	switch {
	case ver > p.LatestVersion:
		return nil, logical.InvalidRequest("invalid %s: version is too new", what)
	case ver < p.MinDecryptionVersion:
		return nil, logical.InvalidRequest(errTooOld)
	}
	v := p.Versions[ver]
	if v == nil {
		return nil, logical.InvalidRequest("invalid %s: key version %d is no longer available", what, ver)
	}
	return v, nil
}

// encrypt seals plaintext with version ver (0: latest) and returns the
// versioned ciphertext and the version used. context is the derivation
// context of derived keys; aad is authenticated with AEAD ciphers.
func (p *keyPolicy) encrypt(ver int, context, aad, plaintext []byte) (string, int, error) {
	if !p.Type.supportsEncryption() {
		return "", 0, logical.InvalidRequest("message encryption not supported for key type %s", p.Type)
	}
	v, ver, err := p.encryptVersion(ver, "encryption")
	if err != nil {
		return "", 0, err
	}
	var out []byte
	if p.Type.rsa() {
		if len(aad) > 0 {
			return "", 0, logical.InvalidRequest("'associated_data' provided for non-AEAD cipher suite %s", p.Type)
		}
		out, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, v.pub.(*rsa.PublicKey), plaintext, nil)
		if err != nil {
			return "", 0, logical.InvalidRequest("failed to RSA encrypt the plaintext: %v", err)
		}
	} else if out, err = p.seal(v, context, aad, plaintext); err != nil {
		return "", 0, err
	}
	return versionedB64(ver, out, base64.StdEncoding), ver, nil
}

// seal encrypts with a symmetric version: nonce || ciphertext || tag, the
// layout Vault uses, so an exported key and crypto/cipher open it.
func (p *keyPolicy) seal(v *keyVersion, context, aad, plaintext []byte) ([]byte, error) {
	aead, nonceKey, err := p.symmetricCipher(v, context, p.ConvergentEncryption)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	out := make([]byte, ns, ns+len(plaintext)+aead.Overhead())
	if nonceKey != nil {
		// Convergent encryption (Vault's version 3): the nonce is an HMAC
		// of the plaintext under a derived key, so equal plaintexts under
		// equal contexts give equal ciphertexts.
		m := hmac.New(sha256.New, nonceKey)
		m.Write(plaintext)
		copy(out, m.Sum(nil))
	} else if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[:ns], plaintext, aad), nil
}

// symmetricCipher returns the AEAD of a version, derived from context for
// derived keys, and (when convergent is asked for) the derived nonce key.
func (p *keyPolicy) symmetricCipher(v *keyVersion, context []byte, convergent bool) (cipher.AEAD, []byte, error) {
	if !p.Derived {
		return v.aead, nil, nil
	}
	if len(context) == 0 {
		return nil, nil, logical.InvalidRequest(errMissingContext)
	}
	size := p.Type.symmetricKeySize()
	n := size
	if convergent {
		n += hmacKeySize
	}
	km, err := hkdf.Key(sha256.New, v.Key, nil, string(context), n)
	if err != nil {
		return nil, nil, err
	}
	aead, err := newAEAD(p.Type, km[:size])
	if err != nil {
		return nil, nil, err
	}
	if convergent {
		return aead, km[size:], nil
	}
	return aead, nil, nil
}

// decrypt opens a versioned ciphertext.
func (p *keyPolicy) decrypt(context, aad []byte, ciphertext string) ([]byte, error) {
	if !p.Type.supportsEncryption() {
		return nil, logical.InvalidRequest("message decryption not supported for key type %s", p.Type)
	}
	ver, payload, err := parseVersioned(ciphertext, "ciphertext")
	if err != nil {
		return nil, err
	}
	if ver == 0 {
		ver = 1 // Vault's first versions were numbered from zero
	}
	v, err := p.decryptVersion(ver, "ciphertext")
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, logical.InvalidRequest("invalid ciphertext: could not decode base64")
	}
	if p.Type.rsa() {
		return rsaDecrypt(p.Type, v, aad, raw)
	}
	aead, _, err := p.symmetricCipher(v, context, false)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	if len(raw) < ns+aead.Overhead() {
		return nil, logical.InvalidRequest("invalid ciphertext length")
	}
	plain, err := aead.Open(nil, raw[:ns], raw[ns:], aad)
	if err != nil {
		return nil, logical.InvalidRequest("%v", err) // "cipher: message authentication failed"
	}
	return plain, nil
}

func rsaDecrypt(t keyType, v *keyVersion, aad, raw []byte) ([]byte, error) {
	if len(aad) > 0 {
		return nil, logical.InvalidRequest("'associated_data' provided for non-AEAD cipher suite %s", t)
	}
	priv, ok := v.signer.(*rsa.PrivateKey)
	if !ok {
		return nil, logical.InvalidRequest("cannot decrypt ciphertext, key version does not have a private counterpart")
	}
	plain, err := rsa.DecryptOAEP(sha256.New(), nil, priv, raw, nil)
	if err != nil {
		return nil, logical.InvalidRequest("failed to RSA decrypt the ciphertext: %v", err)
	}
	return plain, nil
}
