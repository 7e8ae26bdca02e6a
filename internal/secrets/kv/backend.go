package kv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/logical"
)

// DefaultMaxValueSize is the largest encoded secret a write may store unless
// the mount sets max_value_size.
const DefaultMaxValueSize = 1 << 20

// Mount options read from BackendConfig.Config.
const (
	optVersion      = "version"
	optMaxValueSize = "max_value_size"
)

// errNotFound is returned with a response body for deleted or destroyed
// versions (see the package doc).
var errNotFound = logical.Errorf(logical.ErrNotFound, "secret version is deleted or destroyed")

// Factory builds a KV backend for one mount. conf.Config["version"] selects
// "1" (default) or "2"; conf.Config["max_value_size"] caps the encoded size
// of a secret in bytes (default DefaultMaxValueSize).
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, errors.New("kv: nil backend config")
	}
	maxSize, err := parseMaxValueSize(conf.Config[optMaxValueSize])
	if err != nil {
		return nil, err
	}
	switch v := conf.Config[optVersion]; v {
	case "", "1":
		return newPassthrough(conf.System, maxSize), nil
	case "2":
		return newVersioned(maxSize), nil
	default:
		return nil, logical.InvalidRequest("kv: unsupported version %q: must be 1 or 2", v)
	}
}

func parseMaxValueSize(s string) (int, error) {
	if s == "" {
		return DefaultMaxValueSize, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return 0, logical.InvalidRequest("kv: max_value_size must be a positive number of bytes, got %q", s)
	}
	return n, nil
}

// checkSize rejects an encoded secret larger than max.
func checkSize(encoded []byte, max int) error {
	if len(encoded) > max {
		return logical.Errorf(logical.ErrTooLarge,
			"secret data is %d bytes, larger than this mount's max_value_size of %d bytes", len(encoded), max)
	}
	return nil
}

// validatePath checks a secret path taken from the request path. It must be
// valid UTF-8 and contain no ".." segment; empty is checked by callers that
// need a name, since some operations (list) accept the root.
func validatePath(p string) error {
	if !utf8.ValidString(p) {
		return logical.InvalidRequest("invalid secret path: not valid UTF-8")
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return logical.InvalidRequest("invalid secret path: must not contain a \"..\" segment")
		}
	}
	return nil
}

// pathField returns the "path" capture of a request and validates it.
func pathField(d *logical.FieldData) (string, error) {
	p, _ := d.Get("path").(string)
	return p, validatePath(p)
}

// keyLocks is a fixed set of mutexes; a secret path always maps to the same
// stripe. Distinct secrets may share a stripe, which only costs contention.
type keyLocks [256]sync.Mutex

func (l *keyLocks) lock(key string) func() {
	// FNV-1a, inlined so locking allocates nothing.
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	m := &l[h%uint32(len(l))]
	m.Lock()
	return m.Unlock
}

// formatTime renders unix nanoseconds as Vault does (RFC 3339, nanoseconds,
// UTC); zero is the empty string.
func formatTime(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// optional reads a field that may be absent, converted to T by the schema.
// A null value counts as absent.
func optional[T any](d *logical.FieldData, name string) (T, bool, error) {
	var zero T
	v, ok, err := d.GetOk(name)
	if err != nil || !ok {
		return zero, false, err
	}
	t, isT := v.(T)
	if !isT {
		return zero, false, fmt.Errorf("kv: field %q converted to %T", name, v)
	}
	return t, true, nil
}

// setting reads a setting of a metadata or config write. As in Vault, a
// setting sent as null is sent with its zero value (the official client's
// PutMetadata sends every setting, null custom_metadata meaning none).
func setting[T any](d *logical.FieldData, name string) (T, bool, error) {
	if raw, sent := d.Raw[name]; sent && raw == nil {
		var zero T
		return zero, true, nil
	}
	return optional[T](d, name)
}
