package storage

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrNotTransactional is returned by the Transaction method of a wrapper
// (a barrier or a view) whose underlying backend does not implement
// Transactional.
var ErrNotTransactional = errors.New("storage: backend does not support transactions")

// ValidateKey reports ErrKeyInvalid for an empty key or one that is not
// valid UTF-8. Backends call it before touching their store.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrKeyInvalid)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: key is not valid UTF-8", ErrKeyInvalid)
	}
	return nil
}

// ValidateOps checks every operation of a transaction: a known kind, a
// non-nil entry and a valid key. It does not look at values.
func ValidateOps(ops []Op) error {
	for i, op := range ops {
		if op.Entry == nil {
			return fmt.Errorf("%w: operation %d has no entry", ErrKeyInvalid, i)
		}
		if op.Kind != OpPut && op.Kind != OpDelete {
			return fmt.Errorf("storage: operation %d has unknown kind %d", i, op.Kind)
		}
		if err := ValidateKey(op.Entry.Key); err != nil {
			return err
		}
	}
	return nil
}

// CloneBytes returns a copy of b that shares no memory with it; nil stays
// nil. Backends use it so callers never alias their internal buffers.
func CloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	out := make([]byte, len(b))
	copy(out, b)
	return out
}
