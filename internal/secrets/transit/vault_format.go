package transit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Backups use Vault's format (base64 of the JSON of its key policy and
// archive), so a key backed up in Vault restores in kinko, with its
// ciphertexts, and the reverse. These types mirror the JSON of Vault's
// keysutil.KeyData; only the fields kinko understands are kept.

type vaultKeyData struct {
	Policy       *vaultPolicy  `json:"policy"`
	ArchivedKeys *vaultArchive `json:"archived_keys"`
}

type vaultArchive struct {
	Keys []vaultKeyEntry `json:"keys"`
}

type vaultPolicy struct {
	Name                     string                   `json:"name"`
	KeySize                  int                      `json:"key_size,omitempty"`
	Keys                     map[string]vaultKeyEntry `json:"keys"`
	Derived                  bool                     `json:"derived"`
	KDF                      int                      `json:"kdf"`
	ConvergentEncryption     bool                     `json:"convergent_encryption"`
	Exportable               bool                     `json:"exportable"`
	MinDecryptionVersion     int                      `json:"min_decryption_version"`
	MinEncryptionVersion     int                      `json:"min_encryption_version"`
	LatestVersion            int                      `json:"latest_version"`
	ArchiveVersion           int                      `json:"archive_version"`
	ArchiveMinVersion        int                      `json:"archive_min_version"`
	MinAvailableVersion      int                      `json:"min_available_version"`
	DeletionAllowed          bool                     `json:"deletion_allowed"`
	ConvergentVersion        int                      `json:"convergent_version"`
	Type                     int                      `json:"type"`
	BackupInfo               *opInfo                  `json:"backup_info"`
	RestoreInfo              *opInfo                  `json:"restore_info"`
	AllowPlaintextBackup     bool                     `json:"allow_plaintext_backup"`
	VersionTemplate          string                   `json:"version_template"`
	AutoRotatePeriod         time.Duration            `json:"auto_rotate_period"`
	Imported                 bool                     `json:"Imported"`
	AllowImportedKeyRotation bool                     `json:"AllowImportedKeyRotation"`
}

type vaultKeyEntry struct {
	Key                []byte         `json:"key"`
	HMACKey            []byte         `json:"hmac_key"`
	Time               time.Time      `json:"time"`
	ECX                *big.Int       `json:"ec_x"`
	ECY                *big.Int       `json:"ec_y"`
	ECD                *big.Int       `json:"ec_d"`
	RSAKey             *vaultRSAKey   `json:"rsa_key"`
	RSAPublicKey       *rsa.PublicKey `json:"rsa_public_key"`
	FormattedPublicKey string         `json:"public_key"`
	ConvergentVersion  int            `json:"convergent_version"`
	CreationTime       int64          `json:"creation_time"`
	CertificateChain   [][]byte       `json:"certificate_chain,omitempty"`
}

// vaultRSAKey is the JSON of Go's rsa.PrivateKey as Vault stores it.
type vaultRSAKey struct {
	N      *big.Int   `json:"N"`
	E      int        `json:"E"`
	D      *big.Int   `json:"D"`
	Primes []*big.Int `json:"Primes"`
}

// vaultTypes are Vault's numeric key types.
var vaultTypes = map[int]keyType{
	0: typeAES256, 1: typeP256, 2: typeEd25519, 3: typeRSA2048, 4: typeRSA4096,
	5: typeChaCha20, 6: typeP384, 7: typeP521, 8: typeAES128, 9: typeRSA3072, 10: typeHMAC,
}

// maxRestoredVersions bounds the versions a restored backup may span.
const maxRestoredVersions = 1 << 16

// vaultKDFHKDF is Vault's number for HKDF-SHA256 derivation.
const vaultKDFHKDF = 1

func vaultTypeNumber(t keyType) int {
	for n, x := range vaultTypes {
		if x == t {
			return n
		}
	}
	return -1
}

// toVault converts a policy to Vault's backup form.
func toVault(p *keyPolicy) (*vaultKeyData, error) {
	vp := &vaultPolicy{
		Name: p.Name, KeySize: p.KeySize, Keys: map[string]vaultKeyEntry{}, Derived: p.Derived,
		ConvergentEncryption: p.ConvergentEncryption, Exportable: p.Exportable,
		MinDecryptionVersion: p.MinDecryptionVersion, MinEncryptionVersion: p.MinEncryptionVersion,
		LatestVersion: p.LatestVersion, ArchiveVersion: p.LatestVersion, ArchiveMinVersion: p.MinAvailableVersion,
		MinAvailableVersion: p.MinAvailableVersion, DeletionAllowed: p.DeletionAllowed, Type: vaultTypeNumber(p.Type),
		BackupInfo: p.BackupInfo, RestoreInfo: p.RestoreInfo, AllowPlaintextBackup: p.AllowPlaintextBackup,
		AutoRotatePeriod: p.AutoRotatePeriod, Imported: p.Imported, AllowImportedKeyRotation: p.AllowImportedKeyRotation,
	}
	if p.Derived {
		vp.KDF = vaultKDFHKDF
	}
	if p.ConvergentEncryption {
		vp.ConvergentVersion = -1 // every version carries its own (3)
	}
	archive := &vaultArchive{Keys: make([]vaultKeyEntry, p.LatestVersion-p.MinAvailableVersion+1)}
	for n, v := range p.Versions {
		e, err := vaultEntry(p, v)
		if err != nil {
			return nil, fmt.Errorf("transit: version %d: %w", n, err)
		}
		archive.Keys[n-p.MinAvailableVersion] = e
		if n >= p.MinDecryptionVersion {
			vp.Keys[strconv.Itoa(n)] = e
		}
	}
	return &vaultKeyData{Policy: vp, ArchivedKeys: archive}, nil
}

func vaultEntry(p *keyPolicy, v *keyVersion) (vaultKeyEntry, error) {
	e := vaultKeyEntry{HMACKey: p.hmacKey(v), Time: v.Created, CreationTime: v.Created.Unix()}
	if p.ConvergentEncryption {
		e.ConvergentVersion = 3
	}
	switch pub := v.pub.(type) {
	case nil:
		e.Key = v.Key
	case ed25519.PublicKey:
		e.FormattedPublicKey = base64.StdEncoding.EncodeToString(pub)
		if k, ok := v.signer.(ed25519.PrivateKey); ok {
			e.Key = k
		}
	case *ecdsa.PublicKey:
		return e, vaultECEntry(&e, v, pub)
	case *rsa.PublicKey:
		e.RSAPublicKey = pub
		if k, ok := v.signer.(*rsa.PrivateKey); ok {
			e.RSAKey = &vaultRSAKey{N: k.N, E: k.E, D: k.D, Primes: k.Primes}
		}
	}
	return e, nil
}

func vaultECEntry(e *vaultKeyEntry, v *keyVersion, pub *ecdsa.PublicKey) error {
	point, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return err
	}
	n := (len(point) - 1) / 2
	e.ECX, e.ECY = new(big.Int).SetBytes(point[1:1+n]), new(big.Int).SetBytes(point[1+n:])
	e.FormattedPublicKey = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: v.PublicKey}))
	if k, ok := v.signer.(*ecdsa.PrivateKey); ok {
		d, err := k.Bytes()
		if err != nil {
			return err
		}
		e.ECD = new(big.Int).SetBytes(d)
	}
	return nil
}

// fromVault converts a backup in Vault's form to a policy named name.
func fromVault(kd *vaultKeyData, name string) (*keyPolicy, error) {
	vp := kd.Policy
	t, ok := vaultTypes[vp.Type]
	switch {
	case !ok:
		return nil, logical.InvalidRequest("backup has an unsupported key type (%d)", vp.Type)
	case vp.Derived && vp.KDF != vaultKDFHKDF:
		return nil, logical.InvalidRequest("backup uses a legacy key derivation function kinko does not support")
	case vp.VersionTemplate != "" && vp.VersionTemplate != "vault:v{{version}}:":
		return nil, logical.InvalidRequest("backup uses a custom version template, which kinko does not support")
	case vp.LatestVersion < 1 || vp.MinAvailableVersion < 0 || vp.MinAvailableVersion > vp.LatestVersion:
		return nil, logical.InvalidRequest("backup has invalid key versions")
	case vp.LatestVersion-vp.MinAvailableVersion > maxRestoredVersions:
		return nil, logical.InvalidRequest("backup has more than %d key versions; trim the key first", maxRestoredVersions)
	}
	p := newPolicy(name, t)
	p.KeySize, p.Derived, p.ConvergentEncryption = vp.KeySize, vp.Derived, vp.ConvergentEncryption
	p.Exportable, p.AllowPlaintextBackup, p.DeletionAllowed = vp.Exportable, vp.AllowPlaintextBackup, vp.DeletionAllowed
	p.MinDecryptionVersion, p.MinEncryptionVersion = max(vp.MinDecryptionVersion, 1), vp.MinEncryptionVersion
	p.MinAvailableVersion, p.LatestVersion = vp.MinAvailableVersion, vp.LatestVersion
	p.AutoRotatePeriod, p.BackupInfo = vp.AutoRotatePeriod, vp.BackupInfo
	p.Imported, p.AllowImportedKeyRotation = vp.Imported, vp.AllowImportedKeyRotation
	for n := max(vp.MinAvailableVersion, 1); n <= vp.LatestVersion; n++ {
		e, ok := vp.Keys[strconv.Itoa(n)]
		if !ok && kd.ArchivedKeys != nil && n-vp.MinAvailableVersion < len(kd.ArchivedKeys.Keys) {
			e, ok = kd.ArchivedKeys.Keys[n-vp.MinAvailableVersion], true
		}
		if !ok || e.isEmpty() {
			continue
		}
		v, err := e.version(t, vp)
		if err != nil {
			return nil, logical.InvalidRequest("backup version %d: %v", n, err)
		}
		if err := v.prepare(t, p.Derived); err != nil {
			return nil, logical.InvalidRequest("backup version %d: %v", n, err)
		}
		p.Versions[n] = v
	}
	if p.Versions[p.LatestVersion] == nil {
		return nil, logical.InvalidRequest("backup lacks the latest key version")
	}
	return p, nil
}

func (e *vaultKeyEntry) isEmpty() bool {
	return len(e.Key) == 0 && e.RSAKey == nil && e.RSAPublicKey == nil && e.ECX == nil && e.FormattedPublicKey == ""
}

// version converts one Vault key entry to kinko's form.
func (e *vaultKeyEntry) version(t keyType, vp *vaultPolicy) (*keyVersion, error) {
	if vp.ConvergentEncryption {
		cv := e.ConvergentVersion
		if cv == 0 {
			cv = vp.ConvergentVersion
		}
		if cv != 3 {
			return nil, fmt.Errorf("convergent encryption version %d is not supported (only 3)", cv)
		}
	}
	v := &keyVersion{HMACKey: e.HMACKey, Created: e.Time.UTC()}
	if v.Created.IsZero() {
		v.Created = time.Unix(e.CreationTime, 0).UTC()
	}
	switch {
	case t == typeHMAC:
		v.Key, v.HMACKey = e.Key, nil
		return v, nil
	case t.symmetric():
		v.Key = e.Key
		return v, nil
	}
	priv, pub, err := e.asymmetric(t)
	if err != nil {
		return nil, err
	}
	if priv != nil {
		return v, v.setPrivate(priv)
	}
	v.PublicKey, err = x509.MarshalPKIXPublicKey(pub)
	return v, err
}

// asymmetric returns the private key of an entry, or its public key when
// the entry holds only that (an imported public key).
func (e *vaultKeyEntry) asymmetric(t keyType) (crypto.Signer, crypto.PublicKey, error) {
	switch {
	case t == typeEd25519 && len(e.Key) == ed25519.PrivateKeySize:
		return ed25519.PrivateKey(e.Key), nil, nil
	case t == typeEd25519:
		pub, err := base64.StdEncoding.DecodeString(e.FormattedPublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, nil, errors.New("invalid ed25519 public key")
		}
		return nil, ed25519.PublicKey(pub), nil
	case t.ecdsa() && e.ECD != nil:
		size := (t.curve().Params().BitSize + 7) / 8
		if e.ECD.Sign() <= 0 || e.ECD.BitLen() > 8*size {
			return nil, nil, errors.New("invalid EC private key")
		}
		k, err := ecdsa.ParseRawPrivateKey(t.curve(), e.ECD.FillBytes(make([]byte, size)))
		return k, nil, err
	case t.ecdsa() && e.ECX != nil && e.ECY != nil:
		pub, err := parseECPoint(t, e.ECX, e.ECY)
		return nil, pub, err
	case t.rsa() && e.RSAKey != nil:
		return e.RSAKey.private()
	case t.rsa() && e.RSAPublicKey != nil:
		return nil, e.RSAPublicKey, nil
	}
	return nil, nil, errors.New("entry has no key material")
}

func parseECPoint(t keyType, x, y *big.Int) (*ecdsa.PublicKey, error) {
	size := (t.curve().Params().BitSize + 7) / 8
	if x.Sign() < 0 || y.Sign() < 0 || x.BitLen() > 8*size || y.BitLen() > 8*size {
		return nil, errors.New("invalid EC public key")
	}
	point := make([]byte, 1+2*size)
	point[0] = 4
	x.FillBytes(point[1 : 1+size])
	y.FillBytes(point[1+size:])
	return ecdsa.ParseUncompressedPublicKey(t.curve(), point)
}

func (k *vaultRSAKey) private() (crypto.Signer, crypto.PublicKey, error) {
	if k.N == nil || k.D == nil || len(k.Primes) < 2 {
		return nil, nil, errors.New("invalid RSA private key")
	}
	priv := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: k.N, E: k.E}, D: k.D, Primes: k.Primes}
	if err := priv.Validate(); err != nil {
		return nil, nil, fmt.Errorf("invalid RSA private key: %w", err)
	}
	priv.Precompute()
	return priv, nil, nil
}
