package transit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // registers crypto.SHA1
	"crypto/sha256"
	_ "crypto/sha3" // registers crypto.SHA3_*
	_ "crypto/sha512"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strconv"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// signatureHashes maps the hash_algorithm names of sign and verify to
// hashes; "none" (raw PKCS#1 v1.5 over a prehashed input) is crypto.Hash(0).
var signatureHashes = map[string]crypto.Hash{
	"sha1":     crypto.SHA1,
	"sha2-224": crypto.SHA224,
	"sha2-256": crypto.SHA256,
	"sha2-384": crypto.SHA384,
	"sha2-512": crypto.SHA512,
	"sha3-224": crypto.SHA3_224,
	"sha3-256": crypto.SHA3_256,
	"sha3-384": crypto.SHA3_384,
	"sha3-512": crypto.SHA3_512,
	"none":     0,
}

// signOptions are the parameters of a signature or its verification.
type signOptions struct {
	hash       crypto.Hash
	prehashed  bool
	pss        bool // RSA: PSS (default) or PKCS#1 v1.5
	jws        bool // ECDSA: JWS (r||s, base64url) instead of ASN.1
	saltLength int  // RSA PSS; rsa.PSSSaltLengthAuto by default
}

// parseSignOptions validates the signing parameters of a request.
func parseSignOptions(d *logical.FieldData) (*signOptions, error) {
	name := str(d, "urlalgorithm")
	if name == "" {
		name = str(d, "hash_algorithm")
	}
	if name == "" {
		name = str(d, "algorithm")
	}
	if name == "" {
		name = "sha2-256"
	}
	h, ok := signatureHashes[name]
	if !ok {
		return nil, logical.InvalidRequest("invalid hash algorithm %q", name)
	}
	o := &signOptions{hash: h, prehashed: boolean(d, "prehashed")}
	switch m := str(d, "marshaling_algorithm"); m {
	case "", "asn1":
	case "jws":
		o.jws = true
	default:
		return nil, logical.InvalidRequest("invalid marshaling type %q", m)
	}
	switch a := str(d, "signature_algorithm"); a {
	case "", "pss":
		o.pss = true
	case "pkcs1v15":
	default:
		return nil, logical.InvalidRequest("unsupported rsa signature algorithm %s", a)
	}
	if h == 0 && (!o.prehashed || o.pss) {
		return nil, logical.InvalidRequest("hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15")
	}
	var err error
	o.saltLength, err = parseSaltLength(str(d, "salt_length"))
	return o, err
}

func parseSaltLength(s string) (int, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return rsa.PSSSaltLengthAuto, nil
	case "hash":
		return rsa.PSSSaltLengthEqualsHash, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, logical.InvalidRequest("salt length neither 'auto', 'hash', nor a non-negative integer: %s", s)
	}
	return n, nil
}

// digest hashes input unless the key type signs messages itself
// (ed25519) or the caller sent a hash.
func (p *keyPolicy) digest(input []byte, o *signOptions) []byte {
	if !p.Type.hashesInput() || o.prehashed || o.hash == 0 {
		return input
	}
	h := o.hash.New()
	h.Write(input)
	return h.Sum(nil)
}

// sign signs input with version ver (0: latest). For derived ed25519 keys
// it also returns the public key derived from context.
func (p *keyPolicy) sign(ver int, context, input []byte, o *signOptions) (string, int, []byte, error) {
	v, ver, err := p.encryptVersion(ver, "signing")
	if err != nil {
		return "", 0, nil, err
	}
	if v.signer == nil {
		return "", 0, nil, logical.InvalidRequest("requested version for signing does not contain a private part")
	}
	msg := p.digest(input, o)
	var sig, pub []byte
	switch k := v.signer.(type) {
	case ed25519.PrivateKey:
		if p.Derived {
			if k, err = deriveEd25519(v, context); err != nil {
				return "", 0, nil, err
			}
			pub = k.Public().(ed25519.PublicKey)
		}
		sig = ed25519.Sign(k, msg)
	case *ecdsa.PrivateKey:
		sig, err = ecdsaSign(k, msg, o.jws)
	case *rsa.PrivateKey:
		sig, err = rsaSign(k, msg, o)
	default:
		return "", 0, nil, logical.InvalidRequest("key type %s does not support signing", p.Type)
	}
	if err != nil {
		return "", 0, nil, err
	}
	enc := base64.StdEncoding
	if o.jws {
		enc = base64.RawURLEncoding
	}
	return versionedB64(ver, sig, enc), ver, pub, nil
}

// deriveEd25519 derives the ed25519 key of a context (Vault's scheme: the
// HKDF-SHA256 stream of the stored private key, with the context as info,
// seeds the key).
func deriveEd25519(v *keyVersion, context []byte) (ed25519.PrivateKey, error) {
	if len(context) == 0 {
		return nil, logical.InvalidRequest(errMissingContext)
	}
	priv, ok := v.signer.(ed25519.PrivateKey)
	if !ok {
		return nil, logical.InvalidRequest("key derivation needs the private key, which this version does not have")
	}
	seed, err := hkdf.Key(sha256.New, []byte(priv), nil, string(context), ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ecdsaSignature is the ASN.1 form of an ECDSA signature.
type ecdsaSignature struct {
	R, S *big.Int
}

// curveBytes is the length of a scalar of the key's curve.
func curveBytes(pub *ecdsa.PublicKey) int {
	return (pub.Curve.Params().BitSize + 7) / 8
}

func ecdsaSign(k *ecdsa.PrivateKey, digest []byte, jws bool) ([]byte, error) {
	der, err := ecdsa.SignASN1(rand.Reader, k, digest)
	if err != nil || !jws {
		return der, err
	}
	var sig ecdsaSignature
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		return nil, err
	}
	n := curveBytes(&k.PublicKey)
	out := make([]byte, 2*n)
	sig.R.FillBytes(out[:n])
	sig.S.FillBytes(out[n:])
	return out, nil
}

func rsaSign(k *rsa.PrivateKey, digest []byte, o *signOptions) ([]byte, error) {
	var sig []byte
	var err error
	if o.pss {
		if err := checkSaltLength(&k.PublicKey, o); err != nil {
			return nil, err
		}
		sig, err = rsa.SignPSS(rand.Reader, k, o.hash, digest, &rsa.PSSOptions{SaltLength: o.saltLength})
	} else {
		sig, err = rsa.SignPKCS1v15(nil, k, o.hash, digest)
	}
	if err != nil {
		return nil, logical.InvalidRequest("signing failed: %v", err)
	}
	return sig, nil
}

// checkSaltLength bounds an explicit PSS salt length as Vault does.
func checkSaltLength(pub *rsa.PublicKey, o *signOptions) error {
	maxLen := (pub.N.BitLen()-1+7)/8 - 2 - o.hash.Size()
	if o.saltLength > maxLen {
		return logical.InvalidRequest("requested salt length %d is invalid", o.saltLength)
	}
	return nil
}

// verify checks a versioned signature over input.
func (p *keyPolicy) verify(context, input []byte, signature string, o *signOptions) (bool, error) {
	ver, payload, err := parseVersioned(signature, "signature")
	if err != nil {
		return false, err
	}
	v, err := p.decryptVersion(ver, "signature")
	if err != nil {
		return false, err
	}
	enc := base64.StdEncoding
	if o.jws {
		enc = base64.RawURLEncoding
	}
	sig, err := enc.DecodeString(payload)
	if err != nil {
		return false, logical.InvalidRequest("invalid base64 signature value")
	}
	msg := p.digest(input, o)
	switch pub := v.pub.(type) {
	case ed25519.PublicKey:
		if p.Derived {
			k, err := deriveEd25519(v, context)
			if err != nil {
				return false, err
			}
			pub = k.Public().(ed25519.PublicKey)
		}
		return ed25519.Verify(pub, msg, sig), nil
	case *ecdsa.PublicKey:
		return ecdsaVerify(pub, msg, sig, o.jws)
	case *rsa.PublicKey:
		if o.pss {
			if err := checkSaltLength(pub, o); err != nil {
				return false, err
			}
			return rsa.VerifyPSS(pub, o.hash, msg, sig, &rsa.PSSOptions{SaltLength: o.saltLength}) == nil, nil
		}
		return rsa.VerifyPKCS1v15(pub, o.hash, msg, sig) == nil, nil
	}
	return false, logical.InvalidRequest("key type %s does not support verification", p.Type)
}

func ecdsaVerify(pub *ecdsa.PublicKey, digest, sig []byte, jws bool) (bool, error) {
	if jws {
		n := curveBytes(pub)
		if len(sig) != 2*n {
			return false, nil
		}
		r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
		return ecdsa.Verify(pub, digest, r, s), nil
	}
	var es ecdsaSignature
	rest, err := asn1.Unmarshal(sig, &es)
	switch {
	case err != nil || es.R == nil || es.S == nil:
		return false, logical.InvalidRequest("supplied signature is invalid")
	case len(rest) != 0:
		return false, logical.InvalidRequest("supplied signature contains extra data")
	}
	return ecdsa.VerifyASN1(pub, digest, sig), nil
}
