package transit

import (
	"context"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// configKeysKey holds the engine-wide key settings (disable_upsert).
const configKeysKey = "config/keys"

func (b *backend) pathKeysConfig() *logical.Path {
	return &logical.Path{
		Pattern: `keys/` + logical.GenericNameRegex("name") + `/config`,
		Fields: map[string]*logical.FieldSchema{
			"name": nameField(),
			"min_decryption_version": {Type: logical.TypeInt,
				Description: "Oldest version whose ciphertexts, signatures and HMACs are accepted."},
			"min_encryption_version": {Type: logical.TypeInt,
				Description: "Oldest version that may encrypt, sign or HMAC (0: the latest only by default)."},
			"deletion_allowed":       {Type: logical.TypeBool, Description: "Whether the key may be deleted."},
			"exportable":             {Type: logical.TypeBool, Description: "Allow exporting the key; cannot be undone."},
			"allow_plaintext_backup": {Type: logical.TypeBool, Description: "Allow plaintext backups; cannot be undone."},
			"auto_rotate_period": {Type: logical.TypeDurationSecond,
				Description: "Automatic rotation period; 0 disables, else at least 1h. Unchanged when absent."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.keyConfigWrite},
		HelpSynopsis:    "Change the settings of a key that may change after creation.",
		HelpDescription: "Sends only the settings to change; the response is the key as a read shows it.",
	}
}

func (b *backend) pathRotate() *logical.Path {
	return &logical.Path{
		Pattern:         `keys/` + logical.GenericNameRegex("name") + `/rotate`,
		Fields:          map[string]*logical.FieldSchema{"name": nameField()},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.keyRotate},
		HelpSynopsis:    "Add a new version to a key; new data is encrypted with it.",
		HelpDescription: "Older versions keep decrypting down to min_decryption_version; use rewrap to move data to the new version.",
	}
}

func (b *backend) pathTrim() *logical.Path {
	return &logical.Path{
		Pattern: `keys/` + logical.GenericNameRegex("name") + `/trim`,
		Fields: map[string]*logical.FieldSchema{
			"name": nameField(),
			"min_available_version": {Type: logical.TypeInt, Required: true,
				Description: "Versions below this one are deleted for good; at most min_decryption_version and min_encryption_version."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.keyTrim},
		HelpSynopsis:    "Delete old key versions for good.",
		HelpDescription: "Requires min_encryption_version and min_decryption_version to be set; trimmed versions cannot be recovered.",
	}
}

func (b *backend) pathConfigKeys() *logical.Path {
	return &logical.Path{
		Pattern: `config/keys`,
		Fields: map[string]*logical.FieldSchema{
			"disable_upsert": {Type: logical.TypeBool, Description: "Stop encrypt from creating keys that do not exist."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.configKeysRead,
			logical.UpdateOperation: b.configKeysWrite,
		},
		HelpSynopsis:    "Settings for all keys of the engine.",
		HelpDescription: "disable_upsert turns off the creation of missing keys by encrypt.",
	}
}

// keyConfig is the decoded input of a config write; nil means not sent.
type keyConfig struct {
	minDecrypt, minEncrypt *int
	deletion, export, bkup *bool
	autoRotate             *time.Duration
}

func decodeKeyConfig(d *logical.FieldData) (*keyConfig, error) {
	c := &keyConfig{}
	for name, dst := range map[string]**int{"min_decryption_version": &c.minDecrypt, "min_encryption_version": &c.minEncrypt} {
		if v, ok, _ := d.GetOk(name); ok {
			n := v.(int)
			if n < 0 {
				return nil, logical.InvalidRequest("%s cannot be negative", name)
			}
			*dst = &n
		}
	}
	for name, dst := range map[string]**bool{"deletion_allowed": &c.deletion, "exportable": &c.export, "allow_plaintext_backup": &c.bkup} {
		if v, ok, _ := d.GetOk(name); ok {
			x := v.(bool)
			*dst = &x
		}
	}
	if v, ok, _ := d.GetOk("auto_rotate_period"); ok {
		p := v.(time.Duration)
		if p != 0 && p < time.Hour {
			return nil, logical.InvalidRequest("auto rotate period must be 0 to disable or at least an hour")
		}
		c.autoRotate = &p
	}
	return c, nil
}

// apply changes p as c asks and returns a warning, if any.
func (c *keyConfig) apply(p *keyPolicy) (string, error) {
	var warning string
	if c.minDecrypt != nil {
		n := *c.minDecrypt
		if n == 0 {
			n, warning = 1, "key numbering starts at 1; forcing min_decryption_version to 1"
		}
		if n > p.LatestVersion {
			return "", logical.InvalidRequest("cannot set min decryption version of %d, latest key version is %d", n, p.LatestVersion)
		}
		p.MinDecryptionVersion = n
	}
	if c.minEncrypt != nil {
		if *c.minEncrypt > p.LatestVersion {
			return "", logical.InvalidRequest("cannot set min encryption version of %d, latest key version is %d", *c.minEncrypt, p.LatestVersion)
		}
		p.MinEncryptionVersion = *c.minEncrypt
	}
	if p.MinEncryptionVersion > 0 && p.MinEncryptionVersion < p.MinDecryptionVersion {
		return "", logical.InvalidRequest("cannot set min encryption/decryption values; min encryption version of %d "+
			"must be greater than or equal to min decryption version of %d", p.MinEncryptionVersion, p.MinDecryptionVersion)
	}
	if p.MinAvailableVersion > p.MinDecryptionVersion || (p.MinEncryptionVersion > 0 && p.MinAvailableVersion > p.MinEncryptionVersion) {
		return "", logical.InvalidRequest("min encryption and decryption versions cannot be below the min available version %d", p.MinAvailableVersion)
	}
	if c.deletion != nil {
		p.DeletionAllowed = *c.deletion
	}
	// exportable and allow_plaintext_backup can be set, never unset.
	p.Exportable = p.Exportable || (c.export != nil && *c.export)
	p.AllowPlaintextBackup = p.AllowPlaintextBackup || (c.bkup != nil && *c.bkup)
	if c.autoRotate != nil {
		p.AutoRotatePeriod = *c.autoRotate
	}
	return warning, nil
}

func (b *backend) keyConfigWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := str(d, "name")
	c, err := decodeKeyConfig(d)
	if err != nil {
		return nil, err
	}
	var warning string
	p, err := b.keys.update(ctx, req.Storage, name, func(p *keyPolicy) error {
		w, e := c.apply(p)
		warning = w
		return e
	})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, logical.InvalidRequest("no existing key named %s could be found", name)
	}
	b.schedule(p)
	resp, err := formatKey(p, nil)
	if err == nil && warning != "" {
		resp.AddWarning(warning)
	}
	return resp, err
}

func (b *backend) keyRotate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := str(d, "name")
	p, err := b.keys.update(ctx, req.Storage, name, func(p *keyPolicy) error {
		if p.Imported && !p.AllowImportedKeyRotation {
			return logical.InvalidRequest("imported key %s does not allow rotation", name)
		}
		if !p.hasPrivateMaterial() {
			return logical.InvalidRequest("key %s holds only public keys and cannot be rotated", name)
		}
		p.Imported = false
		return p.rotate(b.now())
	})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, logical.InvalidRequest("key not found")
	}
	b.schedule(p)
	return formatKey(p, nil)
}

// hasPrivateMaterial reports whether the latest version can do private
// operations (an imported public key cannot be rotated into a key pair).
func (p *keyPolicy) hasPrivateMaterial() bool {
	v := p.Versions[p.LatestVersion]
	return v != nil && (!p.Type.asymmetric() || v.signer != nil)
}

func (b *backend) keyTrim(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	minAvail := integer(d, "min_available_version")
	p, err := b.keys.update(ctx, req.Storage, str(d, "name"), func(p *keyPolicy) error {
		switch {
		case minAvail < p.MinAvailableVersion:
			return logical.InvalidRequest("minimum available version cannot be decremented")
		case p.MinEncryptionVersion == 0:
			return logical.InvalidRequest("minimum available version cannot be set when minimum encryption version is not set")
		case minAvail > p.MinEncryptionVersion:
			return logical.InvalidRequest("minimum available version cannot be greater than minimum encryption version")
		case minAvail > p.MinDecryptionVersion:
			return logical.InvalidRequest("minimum available version cannot be greater than minimum decryption version")
		case minAvail <= 0:
			return logical.InvalidRequest("minimum available version should be positive")
		}
		p.MinAvailableVersion = minAvail
		for n := range p.Versions {
			if n < minAvail {
				delete(p.Versions, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, logical.InvalidRequest("invalid key name")
	}
	return formatKey(p, nil)
}

// keysConfig is the engine-wide key configuration.
type keysConfig struct {
	DisableUpsert bool `json:"disable_upsert"`
}

func loadKeysConfig(ctx context.Context, s logical.Storage) (*keysConfig, error) {
	var c keysConfig
	_, err := logical.GetJSON(ctx, s, configKeysKey, &c)
	return &c, err
}

func (b *backend) configKeysRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	c, err := loadKeysConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"disable_upsert": c.DisableUpsert}), nil
}

func (b *backend) configKeysWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	c := &keysConfig{DisableUpsert: boolean(d, "disable_upsert")}
	if err := logical.PutJSON(ctx, req.Storage, configKeysKey, c); err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"disable_upsert": c.DisableUpsert}), nil
}
