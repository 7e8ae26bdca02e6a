package transit

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/kinko-dev/kinko/internal/logical"
)

// policyPrefix is where named keys live in the mount's storage view.
const policyPrefix = "policy/"

// hmacKeySize is the size of the HMAC key every version of a non-hmac key
// carries (Vault's 256 bits).
const hmacKeySize = 32

// keyPolicy is one named key: its settings and the material of every
// available version. A *keyPolicy that the cache hands out is never
// modified; writers work on a clone and publish it (see keyring).
type keyPolicy struct {
	Name                     string              `json:"name"`
	Type                     keyType             `json:"type"`
	Derived                  bool                `json:"derived"`
	ConvergentEncryption     bool                `json:"convergent_encryption"`
	Exportable               bool                `json:"exportable"`
	AllowPlaintextBackup     bool                `json:"allow_plaintext_backup"`
	DeletionAllowed          bool                `json:"deletion_allowed"`
	MinDecryptionVersion     int                 `json:"min_decryption_version"`
	MinEncryptionVersion     int                 `json:"min_encryption_version"`
	MinAvailableVersion      int                 `json:"min_available_version"`
	LatestVersion            int                 `json:"latest_version"`
	AutoRotatePeriod         time.Duration       `json:"auto_rotate_period"`
	KeySize                  int                 `json:"key_size,omitempty"`
	Imported                 bool                `json:"imported_key"`
	AllowImportedKeyRotation bool                `json:"allow_imported_key_rotation"`
	BackupInfo               *opInfo             `json:"backup_info,omitempty"`
	RestoreInfo              *opInfo             `json:"restore_info,omitempty"`
	Versions                 map[int]*keyVersion `json:"versions"`
}

// opInfo records when a backup or restore of a key happened.
type opInfo struct {
	Time    time.Time `json:"time"`
	Version int       `json:"version"`
}

// keyVersion is the material of one version. Symmetric and hmac keys keep
// raw bytes in Key; asymmetric keys keep PKCS#8 (private, absent for an
// imported public key) and PKIX (public) DER. Every version also has an
// independent HMAC key. The unexported fields are built from the stored
// ones by prepare and never change afterwards.
type keyVersion struct {
	Key        []byte    `json:"key,omitempty"`
	HMACKey    []byte    `json:"hmac_key,omitempty"`
	PrivateKey []byte    `json:"private_key,omitempty"`
	PublicKey  []byte    `json:"public_key,omitempty"`
	Created    time.Time `json:"created"`

	aead   cipher.AEAD      // non-derived symmetric keys
	signer crypto.Signer    // asymmetric keys with a private part
	pub    crypto.PublicKey // asymmetric keys
}

// newPolicy returns a policy without versions; rotate adds the first.
func newPolicy(name string, t keyType) *keyPolicy {
	return &keyPolicy{Name: name, Type: t, Versions: map[int]*keyVersion{}}
}

// clone returns a copy a writer may change: the version map is new, the
// versions themselves are shared (they are immutable).
func (p *keyPolicy) clone() *keyPolicy {
	c := *p
	c.Versions = maps.Clone(p.Versions)
	if c.Versions == nil {
		c.Versions = map[int]*keyVersion{}
	}
	return &c
}

// firstVisible is the oldest version reads and exports show, as Vault
// (which archives versions below min_decryption_version) does.
func (p *keyPolicy) firstVisible() int {
	return max(p.MinDecryptionVersion, p.MinAvailableVersion, 1)
}

// hmacKey returns the HMAC key of a version.
func (p *keyPolicy) hmacKey(v *keyVersion) []byte {
	if p.Type == typeHMAC {
		return v.Key
	}
	return v.HMACKey
}

// rotate adds a freshly generated version and makes it the latest.
func (p *keyPolicy) rotate(now time.Time) error {
	v, err := generateVersion(p.Type, p.KeySize, now)
	if err != nil {
		return err
	}
	return p.addVersion(v)
}

// addVersion prepares v and appends it as the new latest version.
func (p *keyPolicy) addVersion(v *keyVersion) error {
	if err := v.prepare(p.Type, p.Derived); err != nil {
		return err
	}
	p.LatestVersion++
	p.Versions[p.LatestVersion] = v
	if p.MinDecryptionVersion == 0 {
		p.MinDecryptionVersion = 1
	}
	return nil
}

// generateVersion makes new key material of type t from crypto/rand.
func generateVersion(t keyType, hmacSize int, now time.Time) (*keyVersion, error) {
	v := &keyVersion{Created: now.UTC()}
	var err error
	switch {
	case t == typeHMAC:
		if hmacSize == 0 {
			hmacSize = hmacKeySize
		}
		v.Key, err = randomBytes(hmacSize)
		return v, err
	case t.symmetric():
		v.Key, err = randomBytes(t.symmetricKeySize())
	default:
		err = v.generateAsymmetric(t)
	}
	if err != nil {
		return nil, err
	}
	v.HMACKey, err = randomBytes(hmacKeySize)
	return v, err
}

func (v *keyVersion) generateAsymmetric(t keyType) error {
	var priv crypto.Signer
	var err error
	switch {
	case t == typeEd25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case t.ecdsa():
		priv, err = ecdsa.GenerateKey(t.curve(), rand.Reader)
	case t.rsa():
		priv, err = generateRSAKey(t.rsaBits())
	default:
		return fmt.Errorf("transit: cannot generate a key of type %s", t)
	}
	if err != nil {
		return fmt.Errorf("transit: generate %s key: %w", t, err)
	}
	return v.setPrivate(priv)
}

// setPrivate stores priv (and its public half) in DER form.
func (v *keyVersion) setPrivate(priv crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("transit: encode private key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return fmt.Errorf("transit: encode public key: %w", err)
	}
	v.PrivateKey, v.PublicKey = der, pub
	return nil
}

// generateRSAKey makes an RSA key. Tests replace it with a small pool of
// pregenerated keys: generating a 4096-bit key takes seconds.
var generateRSAKey = func(bits int) (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, bits)
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("transit: read random bytes: %w", err)
	}
	return b, nil
}

// prepare checks the stored material against the key type and builds the
// runtime objects (cipher, parsed keys).
func (v *keyVersion) prepare(t keyType, derived bool) error {
	switch {
	case t == typeHMAC:
		if len(v.Key) < hmacMinKeySize || len(v.Key) > hmacMaxKeySize {
			return fmt.Errorf("transit: hmac key of %d bytes", len(v.Key))
		}
		return nil
	case t.symmetric():
		if len(v.Key) != t.symmetricKeySize() {
			return fmt.Errorf("transit: %s key of %d bytes", t, len(v.Key))
		}
		if derived {
			return nil
		}
		aead, err := newAEAD(t, v.Key)
		v.aead = aead
		return err
	}
	return v.prepareAsymmetric(t)
}

func (v *keyVersion) prepareAsymmetric(t keyType) error {
	if len(v.PrivateKey) > 0 {
		k, err := x509.ParsePKCS8PrivateKey(v.PrivateKey)
		if err != nil {
			return fmt.Errorf("transit: parse private key: %w", err)
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return fmt.Errorf("transit: private key of type %T", k)
		}
		v.signer = signer
	}
	if len(v.PublicKey) > 0 {
		pub, err := x509.ParsePKIXPublicKey(v.PublicKey)
		if err != nil {
			return fmt.Errorf("transit: parse public key: %w", err)
		}
		v.pub = pub
	} else if v.signer != nil {
		v.pub = v.signer.Public()
	}
	if v.pub == nil {
		return fmt.Errorf("transit: %s version without a key", t)
	}
	if err := checkKeyMatchesType(t, v.pub); err != nil {
		return err
	}
	if v.signer != nil {
		if eq, ok := v.signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(v.pub) {
			return fmt.Errorf("transit: private and public key of a version do not match")
		}
	}
	return nil
}

// checkKeyMatchesType reports an error unless pub is a key of type t.
func checkKeyMatchesType(t keyType, pub crypto.PublicKey) error {
	ok := false
	switch k := pub.(type) {
	case ed25519.PublicKey:
		ok = t == typeEd25519
	case *ecdsa.PublicKey:
		ok = t.ecdsa() && k.Curve == t.curve()
	case *rsa.PublicKey:
		ok = t.rsa() && k.N.BitLen() == t.rsaBits()
	}
	if !ok {
		return logical.InvalidRequest("the key material is not a %s key", t)
	}
	return nil
}

// newAEAD returns the AEAD of a symmetric type over key.
func newAEAD(t keyType, key []byte) (cipher.AEAD, error) {
	if t == typeChaCha20 {
		return chacha20poly1305.New(key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// loadPolicy reads a key from storage; nil, nil when it does not exist.
func loadPolicy(ctx context.Context, s logical.Storage, name string) (*keyPolicy, error) {
	e, err := s.Get(ctx, policyPrefix+name)
	if err != nil || e == nil {
		return nil, err
	}
	return decodePolicy(e.Value)
}

// decodePolicy parses a stored policy and prepares its versions.
func decodePolicy(b []byte) (*keyPolicy, error) {
	var p keyPolicy
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("transit: decode key: %w", err)
	}
	if _, ok := parseKeyType(string(p.Type)); !ok {
		return nil, fmt.Errorf("transit: stored key has unknown type %q", p.Type)
	}
	if p.Versions == nil {
		p.Versions = map[int]*keyVersion{}
	}
	for n, v := range p.Versions {
		if v == nil || n < 1 || n > p.LatestVersion {
			return nil, fmt.Errorf("transit: key %q has an invalid version %d", p.Name, n)
		}
		if err := v.prepare(p.Type, p.Derived); err != nil {
			return nil, fmt.Errorf("transit: key %q version %d: %w", p.Name, n, err)
		}
	}
	return &p, nil
}

// persist writes the policy to storage.
func (p *keyPolicy) persist(ctx context.Context, s logical.Storage) error {
	return logical.PutJSON(ctx, s, policyPrefix+p.Name, p)
}
