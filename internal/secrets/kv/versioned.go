package kv

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// versionedBackend is the KV version 2 engine.
type versionedBackend struct {
	*logical.Framework
	maxValueSize int
	locks        keyLocks
	// now is the clock; tests replace it.
	now func() time.Time
}

var (
	_ logical.Backend                       = (*versionedBackend)(nil)
	_ logical.ExistenceChecker              = (*versionedBackend)(nil)
	_ logical.SpecialPathsProvider          = (*versionedBackend)(nil)
	_ interface{ Cleanup(context.Context) } = (*versionedBackend)(nil)
)

func newVersioned(maxValueSize int) *versionedBackend {
	b := &versionedBackend{maxValueSize: maxValueSize, now: time.Now}
	b.Framework = (&logical.Framework{
		Help: versionedHelp,
		PathList: []*logical.Path{
			b.pathConfig(),
			b.pathData(),
			b.pathMetadata(),
			b.pathDelete(),
			b.pathUndelete(),
			b.pathDestroy(),
			b.pathSubkeys(),
			b.pathInvalid(),
		},
	}).Compile()
	return b
}

func (b *versionedBackend) nowNanos() int64 { return b.now().UnixNano() }

// secretExists is the existence check of data/ and metadata/.
func (b *versionedBackend) secretExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	p, err := pathField(d)
	if err != nil || p == "" {
		return false, nil
	}
	e, err := req.Storage.Get(ctx, metaKey(p))
	return e != nil, err
}

// versionInfo is the per-version metadata map of data reads and writes.
func versionInfo(n uint64, v *versionMeta, custom map[string]string) map[string]any {
	return map[string]any{
		"version":         n,
		"created_time":    formatTime(v.Created),
		"deletion_time":   formatTime(v.Deletion),
		"destroyed":       v.Destroyed,
		"custom_metadata": custom,
	}
}

// checkCAS enforces options.cas and cas_required as Vault does.
func checkCAS(opts map[string]any, c *engineConfig, m *secretMeta) error {
	raw, ok := opts["cas"]
	if !ok {
		if c.CASRequired || m.CASRequired {
			return logical.InvalidRequest("check-and-set parameter required for this call")
		}
		return nil
	}
	cas, err := weakInt(raw)
	if err != nil {
		return logical.InvalidRequest("error parsing check-and-set parameter")
	}
	if cas < 0 || uint64(cas) != m.Current {
		return logical.InvalidRequest("check-and-set parameter did not match the current version")
	}
	return nil
}

// weakInt converts a loosely typed number as Vault's weak decoding does.
func weakInt(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		return int64(f), err
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		if x == "" {
			return 0, nil
		}
		return strconv.ParseInt(strings.TrimSpace(x), 0, 64)
	}
	return 0, strconv.ErrSyntax
}

// addVersion appends a new current version holding data (encoded JSON),
// prunes versions beyond max_versions and returns the storage operations
// that commit it, in a crash-safe order, with the new version's metadata.
func (m *secretMeta) addVersion(p string, data []byte, now int64, c *engineConfig) ([]storage.Op, versionMeta) {
	prev, prevData := m.Current, m.Data
	m.Current++
	vm := versionMeta{Num: m.Current, Created: now, Deletion: deletionTime(now, m, c)}
	m.Versions = append(m.Versions, vm)
	m.Updated = now
	if m.Created == 0 {
		m.Created = now
	}
	m.Data = data

	var pruned []uint64
	if maxV := effectiveMaxVersions(m, c); m.Current-m.Oldest >= maxV {
		cut := m.Current - maxV // versions <= cut go
		keep := m.Versions[:0]
		for _, v := range m.Versions {
			switch {
			case v.Num > cut:
				keep = append(keep, v)
			case !v.Destroyed && v.Num != prev:
				pruned = append(pruned, v.Num)
			}
		}
		m.Versions = keep
		m.Oldest = cut + 1
	}
	ops := make([]storage.Op, 0, 2+len(pruned))
	if prevData != nil && m.version(prev) != nil {
		ops = append(ops, putOp(versionKey(p, prev), marshalVersion(prevData)))
	}
	ops = append(ops, putOp(metaKey(p), m.marshal()))
	for _, n := range pruned {
		ops = append(ops, deleteOp(versionKey(p, n)))
	}
	return ops, vm
}

// writeResult is the response of a data write or patch.
func writeResult(m *secretMeta, vm *versionMeta) *logical.Response {
	return &logical.Response{Data: versionInfo(vm.Num, vm, m.Custom)}
}

// saveMeta returns the one operation that writes the record.
func saveMeta(p string, m *secretMeta) []storage.Op {
	return []storage.Op{putOp(metaKey(p), m.marshal())}
}

const versionedHelp = `
The kv backend (version 2) stores versioned secrets. Use data/ to read and
write secrets, metadata/ to read and change per-secret settings and to list
secrets, delete/, undelete/ and destroy/ to manage versions, subkeys/ to read
a secret's structure without its values, and config for engine settings.
`
