package barrier

import (
	"context"
	"fmt"

	"github.com/kinko-dev/kinko/internal/storage"
)

// Get reads and decrypts key. It returns nil, nil when absent and
// ErrTampered when the stored blob does not authenticate.
func (b *Barrier) Get(ctx context.Context, key string) (*storage.Entry, error) {
	kr := b.kr.Load()
	if kr == nil {
		return nil, ErrSealed
	}
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	e, err := b.phys.Get(ctx, key)
	if err != nil || e == nil {
		return nil, err
	}
	pt, err := kr.decrypt(key, e.Value)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", key, err)
	}
	return &storage.Entry{Key: key, Value: pt}, nil
}

// Put encrypts e.Value under the active term and writes it at e.Key.
func (b *Barrier) Put(ctx context.Context, e *storage.Entry) error {
	kr := b.kr.Load()
	if kr == nil {
		return ErrSealed
	}
	if e == nil {
		return storage.ValidateKey("")
	}
	if err := storage.ValidateKey(e.Key); err != nil {
		return err
	}
	return b.phys.Put(ctx, &storage.Entry{Key: e.Key, Value: kr.encrypt(e.Key, e.Value)})
}

// Delete removes key.
func (b *Barrier) Delete(ctx context.Context, key string) error {
	if b.kr.Load() == nil {
		return ErrSealed
	}
	return b.phys.Delete(ctx, key)
}

// List lists the children of prefix. Keys are not encrypted, only values.
func (b *Barrier) List(ctx context.Context, prefix string) ([]string, error) {
	if b.kr.Load() == nil {
		return nil, ErrSealed
	}
	return b.phys.List(ctx, prefix)
}

// Transaction encrypts every put and applies ops atomically. It returns
// storage.ErrNotTransactional when the physical backend cannot.
func (b *Barrier) Transaction(ctx context.Context, ops []storage.Op) error {
	kr := b.kr.Load()
	if kr == nil {
		return ErrSealed
	}
	tx, ok := b.phys.(storage.Transactional)
	if !ok {
		return storage.ErrNotTransactional
	}
	if err := storage.ValidateOps(ops); err != nil {
		return err
	}
	enc := make([]storage.Op, len(ops))
	for i, op := range ops {
		enc[i] = storage.Op{Kind: op.Kind, Entry: &storage.Entry{Key: op.Entry.Key}}
		if op.Kind == storage.OpPut {
			enc[i].Entry.Value = kr.encrypt(op.Entry.Key, op.Entry.Value)
		}
	}
	return tx.Transaction(ctx, enc)
}

// encrypt seals plaintext for path under the active term and counts it.
func (kr *keyring) encrypt(path string, plaintext []byte) []byte {
	kr.active.encryptions.Add(1)
	return encrypt(kr.active.aead, kr.active.term, path, plaintext)
}
