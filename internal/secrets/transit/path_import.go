package transit

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// wrappingKeyStorage holds the mount's BYOK wrapping key (PKCS#8 DER).
const wrappingKeyStorage = "config/wrapping-key"

// wrappingKeyBits is the size of the wrapping key (Vault's RSA-4096).
const wrappingKeyBits = 4096

func (b *backend) pathWrappingKey() *logical.Path {
	return &logical.Path{
		Pattern:         `wrapping_key`,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.wrappingKeyRead},
		HelpSynopsis:    "The RSA-4096 public key to wrap keys for import with.",
		HelpDescription: "Generated once per mount, on first use.",
	}
}

// importFields are the fields of import and import_version.
func importFields() map[string]*logical.FieldSchema {
	f := keyCreateFields()
	f["ciphertext"] = &logical.FieldSchema{Type: logical.TypeString,
		Description: "Base64 of RSA-OAEP(wrapping key, ephemeral AES-256 key) || AES-KWP(ephemeral key, key material)."}
	f["public_key"] = &logical.FieldSchema{Type: logical.TypeString, Description: "PEM public key to import instead (asymmetric types)."}
	f["hash_function"] = &logical.FieldSchema{Type: logical.TypeString, Default: "SHA256",
		Description: "Hash of the RSA-OAEP step: SHA1, SHA224, SHA256 (default), SHA384 or SHA512."}
	f["allow_rotation"] = &logical.FieldSchema{Type: logical.TypeBool, Description: "Allow kinko to rotate the imported key."}
	f["version"] = &logical.FieldSchema{Type: logical.TypeInt,
		Description: "import_version: the version whose missing private key to import (default: a new version)."}
	return f
}

func (b *backend) pathImport() *logical.Path {
	return &logical.Path{
		Pattern:         `keys/` + logical.GenericNameRegex("name") + `/import`,
		Fields:          importFields(),
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.importWrite},
		HelpSynopsis:    "Import externally generated key material as a new key (BYOK).",
		HelpDescription: "Symmetric keys are raw bytes, asymmetric keys PKCS#8 DER, wrapped for wrapping_key.",
	}
}

func (b *backend) pathImportVersion() *logical.Path {
	return &logical.Path{
		Pattern:         `keys/` + logical.GenericNameRegex("name") + `/import_version`,
		Fields:          importFields(),
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.importVersionWrite},
		HelpSynopsis:    "Import new key material into an imported key.",
		HelpDescription: "Adds a version, or with version the private key of a version imported as a public key.",
	}
}

func (b *backend) wrappingKeyRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	k, err := b.wrappingKey(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"public_key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}), nil
}

// wrappingKey returns the mount's wrapping key, generating and storing it
// on first use.
func (b *backend) wrappingKey(ctx context.Context, s logical.Storage) (*rsa.PrivateKey, error) {
	b.wrapMu.Lock()
	defer b.wrapMu.Unlock()
	if b.wrapKey != nil {
		return b.wrapKey, nil
	}
	k, err := loadOrMakeWrappingKey(ctx, s)
	if err == nil {
		b.wrapKey = k
	}
	return k, err
}

func loadOrMakeWrappingKey(ctx context.Context, s logical.Storage) (*rsa.PrivateKey, error) {
	var stored struct {
		Key []byte `json:"key"`
	}
	found, err := logical.GetJSON(ctx, s, wrappingKeyStorage, &stored)
	if err != nil {
		return nil, err
	}
	if found {
		k, err := x509.ParsePKCS8PrivateKey(stored.Key)
		if rk, ok := k.(*rsa.PrivateKey); ok && err == nil {
			return rk, nil
		}
		return nil, fmt.Errorf("transit: stored wrapping key is invalid: %v", err)
	}
	k, err := generateRSAKey(wrappingKeyBits)
	if err != nil {
		return nil, err
	}
	if stored.Key, err = x509.MarshalPKCS8PrivateKey(k); err != nil {
		return nil, err
	}
	return k, logical.PutJSON(ctx, s, wrappingKeyStorage, &stored)
}

func importHash(name string) (hash.Hash, error) {
	switch strings.ToUpper(name) {
	case "SHA1":
		return sha1.New(), nil
	case "SHA224":
		return sha256.New224(), nil
	case "SHA256":
		return sha256.New(), nil
	case "SHA384":
		return sha512.New384(), nil
	case "SHA512":
		return sha512.New(), nil
	}
	return nil, logical.InvalidRequest("unknown hash function: %s", name)
}

// unwrapImport opens an import ciphertext: RSA-OAEP(wrapping key,
// ephemeral AES-256 key) followed by AES-KWP(ephemeral key, material).
func (b *backend) unwrapImport(ctx context.Context, s logical.Storage, ciphertext, hashName string) ([]byte, error) {
	h, err := importHash(hashName)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, logical.InvalidRequest("ciphertext is not valid base64")
	}
	wk, err := b.wrappingKey(ctx, s)
	if err != nil {
		return nil, err
	}
	n := wk.Size()
	if len(raw) <= n {
		return nil, logical.InvalidRequest("provided ciphertext is too short")
	}
	eph, err := rsa.DecryptOAEP(h, nil, wk, raw[:n], nil)
	if err != nil {
		return nil, logical.InvalidRequest("failed to decrypt the ephemeral key: it was not wrapped for this mount's wrapping key with %s", strings.ToUpper(hashName))
	}
	defer clear(eph)
	if len(eph) != 32 {
		return nil, logical.InvalidRequest("expected ephemeral AES key to be 256-bit")
	}
	material, err := kwpUnwrap(eph, raw[n:])
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	return material, nil
}

// importedVersion builds a version from the request's ciphertext (key
// material) or public_key, for a key of type t.
func (b *backend) importedVersion(ctx context.Context, s logical.Storage, d *logical.FieldData, t keyType, derived bool) (*keyVersion, error) {
	ct, pubPEM := str(d, "ciphertext"), str(d, "public_key")
	switch {
	case ct != "" && pubPEM != "":
		return nil, logical.InvalidRequest("only one of the following fields, ciphertext and public_key, can be set")
	case ct == "" && pubPEM == "":
		return nil, logical.InvalidRequest("one of ciphertext or public_key is required")
	case pubPEM != "":
		return publicVersion(t, derived, pubPEM, b.now())
	}
	material, err := b.unwrapImport(ctx, s, ct, str(d, "hash_function"))
	if err != nil {
		return nil, err
	}
	return materialVersion(t, material, b.now())
}

func publicVersion(t keyType, derived bool, pubPEM string, now time.Time) (*keyVersion, error) {
	if !t.asymmetric() {
		return nil, logical.InvalidRequest("provided type does not support public_key import")
	}
	if t == typeEd25519 && derived {
		return nil, logical.InvalidRequest("unable to import only a public key for a derived ed25519 key")
	}
	block, _ := pem.Decode([]byte(pubPEM))
	if block == nil {
		return nil, logical.InvalidRequest("error parsing public key: not in PEM format")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, logical.InvalidRequest("error parsing public key: %v", err)
	}
	if err := checkKeyMatchesType(t, pub); err != nil {
		return nil, err
	}
	hk, err := randomBytes(hmacKeySize)
	return &keyVersion{PublicKey: block.Bytes, HMACKey: hk, Created: now.UTC()}, err
}

func materialVersion(t keyType, material []byte, now time.Time) (*keyVersion, error) {
	v := &keyVersion{Created: now.UTC()}
	switch {
	case t == typeHMAC:
		if len(material) < hmacMinKeySize || len(material) > hmacMaxKeySize {
			return nil, logical.InvalidRequest("invalid key size %d bytes for key type %s", len(material), t)
		}
		v.Key = material
		return v, nil
	case t.symmetric():
		if len(material) != t.symmetricKeySize() {
			return nil, logical.InvalidRequest("invalid key size %d bytes for key type %s", len(material), t)
		}
		v.Key = material
	default:
		k, err := x509.ParsePKCS8PrivateKey(material)
		if err != nil {
			return nil, logical.InvalidRequest("error parsing asymmetric key (expected PKCS#8 DER): %v", err)
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return nil, logical.InvalidRequest("unsupported private key type %T", k)
		}
		if err := checkKeyMatchesType(t, signer.Public()); err != nil {
			return nil, err
		}
		if err := v.setPrivate(signer); err != nil {
			return nil, err
		}
	}
	var err error
	v.HMACKey, err = randomBytes(hmacKeySize)
	return v, err
}

func (b *backend) importWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := str(d, "name")
	if _, sent := d.Raw["convergent_encryption"]; sent {
		return nil, logical.InvalidRequest("import cannot be used on keys with convergent encryption enabled")
	}
	s, err := decodeKeySettings(d)
	if err != nil {
		return nil, err
	}
	s.imported, s.allowRotation = true, boolean(d, "allow_rotation")
	if s.autoRotate > 0 && !s.allowRotation {
		return nil, logical.InvalidRequest("allow_rotation must be set to true if auto-rotation is enabled")
	}
	if existing, err := b.keys.get(ctx, req.Storage, name); err != nil || existing != nil {
		return nil, orError(err, "the import path cannot be used with an existing key; use import_version to rotate an existing imported key")
	}
	v, err := b.importedVersion(ctx, req.Storage, d, s.typ, s.derived)
	if err != nil {
		return nil, err
	}
	p, created, err := b.keys.upsert(ctx, req.Storage, name, func() (*keyPolicy, error) {
		p := s.policy(name)
		if s.typ == typeHMAC {
			p.KeySize = len(v.Key)
		}
		return p, p.addVersion(v)
	})
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, logical.InvalidRequest("the import path cannot be used with an existing key; use import_version to rotate an existing imported key")
	}
	b.schedule(p)
	return nil, nil
}

func (b *backend) importVersionWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := str(d, "name")
	cur, err := b.keys.get(ctx, req.Storage, name)
	if err != nil || cur == nil {
		return nil, orError(err, "no key found with name "+name+"; to import a new key, use the import/ endpoint")
	}
	v, err := b.importedVersion(ctx, req.Storage, d, cur.Type, cur.Derived)
	if err != nil {
		return nil, err
	}
	target, _, _ := d.GetOk("version")
	p, err := b.keys.update(ctx, req.Storage, name, func(p *keyPolicy) error {
		switch {
		case !p.Imported:
			return logical.InvalidRequest("the import_version endpoint can only be used with an imported key")
		case p.ConvergentEncryption:
			return logical.InvalidRequest("import_version cannot be used on keys with convergent encryption enabled")
		}
		if n, ok := target.(int); ok {
			return p.completeVersion(n, v)
		}
		if latest := p.Versions[p.LatestVersion]; latest != nil && latest.signer == nil && v.PrivateKey != nil {
			if err := p.completeVersion(p.LatestVersion, v); err == nil {
				return nil
			}
		}
		return p.addVersion(v)
	})
	if err == nil && p == nil {
		err = logical.InvalidRequest("no key found with name %s", name)
	}
	if err != nil {
		return nil, err
	}
	b.schedule(p)
	return nil, nil
}

// completeVersion gives version n, imported as a public key, the private
// key v carries; the two must match.
func (p *keyPolicy) completeVersion(n int, v *keyVersion) error {
	old := p.Versions[n]
	switch {
	case old == nil:
		return logical.InvalidRequest("key version %d does not exist", n)
	case old.signer != nil:
		return logical.InvalidRequest("key version %d already has a private key", n)
	case v.PrivateKey == nil:
		return logical.InvalidRequest("a private key (ciphertext) is needed to update version %d", n)
	}
	nv := &keyVersion{PrivateKey: v.PrivateKey, PublicKey: old.PublicKey, HMACKey: old.HMACKey, Created: old.Created}
	if err := nv.prepare(p.Type, p.Derived); err != nil {
		return logical.InvalidRequest("the imported private key does not match version %d's public key", n)
	}
	p.Versions[n] = nv
	return nil
}
