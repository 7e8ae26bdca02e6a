package storage

import (
	"context"
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

// Apply runs ops on b atomically when b is Transactional, else one by
// one in order (callers order them so that a crash between two leaves a
// state they can recover from: index entries before records on write,
// records before index entries on delete).
func Apply(ctx context.Context, b Backend, ops []Op) error {
	if len(ops) > 1 {
		if tx, ok := b.(Transactional); ok {
			err := tx.Transaction(ctx, ops)
			if !errors.Is(err, ErrNotTransactional) {
				return err
			}
		}
	}
	for _, op := range ops {
		var err error
		if op.Kind == OpDelete {
			err = b.Delete(ctx, op.Entry.Key)
		} else {
			err = b.Put(ctx, op.Entry)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
