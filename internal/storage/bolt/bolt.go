// Package bolt is the embedded, default storage.Backend: one bbolt file with
// one bucket.
//
// Invariants:
//   - Put, Delete and Transaction return only after the bbolt transaction
//     that holds them has committed and been fsync'd (NoSync is false).
//   - Writes are group-committed: one committer goroutine takes every write
//     waiting for it and applies them in a single bbolt transaction, so N
//     concurrent writers pay for one fsync instead of N. There is no
//     artificial delay; a batch is whatever queued during the previous commit.
//   - A write request that fails never fails the others of its batch: on a
//     batch error every request is retried in its own transaction. Requests
//     only put and delete fixed keys, so re-applying them is idempotent.
//   - Values returned by Get are copied out of the read transaction.
//   - The file is created with mode 0600 and its parent directory with 0700.
//
// Concurrency: all methods are safe for concurrent use. Reads run in bbolt
// read transactions concurrently with the single writer. After Close every
// method returns ErrClosed.
package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/kinko-dev/kinko/internal/storage"
)

var (
	_ storage.Backend       = (*Backend)(nil)
	_ storage.Transactional = (*Backend)(nil)
)

// ErrClosed is returned by every method once Close has been called.
var ErrClosed = errors.New("bolt: backend is closed")

// bucketName is the single bucket that holds every key.
var bucketName = []byte("kinko")

// maxBatch caps how many write requests share one bbolt transaction, which
// bounds the latency a single large batch adds to its members.
const maxBatch = 512

// openTimeout bounds how long Open waits for the file lock held by another
// process before giving up.
const openTimeout = 2 * time.Second

// Backend is a bbolt-backed storage backend. Create it with Open.
type Backend struct {
	db     *bbolt.DB
	reqs   chan *writeReq
	done   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
	once   sync.Once
}

// writeReq is one caller's validated write, waiting for the committer.
type writeReq struct {
	ops  []storage.Op
	errc chan error // buffered, receives exactly one result
}

// Open opens (creating if needed) the bbolt file at path and starts the
// group-commit goroutine. The caller must Close the backend.
func Open(path string) (*Backend, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("bolt: create directory for %q: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:        openTimeout,
		FreelistType:   bbolt.FreelistMapType,
		NoFreelistSync: true, // freelist rebuilt on open; halves write amplification
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: open %q: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketName)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: create bucket in %q: %w", path, err)
	}
	b := &Backend{db: db, reqs: make(chan *writeReq), done: make(chan struct{})}
	b.wg.Add(1)
	go b.committer()
	return b, nil
}

// Close stops accepting writes, waits for the batch in progress and closes
// the file. It is safe to call more than once.
func (b *Backend) Close() error {
	var err error
	b.once.Do(func() {
		b.closed.Store(true)
		close(b.done)
		b.wg.Wait()
		err = b.db.Close()
	})
	return err
}

// Get returns a copy of the value at key, or nil, nil when absent.
func (b *Backend) Get(ctx context.Context, key string) (*storage.Entry, error) {
	if err := b.check(ctx); err != nil {
		return nil, err
	}
	if err := validateKey(key); err != nil {
		return nil, err
	}
	var out *storage.Entry
	err := b.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketName).Get([]byte(key)); v != nil {
			out = &storage.Entry{Key: key, Value: storage.CloneBytes(v)}
		}
		return nil
	})
	if err != nil {
		return nil, b.wrap("get", err)
	}
	return out, nil
}

// Put durably stores e.Value at e.Key.
func (b *Backend) Put(ctx context.Context, e *storage.Entry) error {
	if e == nil {
		return storage.ValidateKey("")
	}
	return b.write(ctx, []storage.Op{{Kind: storage.OpPut, Entry: e}})
}

// Delete durably removes key; deleting an absent key is not an error.
func (b *Backend) Delete(ctx context.Context, key string) error {
	return b.write(ctx, []storage.Op{{Kind: storage.OpDelete, Entry: &storage.Entry{Key: key}}})
}

// Transaction durably applies ops, all or none, in one bbolt transaction.
func (b *Backend) Transaction(ctx context.Context, ops []storage.Op) error {
	if len(ops) == 0 {
		return b.check(ctx)
	}
	return b.write(ctx, ops)
}

// List returns the immediate children of prefix, sorted, folders with a
// trailing "/". It seeks past each folder's subtree, so its cost grows with
// the number of children, not of descendants.
func (b *Backend) List(ctx context.Context, prefix string) ([]string, error) {
	if err := b.check(ctx); err != nil {
		return nil, err
	}
	p := []byte(prefix)
	var keys []string
	err := b.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketName).Cursor()
		k, _ := c.Seek(p)
		for k != nil && bytes.HasPrefix(k, p) {
			i := bytes.IndexByte(k[len(p):], '/')
			if i < 0 {
				keys = append(keys, string(k))
				k, _ = c.Next()
				continue
			}
			folder := k[:len(p)+i+1]
			keys = append(keys, string(folder))
			// '0' is the byte after '/': the first key past the folder's subtree.
			next := append(bytes.Clone(folder[:len(folder)-1]), '0')
			k, _ = c.Seek(next)
		}
		return nil
	})
	if err != nil {
		return nil, b.wrap("list", err)
	}
	return storage.ChildrenOf(prefix, keys), nil
}

// write validates ops, hands them to the committer and waits for the
// outcome. Once handed over, the caller waits even if ctx ends, so the
// returned error always tells whether the write happened.
func (b *Backend) write(ctx context.Context, ops []storage.Op) error {
	if err := b.check(ctx); err != nil {
		return err
	}
	if err := validateOps(ops); err != nil {
		return err
	}
	req := &writeReq{ops: ops, errc: make(chan error, 1)}
	select {
	case b.reqs <- req:
	case <-b.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.errc
}

// committer is the single goroutine that writes: it takes one request, then
// every other request already waiting, and commits them together.
func (b *Backend) committer() {
	defer b.wg.Done()
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		case <-b.done:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		b.commit(batch)
		clear(batch) // drop references to callers' values
	}
}

// commit applies batch in one transaction; if that fails, it retries each
// request alone so that only the failing request sees an error.
func (b *Backend) commit(batch []*writeReq) {
	err := b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketName)
		for _, r := range batch {
			if err := apply(bk, r.ops); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			r.errc <- b.wrap("write", err)
		}
		return
	}
	for _, r := range batch {
		err := b.db.Update(func(tx *bbolt.Tx) error { return apply(tx.Bucket(bucketName), r.ops) })
		r.errc <- b.wrap("write", err)
	}
}

// apply runs ops against bk. Re-running it in a fresh transaction gives the
// same result, which the retry path in commit relies on.
func apply(bk *bbolt.Bucket, ops []storage.Op) error {
	for _, op := range ops {
		var err error
		switch op.Kind {
		case storage.OpPut:
			v := op.Entry.Value
			if v == nil {
				v = []byte{} // stored as empty, still distinct from absent
			}
			err = bk.Put([]byte(op.Entry.Key), v)
		case storage.OpDelete:
			err = bk.Delete([]byte(op.Entry.Key))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// check reports ErrClosed or the context's error before any work starts.
func (b *Backend) check(ctx context.Context) error {
	if b.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// wrap turns a bbolt error into a backend error, mapping a closed database
// to ErrClosed. A nil error stays nil.
func (b *Backend) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if b.closed.Load() || errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return fmt.Errorf("bolt: %s: %w", op, err)
}

func validateKey(key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	if len(key) > bbolt.MaxKeySize {
		return fmt.Errorf("%w: key longer than %d bytes", storage.ErrKeyInvalid, bbolt.MaxKeySize)
	}
	return nil
}

func validateOps(ops []storage.Op) error {
	if err := storage.ValidateOps(ops); err != nil {
		return err
	}
	for _, op := range ops {
		if err := validateKey(op.Entry.Key); err != nil {
			return err
		}
		if len(op.Entry.Value) > bbolt.MaxValueSize {
			return fmt.Errorf("bolt: value for %q larger than %d bytes", op.Entry.Key, bbolt.MaxValueSize)
		}
	}
	return nil
}
