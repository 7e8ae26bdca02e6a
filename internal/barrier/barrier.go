// Package barrier is the encryption barrier: everything kinko writes to a
// physical storage backend passes through it and is stored as AES-256-GCM
// ciphertext.
//
// It owns the keyring: numbered key terms, one of them active for new
// writes, all of them able to decrypt. The keyring itself is stored at
// "core/keyring", encrypted under the root key, which the barrier keeps in
// memory only while unsealed. Storage is untrusted.
//
// Invariants:
//   - A stored blob is: version (1 byte) | key term (4 bytes, big-endian) |
//     random nonce (12 bytes) | GCM ciphertext and tag. The full physical key
//     is the additional data, so a blob moved to another key, truncated or
//     altered fails to decrypt with ErrTampered; it never yields wrong data.
//   - The keyring is written in a single Put, so a crash during Rotate leaves
//     either the old or the new keyring, both valid.
//   - While sealed, every storage operation returns ErrSealed and no key
//     material is held: Seal zeroes the key buffers.
//   - Nonces are random; Encryptions in KeyStatus counts uses of the active
//     term so callers can rotate well before the GCM limit of 2^32.
//
// Concurrency: all methods are safe for concurrent use. Get, Put, Delete,
// List and Transaction read an immutable keyring snapshot without locking;
// Initialize, Unseal, Seal and Rotate are serialised with one mutex. An
// operation that started before Seal may still complete after it.
package barrier

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/internal/storage"
)

var (
	_ storage.Backend       = (*Barrier)(nil)
	_ storage.Transactional = (*Barrier)(nil)
)

// Errors returned by the barrier.
var (
	ErrSealed             = errors.New("barrier: sealed")
	ErrInvalidKey         = errors.New("barrier: invalid root key")
	ErrAlreadyInitialized = errors.New("barrier: already initialized")
	ErrNotInitialized     = errors.New("barrier: not initialized")
	ErrTampered           = errors.New("barrier: stored value failed authentication")
)

// KeyStatus describes the active key term.
type KeyStatus struct {
	Term        uint32
	InstallTime time.Time
	// Encryptions counts writes under this term since it was loaded or
	// created by this process.
	Encryptions uint64
}

// Barrier encrypts values on their way to a physical backend and decrypts
// them on the way back. Create it with New; it starts sealed.
type Barrier struct {
	phys      storage.Backend
	lifecycle sync.Mutex              // serialises Initialize, Unseal, Seal, Rotate
	kr        atomic.Pointer[keyring] // nil while sealed
	now       func() time.Time
}

// New returns a sealed barrier over phys.
func New(phys storage.Backend) *Barrier {
	return &Barrier{phys: phys, now: time.Now}
}

// GenerateKey returns a new random 32-byte root key.
func GenerateKey() ([]byte, error) {
	return randomKey(), nil
}

// Initialized reports whether a keyring exists in physical storage.
func (b *Barrier) Initialized(ctx context.Context) (bool, error) {
	e, err := b.phys.Get(ctx, keyringPath)
	if err != nil {
		return false, fmt.Errorf("barrier: read keyring: %w", err)
	}
	return e != nil, nil
}

// Initialize creates a keyring with term 1 and stores it encrypted under
// rootKey. The barrier stays sealed; call Unseal next.
func (b *Barrier) Initialize(ctx context.Context, rootKey []byte) error {
	b.lifecycle.Lock()
	defer b.lifecycle.Unlock()
	empty, err := newKeyring(rootKey)
	if err != nil {
		return err
	}
	defer empty.wipe()
	ok, err := b.Initialized(ctx)
	if err != nil {
		return err
	}
	if ok {
		return ErrAlreadyInitialized
	}
	kr, err := empty.withNewTerm(b.now().UTC())
	if err != nil {
		return err
	}
	defer kr.wipe()
	return b.writeKeyring(ctx, kr)
}

// Unseal loads the keyring with rootKey. A wrong key returns ErrInvalidKey.
// Unsealing an unsealed barrier is a no-op.
func (b *Barrier) Unseal(ctx context.Context, rootKey []byte) error {
	b.lifecycle.Lock()
	defer b.lifecycle.Unlock()
	if b.kr.Load() != nil {
		return nil
	}
	e, err := b.phys.Get(ctx, keyringPath)
	if err != nil {
		return fmt.Errorf("barrier: read keyring: %w", err)
	}
	if e == nil {
		return ErrNotInitialized
	}
	kr, err := openKeyring(rootKey, e.Value)
	if err != nil {
		return err
	}
	b.kr.Store(kr)
	return nil
}

// Seal forgets the keyring and zeroes its key buffers.
func (b *Barrier) Seal() {
	b.lifecycle.Lock()
	defer b.lifecycle.Unlock()
	if kr := b.kr.Swap(nil); kr != nil {
		kr.wipe()
	}
}

// Sealed reports whether the barrier is sealed.
func (b *Barrier) Sealed() bool {
	return b.kr.Load() == nil
}

// Rotate adds a new key term and makes it active. Older terms keep
// decrypting what they wrote. The new keyring is persisted in one Put
// before it is used.
func (b *Barrier) Rotate(ctx context.Context) (uint32, error) {
	b.lifecycle.Lock()
	defer b.lifecycle.Unlock()
	kr := b.kr.Load()
	if kr == nil {
		return 0, ErrSealed
	}
	next, err := kr.withNewTerm(b.now().UTC())
	if err != nil {
		return 0, err
	}
	if err := b.writeKeyring(ctx, next); err != nil {
		clear(next.active.key)
		return 0, err
	}
	b.kr.Store(next)
	return next.active.term, nil
}

// KeyStatus describes the active term.
func (b *Barrier) KeyStatus() (KeyStatus, error) {
	kr := b.kr.Load()
	if kr == nil {
		return KeyStatus{}, ErrSealed
	}
	return KeyStatus{
		Term:        kr.active.term,
		InstallTime: kr.active.installed,
		Encryptions: kr.active.encryptions.Load(),
	}, nil
}

func (b *Barrier) writeKeyring(ctx context.Context, kr *keyring) error {
	if err := b.phys.Put(ctx, &storage.Entry{Key: keyringPath, Value: kr.seal()}); err != nil {
		return fmt.Errorf("barrier: write keyring: %w", err)
	}
	return nil
}
