package kv

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

func (b *versionedBackend) pathMetadata() *logical.Path {
	return &logical.Path{
		Pattern: `metadata/` + logical.MatchAllRegex("path"),
		Fields: map[string]*logical.FieldSchema{
			"path":            {Type: logical.TypeString, Description: "Location of the secret."},
			"exclude_deleted": {Type: logical.TypeBool, Description: "On list, leave out keys whose current version is deleted."},
			"cas_required":    {Type: logical.TypeBool, Description: "If true, every write of this secret must carry options.cas."},
			"max_versions":    {Type: logical.TypeInt, Description: "Versions to keep (0: the engine's setting)."},
			"delete_version_after": {Type: logical.TypeDurationSecond,
				Description: "Time after which a new version is deleted (0: the engine's setting)."},
			"custom_metadata": {Type: logical.TypeMap,
				Description: "Up to 64 string pairs describing the secret (keys up to 128 bytes, values up to 512)."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.metadataRead,
			logical.CreateOperation: b.metadataWrite,
			logical.UpdateOperation: b.metadataWrite,
			logical.PatchOperation:  b.metadataPatch,
			logical.DeleteOperation: b.metadataDelete,
			logical.ListOperation:   b.metadataList,
		},
		ExistenceCheck:  b.secretExists,
		HelpSynopsis:    "Read and change a secret's metadata and settings; list secrets.",
		HelpDescription: metadataHelp,
	}
}

// metadataRead returns a secret's metadata and version index.
func (b *versionedBackend) metadataRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := pathField(d)
	if err != nil || p == "" {
		return nil, err
	}
	m, err := loadMeta(ctx, req.Storage, p)
	if m == nil || err != nil {
		return nil, err
	}
	versions := make(map[string]any, len(m.Versions))
	for _, v := range m.Versions {
		versions[strconv.FormatUint(v.Num, 10)] = map[string]any{
			"created_time":  formatTime(v.Created),
			"deletion_time": formatTime(v.Deletion),
			"destroyed":     v.Destroyed,
		}
	}
	return &logical.Response{Data: map[string]any{
		"versions":             versions,
		"current_version":      m.Current,
		"oldest_version":       m.Oldest,
		"created_time":         formatTime(m.Created),
		"updated_time":         formatTime(m.Updated),
		"max_versions":         m.MaxVersions,
		"cas_required":         m.CASRequired,
		"delete_version_after": m.DeleteVersionAfter.String(),
		"custom_metadata":      m.Custom,
	}}, nil
}

// metadataInput holds the settings a metadata write or patch sent.
type metadataInput struct {
	hasMaxVersions bool
	maxVersionsN   uint32
	casRequired    *bool
	dva            *time.Duration
	hasCustom      bool
	custom         map[string]any // raw; nil when sent as null
}

func (in *metadataInput) empty() bool {
	return !in.hasMaxVersions && in.casRequired == nil && in.dva == nil && !in.hasCustom
}

func decodeMetadataInput(d *logical.FieldData) (*metadataInput, error) {
	in := &metadataInput{}
	mv, ok, err := setting[int](d, "max_versions")
	if err != nil {
		return nil, err
	}
	if ok {
		if mv < 0 || mv > 1<<32-1 {
			return nil, logical.InvalidRequest("max_versions must be between 0 and %d", uint32(1<<32-1))
		}
		in.hasMaxVersions, in.maxVersionsN = true, uint32(mv)
	}
	if c, ok, err := setting[bool](d, "cas_required"); err != nil {
		return nil, err
	} else if ok {
		in.casRequired = &c
	}
	if dva, ok, err := setting[time.Duration](d, "delete_version_after"); err != nil {
		return nil, err
	} else if ok {
		if dva < 0 {
			return nil, logical.InvalidRequest("delete_version_after must not be negative")
		}
		in.dva = &dva
	}
	if in.custom, in.hasCustom, err = setting[map[string]any](d, "custom_metadata"); err != nil {
		return nil, err
	}
	return in, nil
}

// apply sets the sent settings on m; custom is the validated custom_metadata.
func (in *metadataInput) apply(m *secretMeta, custom map[string]string) {
	if in.hasMaxVersions {
		m.MaxVersions = in.maxVersionsN
	}
	if in.casRequired != nil {
		m.CASRequired = *in.casRequired
	}
	if in.dva != nil {
		m.DeleteVersionAfter = *in.dva
	}
	if in.hasCustom {
		m.Custom = custom
	}
}

// casWarning is Vault's warning when a key asks not to require cas but the
// engine requires it anyway.
func casWarning(in *metadataInput, cfg *engineConfig) *logical.Response {
	if in.casRequired == nil || *in.casRequired || !cfg.CASRequired {
		return nil
	}
	resp := &logical.Response{}
	resp.AddWarning(`"cas_required" set to false, but is mandated by backend config. This value will be ignored.`)
	return resp
}

// metadataWrite creates or replaces a secret's settings. Like Vault, a
// write that sends no setting changes nothing (and creates nothing).
func (b *versionedBackend) metadataWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, in, err := b.metadataWriteInput(d)
	if err != nil || in.empty() {
		return nil, err
	}
	var custom map[string]string
	if in.hasCustom {
		if custom, err = parseCustomMetadata(in.custom, false); err != nil {
			return nil, err
		}
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	defer b.locks.lock(p)()
	m, err := loadMeta(ctx, req.Storage, p)
	if err != nil {
		return nil, err
	}
	if m == nil {
		now := b.nowNanos()
		m = &secretMeta{Created: now, Updated: now}
	}
	in.apply(m, custom)
	if err := commit(ctx, req.Storage, saveMeta(p, m)); err != nil {
		return nil, err
	}
	return casWarning(in, cfg), nil
}

func (b *versionedBackend) metadataWriteInput(d *logical.FieldData) (string, *metadataInput, error) {
	p, err := pathField(d)
	if err != nil {
		return "", nil, err
	}
	if p == "" {
		return "", nil, logical.InvalidRequest("missing path")
	}
	if strings.HasSuffix(p, "/") {
		return "", nil, logical.InvalidRequest("invalid secret path: must not end in \"/\"")
	}
	in, err := decodeMetadataInput(d)
	return p, in, err
}

// metadataPatch changes only the sent settings of an existing secret;
// custom_metadata is merged key by key: a null value removes a key, and
// custom_metadata sent as null removes them all.
func (b *versionedBackend) metadataPatch(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, in, err := b.metadataWriteInput(d)
	if err != nil {
		return nil, err
	}
	if in.custom != nil {
		if _, err := parseCustomMetadata(in.custom, true); err != nil {
			return nil, err
		}
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	defer b.locks.lock(p)()
	m, err := loadMeta(ctx, req.Storage, p)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, logical.Errorf(logical.ErrNotFound, "no secret at this path")
	}
	var custom map[string]string // null custom_metadata clears it
	if in.custom != nil {
		if custom, err = mergeCustomMetadata(m.Custom, in.custom); err != nil {
			return nil, err
		}
	}
	in.apply(m, custom)
	if err := commit(ctx, req.Storage, saveMeta(p, m)); err != nil {
		return nil, err
	}
	return casWarning(in, cfg), nil
}

// metadataDelete removes a secret: its record and every version's data.
func (b *versionedBackend) metadataDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := pathField(d)
	if err != nil || p == "" {
		return nil, err
	}
	defer b.locks.lock(p)()
	m, err := loadMeta(ctx, req.Storage, p)
	if m == nil || err != nil {
		return nil, err
	}
	// The record goes first: once it is gone nothing references the data.
	ops := make([]storage.Op, 0, 1+len(m.Versions))
	ops = append(ops, deleteOp(metaKey(p)))
	for _, v := range m.Versions {
		if v.Num != m.Current && !v.Destroyed {
			ops = append(ops, deleteOp(versionKey(p, v.Num)))
		}
	}
	return nil, commit(ctx, req.Storage, ops)
}

// metadataList lists the secrets and folders below a path.
func (b *versionedBackend) metadataList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := pathField(d)
	if err != nil {
		return nil, err
	}
	exclude, _ := d.Get("exclude_deleted").(bool)
	return b.list(ctx, req.Storage, p, exclude)
}

func (b *versionedBackend) list(ctx context.Context, s logical.Storage, p string, excludeDeleted bool) (*logical.Response, error) {
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	keys, err := s.List(ctx, metaKey(p))
	if err != nil {
		return nil, err
	}
	if excludeDeleted {
		if keys, err = dropDeleted(ctx, s, p, keys); err != nil {
			return nil, err
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return logical.ListResponse(keys), nil
}

// dropDeleted removes keys whose current version has a deletion time.
// Like Vault, a future (scheduled) deletion time counts too, and a key
// whose record cannot be read is kept.
func dropDeleted(ctx context.Context, s logical.Storage, prefix string, keys []string) ([]string, error) {
	out := keys[:0]
	for _, k := range keys {
		if !strings.HasSuffix(k, "/") {
			m, err := loadMeta(ctx, s, prefix+k)
			if err == nil && m != nil {
				if cur := m.version(m.Current); cur != nil && cur.Deletion != 0 {
					continue
				}
			}
		}
		out = append(out, k)
	}
	return out, nil
}

const metadataHelp = `
A read returns the secret's metadata and the state of every kept version. A
write sets max_versions, cas_required, delete_version_after and
custom_metadata (only those sent); a patch changes only the sent settings and
merges custom_metadata key by key (null removes a key; null custom_metadata
removes all). A setting sent as null is set to its zero value. A delete removes the
secret with all its versions permanently. A list returns the secrets and
folders under the path.
`
