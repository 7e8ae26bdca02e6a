package transit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"

	"github.com/kinko-dev/kinko/internal/logical"
)

// maxBackupSize bounds a backup to restore (decoded).
const maxBackupSize = 16 << 20

// keyNameRe is what a key name may look like (the paths' name pattern).
var keyNameRe = regexp.MustCompile(`^` + logical.GenericNameRegex("name") + `$`)

func (b *backend) pathBackup() *logical.Path {
	return &logical.Path{
		Pattern:         `backup/` + logical.GenericNameRegex("name"),
		Fields:          map[string]*logical.FieldSchema{"name": nameField()},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.backupRead},
		HelpSynopsis:    "Back up a key, material included, in plaintext.",
		HelpDescription: "Needs exportable and allow_plaintext_backup on the key. The backup is Vault's format: it restores in kinko and in Vault.",
	}
}

func (b *backend) pathRestore() *logical.Path {
	return &logical.Path{
		Pattern: `restore` + optionalParam("name"),
		Fields: map[string]*logical.FieldSchema{
			"name":   {Type: logical.TypeString, Description: "Name of the restored key (default: the name in the backup)."},
			"backup": {Type: logical.TypeString, Required: true, Description: "Output of backup/:name (kinko's or Vault's)."},
			"force":  {Type: logical.TypeBool, Description: "Replace an existing key of that name."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.restoreWrite},
		HelpSynopsis:    "Restore a key from a backup.",
		HelpDescription: "Refuses to replace an existing key unless force is set.",
	}
}

func (b *backend) backupRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := str(d, "name")
	p, err := b.keys.update(ctx, req.Storage, name, func(p *keyPolicy) error {
		switch {
		case !p.Exportable:
			return logical.InvalidRequest("exporting is disallowed on the policy")
		case !p.AllowPlaintextBackup:
			return logical.InvalidRequest("plaintext backup is disallowed on the policy")
		}
		p.BackupInfo = &opInfo{Time: b.now().UTC(), Version: p.LatestVersion}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, logical.InvalidRequest("key %q not found", name)
	}
	kd, err := toVault(p)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(kd)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"backup": base64.StdEncoding.EncodeToString(raw)}), nil
}

func (b *backend) restoreWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := decodeBackup(str(d, "backup"), str(d, "name"))
	if err != nil {
		return nil, err
	}
	p.RestoreInfo = &opInfo{Time: b.now().UTC(), Version: p.LatestVersion}
	if err := b.keys.replace(ctx, req.Storage, p, boolean(d, "force")); err != nil {
		return nil, err
	}
	b.schedule(p)
	return nil, nil
}

// decodeBackup parses a backup into a policy named name (or the name the
// backup carries).
func decodeBackup(backup, name string) (*keyPolicy, error) {
	if backup == "" {
		return nil, logical.InvalidRequest("'backup' must be supplied")
	}
	if base64.StdEncoding.DecodedLen(len(backup)) > maxBackupSize {
		return nil, logical.InvalidRequest("backup is larger than %d bytes", maxBackupSize)
	}
	raw, err := base64.StdEncoding.DecodeString(backup)
	if err != nil {
		return nil, logical.InvalidRequest("invalid backup: not base64")
	}
	var kd vaultKeyData
	if err := json.Unmarshal(raw, &kd); err != nil || kd.Policy == nil {
		return nil, logical.InvalidRequest("invalid backup: not a key backup")
	}
	if name == "" {
		name = kd.Policy.Name
	}
	if !keyNameRe.MatchString(name) {
		return nil, logical.InvalidRequest("invalid key name %q", name)
	}
	return fromVault(&kd, name)
}
