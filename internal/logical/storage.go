package logical

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kinko-dev/kinko/internal/storage"
)

// Storage is the view a backend reads and writes: same contract as a
// physical backend, but scoped to the mount and encrypted by the barrier.
// Views may also implement storage.Transactional.
type Storage = storage.Backend

// StorageEntry is one key/value in a Storage.
type StorageEntry = storage.Entry

// GetJSON reads key and decodes it into v. It reports whether the key existed.
func GetJSON(ctx context.Context, s Storage, key string, v any) (bool, error) {
	e, err := s.Get(ctx, key)
	if err != nil {
		return false, err
	}
	if e == nil {
		return false, nil
	}
	if err := json.Unmarshal(e.Value, v); err != nil {
		return false, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}

// PutJSON encodes v and writes it at key.
func PutJSON(ctx context.Context, s Storage, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return s.Put(ctx, &StorageEntry{Key: key, Value: b})
}

// ScanKeys lists every key under prefix, recursively, calling fn for each
// full key (folders are descended into, not reported).
func ScanKeys(ctx context.Context, s Storage, prefix string, fn func(key string) error) error {
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "/") {
			if err := ScanKeys(ctx, s, prefix+k, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(prefix + k); err != nil {
			return err
		}
	}
	return nil
}

// ClearPrefix deletes every key under prefix.
func ClearPrefix(ctx context.Context, s Storage, prefix string) error {
	return ScanKeys(ctx, s, prefix, func(k string) error { return s.Delete(ctx, k) })
}
