package kv

import (
	"context"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

func versionsFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"path": {Type: logical.TypeString, Description: "Location of the secret."},
		"versions": {Type: logical.TypeRaw,
			Description: "The versions to act on: a list of numbers or a comma-separated string."},
	}
}

func (b *versionedBackend) pathDelete() *logical.Path {
	return &logical.Path{
		Pattern: `delete/` + logical.MatchAllRegex("path"),
		Fields:  versionsFields(),
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.versionsOp("No version number provided", markDeleted),
		},
		HelpSynopsis:    "Mark versions of a secret as deleted.",
		HelpDescription: "Soft-deletes the given versions: they are no longer returned by reads until undeleted.",
	}
}

func (b *versionedBackend) pathUndelete() *logical.Path {
	return &logical.Path{
		Pattern: `undelete/` + logical.MatchAllRegex("path"),
		Fields:  versionsFields(),
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.versionsOp("No version number provided", markUndeleted),
		},
		HelpSynopsis:    "Undelete versions of a secret.",
		HelpDescription: "Reverts a soft delete of the given versions; destroyed versions stay destroyed.",
	}
}

// versionsChange changes the versions listed in a request within one
// secret's record (under its lock) and returns the keys of version data to
// delete afterwards.
type versionsChange func(m *secretMeta, nums []uint64, now int64, cfg *engineConfig) (deleteData []uint64)

// versionsOp builds the handler of delete/, undelete/ and destroy/.
func (b *versionedBackend) versionsOp(noVersions string, change versionsChange) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		p, err := pathField(d)
		if err != nil {
			return nil, err
		}
		nums, err := parseVersions(d.Get("versions"))
		if err != nil {
			return nil, err
		}
		if len(nums) == 0 {
			return nil, logical.InvalidRequest("%s", noVersions)
		}
		cfg, err := loadConfig(ctx, req.Storage)
		if err != nil {
			return nil, err
		}
		defer b.locks.lock(p)()
		m, err := loadMeta(ctx, req.Storage, p)
		if m == nil || err != nil {
			return nil, err
		}
		drop := change(m, nums, b.nowNanos(), cfg)
		ops := saveMeta(p, m)
		for _, n := range drop {
			ops = append(ops, deleteOp(versionKey(p, n)))
		}
		return nil, commit(ctx, req.Storage, ops)
	}
}

// markDeleted sets the deletion time of live versions to now.
func markDeleted(m *secretMeta, nums []uint64, now int64, _ *engineConfig) []uint64 {
	for _, n := range nums {
		if v := m.version(n); v != nil && !v.Destroyed && !v.deleted(now) {
			v.Deletion = now
		}
	}
	return nil
}

// markUndeleted clears the deletion time of versions that are not
// destroyed and, as Vault, restarts delete_version_after from now.
func markUndeleted(m *secretMeta, nums []uint64, now int64, cfg *engineConfig) []uint64 {
	for _, n := range nums {
		if v := m.version(n); v != nil && !v.Destroyed {
			v.Deletion = deletionTime(now, m, cfg)
		}
	}
	return nil
}

// parseVersions accepts what Vault's comma-int-slice fields accept: a list
// of numbers or numeric strings, a comma-separated string, or one number.
func parseVersions(raw any) ([]uint64, error) {
	var items []any
	switch x := raw.(type) {
	case nil:
		return nil, nil
	case []any:
		items = x
	case []int:
		for _, n := range x {
			items = append(items, n)
		}
	case string:
		for s := range strings.SplitSeq(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
	default:
		items = []any{x}
	}
	out := make([]uint64, 0, len(items))
	for _, it := range items {
		n, err := weakInt(it)
		if err != nil {
			return nil, logical.InvalidRequest("invalid value for \"versions\": expected a list of version numbers")
		}
		// A negative number wraps to a version that never exists, as in Vault.
		out = append(out, uint64(n))
	}
	return out, nil
}
