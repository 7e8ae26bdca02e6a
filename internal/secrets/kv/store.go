package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// Storage keys of the versioned engine (see the package doc).
const (
	configKey     = "config"
	metaPrefix    = "meta/"
	versionPrefix = "versions/"
)

func metaKey(p string) string { return metaPrefix + p }

// versionKey names the data of version n of secret p. The mapping is
// injective: n never contains "/", so the last segment is always n.
func versionKey(p string, n uint64) string {
	return versionPrefix + p + "/" + strconv.FormatUint(n, 10)
}

// loadMeta reads a secret's record; nil when the secret does not exist.
func loadMeta(ctx context.Context, s logical.Storage, p string) (*secretMeta, error) {
	e, err := s.Get(ctx, metaKey(p))
	if err != nil || e == nil {
		return nil, err
	}
	return unmarshalMeta(e.Value)
}

// loadVersionData reads the stored data of an older version; nil if absent.
func loadVersionData(ctx context.Context, s logical.Storage, p string, n uint64) ([]byte, error) {
	e, err := s.Get(ctx, versionKey(p, n))
	if err != nil || e == nil {
		return nil, err
	}
	return unmarshalVersion(e.Value)
}

func putOp(key string, value []byte) storage.Op {
	return storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: key, Value: value}}
}

func deleteOp(key string) storage.Op {
	return storage.Op{Kind: storage.OpDelete, Entry: &storage.Entry{Key: key}}
}

// commit applies ops atomically when the view is transactional. Otherwise
// it applies them in order; callers order them so that a crash part-way
// leaves no record pointing at missing data (puts of version data, then the
// record, then deletes).
func commit(ctx context.Context, s logical.Storage, ops []storage.Op) error {
	return storage.Apply(ctx, s, ops)
}

// engineConfig is the mount-wide configuration at the "config" key.
type engineConfig struct {
	MaxVersions uint32 `json:"max_versions"`
	CASRequired bool   `json:"cas_required"`
	// DeleteVersionAfter: 0 = unset, negative = disabled for every key.
	DeleteVersionAfter time.Duration `json:"delete_version_after"`
}

func (c *engineConfig) dvaDisabled() bool { return c.DeleteVersionAfter < 0 }

// loadConfig reads the engine configuration; absent means all defaults. It
// is read from storage on every write (never cached) so that every node of
// a cluster sees a change at once.
func loadConfig(ctx context.Context, s logical.Storage) (*engineConfig, error) {
	c := &engineConfig{}
	if _, err := logical.GetJSON(ctx, s, configKey, c); err != nil {
		return nil, err
	}
	return c, nil
}

// defaultMaxVersions is used when neither the key nor the engine sets one.
const defaultMaxVersions = 10

// effectiveMaxVersions follows Vault: the larger of the key's and the
// engine's setting, or 10 when both are zero.
func effectiveMaxVersions(m *secretMeta, c *engineConfig) uint64 {
	mv := max(m.MaxVersions, c.MaxVersions)
	if mv == 0 {
		return defaultMaxVersions
	}
	return uint64(mv)
}

// deletionTime returns when a version created (or undeleted) at t is to be
// deleted: t plus the smaller non-zero delete_version_after of the key and
// the engine; 0 when neither is set or the engine disables it.
func deletionTime(t int64, m *secretMeta, c *engineConfig) int64 {
	if c.dvaDisabled() {
		return 0
	}
	d := m.DeleteVersionAfter
	if c.DeleteVersionAfter > 0 && (d <= 0 || c.DeleteVersionAfter < d) {
		d = c.DeleteVersionAfter
	}
	if d <= 0 {
		return 0
	}
	return t + int64(d)
}

// decodeData decodes stored JSON secret data. Numbers stay json.Number so
// that integers of any size come back exactly as written.
func decodeData(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: secret data: %v", errCorrupt, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// encodeData encodes secret data and enforces the size limit.
func encodeData(data map[string]any, maxSize int) ([]byte, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, logical.InvalidRequest("secret data cannot be encoded as JSON")
	}
	if err := checkSize(b, maxSize); err != nil {
		return nil, err
	}
	return b, nil
}
