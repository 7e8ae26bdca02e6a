// Package storage defines the physical storage contract every backend
// (bolt, inmem, and later raft and postgres) implements.
//
// Everything stored through a Backend by kinko is ciphertext produced by the
// barrier; backends never see plaintext and must not interpret values.
//
// Invariants:
//   - Put, Delete and Transaction are durable when they return nil: the data
//     has been fsync'd (or replicated) and survives a crash.
//   - Get returns (nil, nil) for an absent key.
//   - List returns the immediate children of prefix, sorted; a child that has
//     children of its own is returned once with a trailing "/".
//   - All methods are safe for concurrent use.
package storage

import (
	"context"
	"errors"
	"sort"
	"strings"
)

// Entry is one key and its opaque value.
type Entry struct {
	Key   string
	Value []byte
}

// Backend is the minimal contract of a storage backend.
type Backend interface {
	Get(ctx context.Context, key string) (*Entry, error)
	Put(ctx context.Context, e *Entry) error
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix string) ([]string, error)
}

// OpKind is the kind of one operation inside a transaction.
type OpKind int

// Operation kinds for Transaction.
const (
	OpPut OpKind = iota + 1
	OpDelete
)

// Op is one operation of a transaction.
type Op struct {
	Kind  OpKind
	Entry *Entry // Key always set; Value set for OpPut
}

// Transactional is implemented by backends that can apply several
// operations atomically: all of them or none.
type Transactional interface {
	Transaction(ctx context.Context, ops []Op) error
}

// ErrKeyInvalid is returned for an empty key or one that is not valid UTF-8.
var ErrKeyInvalid = errors.New("storage: invalid key")

// ChildrenOf turns a sorted list of full keys that all start with prefix into
// the List result: immediate children, folders suffixed with "/", deduplicated.
// Backends use it so their List semantics are identical.
func ChildrenOf(prefix string, keys []string) []string {
	out := make([]string, 0, len(keys))
	last := ""
	for _, k := range keys {
		rest := strings.TrimPrefix(k, prefix)
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i+1]
		}
		if rest == "" || rest == last {
			continue
		}
		out = append(out, rest)
		last = rest
	}
	sort.Strings(out)
	// sorting may bring duplicates together that were apart ("a/" vs "a.b")
	uniq := out[:0]
	for i, s := range out {
		if i == 0 || s != out[i-1] {
			uniq = append(uniq, s)
		}
	}
	return uniq
}
