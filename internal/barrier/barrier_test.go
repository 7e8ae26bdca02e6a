package barrier

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/storage/bolt"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/storage/storagetest"
)

// unsealed returns an initialised, unsealed barrier over phys and its root key.
func unsealed(t testing.TB, phys storage.Backend) (*Barrier, []byte) {
	t.Helper()
	ctx := context.Background()
	root, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b := New(phys)
	if err := b.Initialize(ctx, root); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if !b.Sealed() {
		t.Fatal("barrier unsealed itself after Initialize")
	}
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	return b, root
}

func put(t testing.TB, s storage.Backend, key, val string) {
	t.Helper()
	if err := s.Put(context.Background(), &storage.Entry{Key: key, Value: []byte(val)}); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func wantGet(t testing.TB, s storage.Backend, key, val string) {
	t.Helper()
	e, err := s.Get(context.Background(), key)
	if err != nil || e == nil || string(e.Value) != val {
		t.Fatalf("Get(%q) = %v, %v; want %q", key, e, err, val)
	}
}

func openBolt(t testing.TB, path string) *bolt.Backend {
	t.Helper()
	be, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = be.Close() })
	return be
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		mk   func(t *testing.T) storage.Backend
	}{
		{"barrier over inmem", func(t *testing.T) storage.Backend {
			b, _ := unsealed(t, inmem.New())
			return NewView(b, "data/")
		}},
		{"barrier over bolt", func(t *testing.T) storage.Backend {
			b, _ := unsealed(t, openBolt(t, filepath.Join(t.TempDir(), "k.db")))
			return NewView(b, "data/")
		}},
		{"view over inmem", func(*testing.T) storage.Backend { return NewView(inmem.New(), "mount/x/") }},
		{"nested view", func(*testing.T) storage.Backend { return NewView(NewView(inmem.New(), "a/"), "b/") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { storagetest.Suite(t, tc.mk(t)) })
	}
}

func TestNoPlaintextOnDisk(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kinko.db")
	be := openBolt(t, path)
	b, root := unsealed(t, be)
	canary := "kinko-canary-7f3a9c-super-secret-value"
	put(t, b, "secret/plain", canary)
	put(t, b, "secret/big", string(bytes.Repeat([]byte(canary), 200)))
	err := b.Transaction(ctx, []storage.Op{{Kind: storage.OpPut, Entry: &storage.Entry{Key: "secret/tx", Value: []byte(canary)}}})
	if err != nil {
		t.Fatal(err)
	}
	b.Seal()
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("secret/plain")) {
		t.Fatal("key not found in the file: the test is not looking at the right bytes")
	}
	for _, needle := range [][]byte{[]byte(canary), []byte(canary[:16]), root} {
		if bytes.Contains(raw, needle) {
			t.Fatalf("bolt file contains plaintext %q", needle)
		}
	}
	b2 := New(openBolt(t, path))
	if err := b2.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	wantGet(t, b2, "secret/plain", canary)
	wantGet(t, b2, "secret/tx", canary)
}

func TestTampering(t *testing.T) {
	ctx := context.Background()
	phys := inmem.New()
	b, _ := unsealed(t, phys)
	put(t, b, "k", "some secret value")
	orig, err := phys.Get(ctx, "k")
	if err != nil || orig == nil {
		t.Fatal(err)
	}
	n := len(orig.Value)
	tests := []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"version", func(v []byte) []byte { v[0] ^= 1; return v }},
		{"term", func(v []byte) []byte { v[4] ^= 1; return v }},
		{"nonce", func(v []byte) []byte { v[5] ^= 0x80; return v }},
		{"ciphertext", func(v []byte) []byte { v[headerLen] ^= 1; return v }},
		{"tag", func(v []byte) []byte { v[n-1] ^= 1; return v }},
		{"truncated", func(v []byte) []byte { return v[:n-1] }},
		{"header only", func(v []byte) []byte { return v[:headerLen] }},
		{"too short", func(v []byte) []byte { return v[:3] }},
		{"empty", func([]byte) []byte { return nil }},
		{"extended", func(v []byte) []byte { return append(v, 0) }},
	}
	for _, tc := range tests {
		put(t, phys, "k", string(tc.mutate(bytes.Clone(orig.Value))))
		if e, err := b.Get(ctx, "k"); !errors.Is(err, ErrTampered) || e != nil {
			t.Errorf("%s: Get = %v, %v; want ErrTampered", tc.name, e, err)
		}
	}
	// The blob moved to another key does not decrypt either.
	put(t, phys, "other", string(orig.Value))
	if _, err := b.Get(ctx, "other"); !errors.Is(err, ErrTampered) {
		t.Errorf("blob copied to another key: %v, want ErrTampered", err)
	}
	put(t, phys, "k", string(orig.Value))
	wantGet(t, b, "k", "some secret value")
}

func TestLifecycleErrors(t *testing.T) {
	ctx := context.Background()
	phys := inmem.New()
	b := New(phys)
	if ok, err := b.Initialized(ctx); ok || err != nil {
		t.Fatalf("Initialized on empty storage = %v, %v", ok, err)
	}
	root, _ := GenerateKey()
	if err := b.Unseal(ctx, root); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("Unseal before Initialize: %v, want ErrNotInitialized", err)
	}
	if err := b.Initialize(ctx, root[:16]); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Initialize with a short key: %v, want ErrInvalidKey", err)
	}
	if err := b.Initialize(ctx, root); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Initialized(ctx); !ok || err != nil {
		t.Fatalf("Initialized after Initialize = %v, %v", ok, err)
	}
	if err := b.Initialize(ctx, root); !errors.Is(err, ErrAlreadyInitialized) {
		t.Errorf("second Initialize: %v, want ErrAlreadyInitialized", err)
	}
	wrong, _ := GenerateKey()
	for name, key := range map[string][]byte{"wrong": wrong, "short": root[:31], "empty": nil} {
		if err := b.Unseal(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Unseal with %s key: %v, want ErrInvalidKey", name, err)
		}
		if !b.Sealed() {
			t.Fatalf("Unseal with %s key unsealed the barrier", name)
		}
	}
	if err := b.Unseal(ctx, root); err != nil || b.Sealed() {
		t.Fatalf("Unseal with the right key: %v", err)
	}
	if err := b.Unseal(ctx, root); err != nil {
		t.Errorf("Unseal when unsealed: %v, want nil", err)
	}
}

func TestSealedRefusesEverything(t *testing.T) {
	ctx := context.Background()
	b, _ := unsealed(t, inmem.New())
	put(t, b, "k", "v")
	kr := b.kr.Load()
	b.Seal()
	if !b.Sealed() {
		t.Fatal("Sealed() = false after Seal")
	}
	if !bytes.Equal(kr.rootKey, make([]byte, keyLen)) || !bytes.Equal(kr.active.key, make([]byte, keyLen)) {
		t.Error("Seal left key material in memory")
	}
	_, getErr := b.Get(ctx, "k")
	_, listErr := b.List(ctx, "")
	_, rotErr := b.Rotate(ctx)
	_, statErr := b.KeyStatus()
	errs := map[string]error{
		"Get":         getErr,
		"Put":         b.Put(ctx, &storage.Entry{Key: "k", Value: []byte("v")}),
		"Delete":      b.Delete(ctx, "k"),
		"List":        listErr,
		"Transaction": b.Transaction(ctx, []storage.Op{{Kind: storage.OpDelete, Entry: &storage.Entry{Key: "k"}}}),
		"Rotate":      rotErr,
		"KeyStatus":   statErr,
	}
	for name, err := range errs {
		if !errors.Is(err, ErrSealed) {
			t.Errorf("%s while sealed: %v, want ErrSealed", name, err)
		}
	}
	b.Seal() // sealing twice is harmless
}

// blobTerm reads the key term from a physical blob.
func blobTerm(t *testing.T, phys storage.Backend, key string) uint32 {
	t.Helper()
	e, err := phys.Get(context.Background(), key)
	if err != nil || e == nil || len(e.Value) < headerLen {
		t.Fatalf("physical Get(%q) = %v, %v", key, e, err)
	}
	return binary.BigEndian.Uint32(e.Value[1:5])
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	phys := inmem.New()
	b, root := unsealed(t, phys)
	put(t, b, "old", "written under term 1")
	st, err := b.KeyStatus()
	if err != nil || st.Term != 1 || st.Encryptions != 1 || st.InstallTime.IsZero() {
		t.Fatalf("KeyStatus before rotation = %+v, %v", st, err)
	}
	for want := uint32(2); want <= 3; want++ {
		term, err := b.Rotate(ctx)
		if err != nil || term != want {
			t.Fatalf("Rotate = %d, %v; want %d", term, err, want)
		}
	}
	put(t, b, "new", "written under term 3")
	if got := blobTerm(t, phys, "old"); got != 1 {
		t.Errorf("old blob term = %d, want 1", got)
	}
	if got := blobTerm(t, phys, "new"); got != 3 {
		t.Errorf("new blob term = %d, want 3", got)
	}
	st, _ = b.KeyStatus()
	if st.Term != 3 || st.Encryptions != 1 {
		t.Errorf("KeyStatus after rotation = %+v, want term 3 with 1 encryption", st)
	}
	// The rotated keyring was persisted: a fresh unseal sees every term.
	b.Seal()
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	wantGet(t, b, "old", "written under term 1")
	wantGet(t, b, "new", "written under term 3")
	if st, _ := b.KeyStatus(); st.Term != 3 {
		t.Errorf("term after re-unseal = %d, want 3", st.Term)
	}
}

func TestConcurrentRotateAndIO(t *testing.T) {
	ctx := context.Background()
	b, _ := unsealed(t, inmem.New())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k := fmt.Sprintf("w%d/%d", w, i)
				if err := b.Put(ctx, &storage.Entry{Key: k, Value: []byte(k)}); err != nil {
					t.Error(err)
					return
				}
				if e, err := b.Get(ctx, k); err != nil || e == nil || string(e.Value) != k {
					t.Errorf("Get(%q) = %v, %v", k, e, err)
					return
				}
			}
		}()
	}
	for range 10 {
		if _, err := b.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if st, _ := b.KeyStatus(); st.Term != 11 {
		t.Errorf("term = %d, want 11", st.Term)
	}
}

func TestViewRejectsDotDot(t *testing.T) {
	ctx := context.Background()
	v := NewView(inmem.New(), "mount/")
	for _, key := range []string{"..", "../x", "a/../b", "a/..", ""} {
		if _, err := v.Get(ctx, key); !errors.Is(err, storage.ErrKeyInvalid) {
			t.Errorf("Get(%q): %v, want ErrKeyInvalid", key, err)
		}
		if err := v.Put(ctx, &storage.Entry{Key: key}); !errors.Is(err, storage.ErrKeyInvalid) {
			t.Errorf("Put(%q): %v, want ErrKeyInvalid", key, err)
		}
		if err := v.Delete(ctx, key); !errors.Is(err, storage.ErrKeyInvalid) {
			t.Errorf("Delete(%q): %v, want ErrKeyInvalid", key, err)
		}
		err := v.Transaction(ctx, []storage.Op{{Kind: storage.OpDelete, Entry: &storage.Entry{Key: key}}})
		if !errors.Is(err, storage.ErrKeyInvalid) {
			t.Errorf("Transaction(%q): %v, want ErrKeyInvalid", key, err)
		}
	}
	if _, err := v.List(ctx, "a/../"); !errors.Is(err, storage.ErrKeyInvalid) {
		t.Errorf("List(a/../): %v, want ErrKeyInvalid", err)
	}
	for _, ok := range []string{"a..b", "...", "a/.../b", ".hidden"} {
		if err := v.Put(ctx, &storage.Entry{Key: ok}); err != nil {
			t.Errorf("Put(%q): %v, want success", ok, err)
		}
	}
}

func TestViewScopesKeys(t *testing.T) {
	ctx := context.Background()
	phys := inmem.New()
	v := NewView(phys, "mount/")
	put(t, v, "a", "1")
	put(t, phys, "other/b", "2")
	wantGet(t, phys, "mount/a", "1")
	e, err := v.Get(ctx, "a")
	if err != nil || e.Key != "a" {
		t.Errorf("view Get key = %v, %v; want relative key", e, err)
	}
	if got, _ := v.List(ctx, ""); len(got) != 1 || got[0] != "a" {
		t.Errorf("view List = %q, want [a]", got)
	}
	if got := NewView(v, "sub/").Prefix(); got != "mount/sub/" {
		t.Errorf("nested prefix = %q", got)
	}
}

// plainBackend hides the Transactional method of inmem.
type plainBackend struct{ storage.Backend }

func TestNotTransactional(t *testing.T) {
	ctx := context.Background()
	b, _ := unsealed(t, plainBackend{inmem.New()})
	ops := []storage.Op{{Kind: storage.OpDelete, Entry: &storage.Entry{Key: "k"}}}
	if err := b.Transaction(ctx, ops); !errors.Is(err, storage.ErrNotTransactional) {
		t.Errorf("barrier Transaction: %v, want ErrNotTransactional", err)
	}
	if err := NewView(plainBackend{inmem.New()}, "p/").Transaction(ctx, ops); !errors.Is(err, storage.ErrNotTransactional) {
		t.Errorf("view Transaction: %v, want ErrNotTransactional", err)
	}
}
