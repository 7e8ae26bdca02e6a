package transit

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathListKeys() *logical.Path {
	return &logical.Path{
		Pattern: `keys/?`,
		Fields: map[string]*logical.FieldSchema{
			"after": {Type: logical.TypeString, Description: "List only names sorting after this one (need not exist)."},
			"limit": {Type: logical.TypeInt, Description: "Return at most this many names (0: all)."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.keysList},
		HelpSynopsis:    "List the named keys.",
		HelpDescription: "Returns the names of the keys, never their material.",
	}
}

// keyCreateFields are the settings of a new key (keys/:name and import).
func keyCreateFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"name": nameField(),
		"type": {Type: logical.TypeString, Default: string(typeAES256),
			Description: "Key type: aes128-gcm96, aes256-gcm96 (default), chacha20-poly1305, ed25519, ecdsa-p256, " +
				"ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096 or hmac."},
		"derived": {Type: logical.TypeBool,
			Description: "Derive a key per request from a context (HKDF-SHA256); every request must carry a context."},
		"convergent_encryption": {Type: logical.TypeBool,
			Description: "Equal plaintexts under equal contexts give equal ciphertexts; requires derived."},
		"exportable":             {Type: logical.TypeBool, Description: "Allow exporting the key material; cannot be undone."},
		"allow_plaintext_backup": {Type: logical.TypeBool, Description: "Allow plaintext backups of the key; cannot be undone."},
		"auto_rotate_period": {Type: logical.TypeDurationSecond,
			Description: "Rotate the key automatically this long after its latest version was made; 0 disables, else at least 1h."},
		"key_size": {Type: logical.TypeInt, Description: "Key size in bytes of an hmac key (32 to 512; default 32)."},
		"context": {Type: logical.TypeString,
			Description: "On read of a derived ed25519 key, base64 context whose public keys to return."},
	}
}

func (b *backend) pathKeys() *logical.Path {
	return &logical.Path{
		Pattern: `keys/` + logical.GenericNameRegex("name"),
		Fields:  keyCreateFields(),
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.keyWrite,
			logical.ReadOperation:   b.keyRead,
			logical.DeleteOperation: b.keyDelete,
		},
		HelpSynopsis:    "Create, read and delete named keys.",
		HelpDescription: "A write creates the key if it does not exist (its settings are fixed at creation, see keys/:name/config for the ones that may change).",
	}
}

func (b *backend) keysList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	list, err := names(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if after := str(d, "after"); after != "" {
		i := sort.SearchStrings(list, after)
		if i < len(list) && list[i] == after {
			i++
		}
		list = list[i:]
	}
	if limit := integer(d, "limit"); limit > 0 && limit < len(list) {
		list = list[:limit]
	}
	return logical.ListResponse(list), nil
}

// keySettings are the validated settings of a key to create.
type keySettings struct {
	typ                     keyType
	derived, convergent     bool
	exportable, backup      bool
	autoRotate              time.Duration
	keySize                 int
	imported, allowRotation bool
}

func decodeKeySettings(d *logical.FieldData) (*keySettings, error) {
	t, ok := parseKeyType(str(d, "type"))
	if !ok {
		return nil, logical.InvalidRequest("unknown key type %v", str(d, "type"))
	}
	s := &keySettings{typ: t, derived: boolean(d, "derived"), convergent: boolean(d, "convergent_encryption"),
		exportable: boolean(d, "exportable"), backup: boolean(d, "allow_plaintext_backup"), keySize: integer(d, "key_size")}
	s.autoRotate, _ = d.Get("auto_rotate_period").(time.Duration)
	return s, s.validate()
}

func (s *keySettings) validate() error {
	t := s.typ
	switch {
	case s.autoRotate != 0 && s.autoRotate < time.Hour:
		return logical.InvalidRequest("auto rotate period must be 0 to disable or at least an hour")
	case s.convergent && !s.derived:
		return logical.InvalidRequest("convergent encryption requires derivation to be enabled")
	case t == typeEd25519 && s.convergent:
		return logical.InvalidRequest("convergent encryption not supported for keys of type %s", t)
	case (s.derived || s.convergent) && !t.supportsDerivation():
		return logical.InvalidRequest("key derivation and convergent encryption not supported for keys of type %s", t)
	case s.keySize != 0 && t != typeHMAC:
		return logical.InvalidRequest("key_size is not valid for algorithm %s", t)
	case s.keySize != 0 && (s.keySize < hmacMinKeySize || s.keySize > hmacMaxKeySize):
		return logical.InvalidRequest("invalid key_size %d", s.keySize)
	}
	return nil
}

// policy returns an empty policy with these settings.
func (s *keySettings) policy(name string) *keyPolicy {
	p := newPolicy(name, s.typ)
	p.Derived, p.ConvergentEncryption = s.derived, s.convergent
	p.Exportable, p.AllowPlaintextBackup = s.exportable, s.backup
	p.AutoRotatePeriod, p.KeySize = s.autoRotate, s.keySize
	p.Imported, p.AllowImportedKeyRotation = s.imported, s.allowRotation
	return p
}

func (b *backend) keyWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := str(d, "name")
	s, err := decodeKeySettings(d)
	if err != nil {
		return nil, err
	}
	p, created, err := b.keys.upsert(ctx, req.Storage, name, func() (*keyPolicy, error) {
		p := s.policy(name)
		return p, p.rotate(b.now())
	})
	if err != nil {
		return nil, err
	}
	b.schedule(p)
	resp, err := formatKey(p, nil)
	if err == nil && !created {
		resp.AddWarning("key " + name + " already existed")
	}
	return resp, err
}

func (b *backend) keyRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	context, err := decodeB64(str(d, "context"), "context")
	if err != nil {
		return nil, err
	}
	p, err := b.keys.get(ctx, req.Storage, str(d, "name"))
	if err != nil || p == nil {
		return nil, err
	}
	return formatKey(p, context)
}

func (b *backend) keyDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := str(d, "name")
	found, err := b.keys.remove(ctx, req.Storage, name, func(p *keyPolicy) error {
		if !p.DeletionAllowed {
			return logical.InvalidRequest("error deleting key %s: deletion is not allowed for this key", name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, logical.InvalidRequest("error deleting key %s: could not delete key; not found", name)
	}
	b.sched.Remove(name)
	return nil, nil
}

// formatKey is the read shape of a key (Vault's).
func formatKey(p *keyPolicy, context []byte) (*logical.Response, error) {
	data := map[string]any{
		"name":                   p.Name,
		"type":                   string(p.Type),
		"derived":                p.Derived,
		"deletion_allowed":       p.DeletionAllowed,
		"min_available_version":  p.MinAvailableVersion,
		"min_decryption_version": p.MinDecryptionVersion,
		"min_encryption_version": p.MinEncryptionVersion,
		"latest_version":         p.LatestVersion,
		"exportable":             p.Exportable,
		"allow_plaintext_backup": p.AllowPlaintextBackup,
		"supports_encryption":    p.Type.supportsEncryption(),
		"supports_decryption":    p.Type.supportsEncryption(),
		"supports_signing":       p.Type.supportsSigning(),
		"supports_derivation":    p.Type.supportsDerivation(),
		"auto_rotate_period":     int64(p.AutoRotatePeriod / time.Second),
		"imported_key":           p.Imported,
	}
	if p.KeySize != 0 {
		data["key_size"] = p.KeySize
	}
	if p.Imported {
		data["imported_key_allow_rotation"] = p.AllowImportedKeyRotation
	}
	if p.BackupInfo != nil {
		data["backup_info"] = map[string]any{"time": p.BackupInfo.Time.Format(time.RFC3339Nano), "version": p.BackupInfo.Version}
	}
	if p.RestoreInfo != nil {
		data["restore_info"] = map[string]any{"time": p.RestoreInfo.Time.Format(time.RFC3339Nano), "version": p.RestoreInfo.Version}
	}
	if p.Derived {
		data["kdf"] = "hkdf_sha256"
		data["convergent_encryption"] = p.ConvergentEncryption
		if p.ConvergentEncryption {
			// Vault shows -1: every version records its own scheme (3).
			data["convergent_encryption_version"] = -1
		}
	}
	keys, err := formatVersions(p, context)
	if err != nil {
		return nil, err
	}
	data["keys"] = keys
	return &logical.Response{Data: data}, nil
}

// formatVersions maps each visible version to its creation time (unix
// seconds) or, for asymmetric keys, to its public key.
func formatVersions(p *keyPolicy, context []byte) (map[string]any, error) {
	out := make(map[string]any, len(p.Versions))
	for n := p.firstVisible(); n <= p.LatestVersion; n++ {
		v := p.Versions[n]
		if v == nil {
			continue
		}
		key := strconv.Itoa(n)
		if !p.Type.asymmetric() {
			out[key] = v.Created.Unix()
			continue
		}
		pub, err := publicKeyText(p, v, context)
		if err != nil {
			return nil, err
		}
		out[key] = map[string]any{
			"name":              publicKeyName(p.Type),
			"public_key":        pub,
			"certificate_chain": "",
			"creation_time":     v.Created.Format(time.RFC3339Nano),
		}
	}
	return out, nil
}

func publicKeyName(t keyType) string {
	switch {
	case t.ecdsa():
		return t.curve().Params().Name
	case t == typeEd25519:
		return "ed25519"
	}
	return string(t)
}

// publicKeyText renders a version's public key as Vault does: base64 for
// ed25519 (derived keys: only for a given context), PEM otherwise.
func publicKeyText(p *keyPolicy, v *keyVersion, context []byte) (string, error) {
	if p.Type == typeEd25519 {
		if !p.Derived {
			return base64.StdEncoding.EncodeToString(v.pub.(ed25519.PublicKey)), nil
		}
		if len(context) == 0 || v.signer == nil {
			return "", nil
		}
		priv, err := deriveEd25519(v, context)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), nil
	}
	return pemPublicKey(v, true)
}

// pemPublicKey encodes a version's public key as PKIX PEM; EC keys are
// shown without the trailing newline, as Vault shows them.
func pemPublicKey(v *keyVersion, trailingNewline bool) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(v.pub)
	if err != nil {
		return "", err
	}
	s := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if !trailingNewline {
		s = strings.TrimSpace(s)
	}
	return s, nil
}
