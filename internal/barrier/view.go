package barrier

import (
	"context"
	"fmt"
	"strings"

	"github.com/kinko-dev/kinko/internal/storage"
)

var (
	_ storage.Backend       = (*View)(nil)
	_ storage.Transactional = (*View)(nil)
)

// View is a storage.Backend confined to the keys under a prefix of another
// backend: callers use keys relative to the prefix and see only those.
// Keys and list prefixes with a ".." segment are rejected with
// storage.ErrKeyInvalid. A View is safe for concurrent use when its
// underlying backend is.
type View struct {
	s      storage.Backend
	prefix string
}

// NewView returns a view of s under prefix. The prefix is prepended
// verbatim, so it normally ends in "/".
func NewView(s storage.Backend, prefix string) *View {
	if v, ok := s.(*View); ok {
		return &View{s: v.s, prefix: v.prefix + prefix}
	}
	return &View{s: s, prefix: prefix}
}

// Prefix returns the full prefix of the view in the underlying backend.
func (v *View) Prefix() string { return v.prefix }

// Get reads key relative to the view.
func (v *View) Get(ctx context.Context, key string) (*storage.Entry, error) {
	if err := checkRelative(key, false); err != nil {
		return nil, err
	}
	e, err := v.s.Get(ctx, v.prefix+key)
	if err != nil || e == nil {
		return nil, err
	}
	return &storage.Entry{Key: key, Value: e.Value}, nil
}

// Put writes e.Value at e.Key relative to the view.
func (v *View) Put(ctx context.Context, e *storage.Entry) error {
	if e == nil {
		return storage.ValidateKey("")
	}
	if err := checkRelative(e.Key, false); err != nil {
		return err
	}
	return v.s.Put(ctx, &storage.Entry{Key: v.prefix + e.Key, Value: e.Value})
}

// Delete removes key relative to the view.
func (v *View) Delete(ctx context.Context, key string) error {
	if err := checkRelative(key, false); err != nil {
		return err
	}
	return v.s.Delete(ctx, v.prefix+key)
}

// List lists the children of prefix relative to the view; "" lists the
// view's root.
func (v *View) List(ctx context.Context, prefix string) ([]string, error) {
	if err := checkRelative(prefix, true); err != nil {
		return nil, err
	}
	return v.s.List(ctx, v.prefix+prefix)
}

// Transaction applies ops, with keys relative to the view, atomically. It
// returns storage.ErrNotTransactional when the underlying backend cannot.
func (v *View) Transaction(ctx context.Context, ops []storage.Op) error {
	tx, ok := v.s.(storage.Transactional)
	if !ok {
		return storage.ErrNotTransactional
	}
	if err := storage.ValidateOps(ops); err != nil {
		return err
	}
	out := make([]storage.Op, len(ops))
	for i, op := range ops {
		if err := checkRelative(op.Entry.Key, false); err != nil {
			return err
		}
		out[i] = storage.Op{Kind: op.Kind, Entry: &storage.Entry{Key: v.prefix + op.Entry.Key, Value: op.Entry.Value}}
	}
	return tx.Transaction(ctx, out)
}

// checkRelative rejects keys with a ".." segment, and empty keys unless
// allowEmpty (list prefixes may be empty).
func checkRelative(key string, allowEmpty bool) error {
	if key == "" && allowEmpty {
		return nil
	}
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == ".." {
			return fmt.Errorf("%w: %q has a \"..\" segment", storage.ErrKeyInvalid, key)
		}
	}
	return nil
}
