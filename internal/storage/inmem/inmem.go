// Package inmem is an in-memory storage.Backend for tests and dev mode.
//
// It owns nothing but a map guarded by one RWMutex. Values are copied on the
// way in and on the way out, so callers never share buffers with the store.
// Durability is trivially satisfied: data lives until the process exits.
// All methods are safe for concurrent use; Transaction is atomic with respect
// to every other method.
package inmem

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/kinko-dev/kinko/internal/storage"
)

var (
	_ storage.Backend       = (*Backend)(nil)
	_ storage.Transactional = (*Backend)(nil)
)

// Backend is an in-memory storage backend. The zero value is not usable;
// call New.
type Backend struct {
	mu   sync.RWMutex
	data map[string][]byte
}

// New returns an empty in-memory backend.
func New() *Backend {
	return &Backend{data: make(map[string][]byte)}
}

// Get returns a copy of the entry at key, or nil, nil when absent.
func (b *Backend) Get(ctx context.Context, key string) (*storage.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	b.mu.RLock()
	v, ok := b.data[key]
	b.mu.RUnlock()
	if !ok {
		return nil, nil
	}
	return &storage.Entry{Key: key, Value: storage.CloneBytes(v)}, nil
}

// Put stores a copy of e.Value at e.Key.
func (b *Backend) Put(ctx context.Context, e *storage.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e == nil {
		return storage.ValidateKey("")
	}
	if err := storage.ValidateKey(e.Key); err != nil {
		return err
	}
	v := cloneValue(e.Value)
	b.mu.Lock()
	b.data[e.Key] = v
	b.mu.Unlock()
	return nil
}

// Delete removes key; deleting an absent key is not an error.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	b.mu.Lock()
	delete(b.data, key)
	b.mu.Unlock()
	return nil
}

// List returns the immediate children of prefix, sorted, folders with a
// trailing "/".
func (b *Backend) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	keys := make([]string, 0, 16)
	for k := range b.data {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	b.mu.RUnlock()
	sort.Strings(keys)
	return storage.ChildrenOf(prefix, keys), nil
}

// Transaction applies ops atomically: every operation is validated first,
// then all are applied under one lock.
func (b *Backend) Transaction(ctx context.Context, ops []storage.Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateOps(ops); err != nil {
		return err
	}
	vals := make([][]byte, len(ops))
	for i, op := range ops {
		if op.Kind == storage.OpPut {
			vals[i] = cloneValue(op.Entry.Value)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, op := range ops {
		switch op.Kind {
		case storage.OpPut:
			b.data[op.Entry.Key] = vals[i]
		case storage.OpDelete:
			delete(b.data, op.Entry.Key)
		}
	}
	return nil
}

// cloneValue copies v and never returns nil, so a stored empty value reads
// back as an empty, non-nil slice.
func cloneValue(v []byte) []byte {
	out := make([]byte, len(v))
	copy(out, v)
	return out
}
