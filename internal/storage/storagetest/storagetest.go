// Package storagetest is the one conformance suite every storage.Backend
// (inmem, bolt, and the barrier and views built on them) must pass.
//
// Suite needs an empty backend and leaves it empty when it passes. It only
// uses the public storage contract, so a backend passing it can be swapped
// for any other without callers noticing.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/kinko-dev/kinko/internal/storage"
)

// Suite runs the conformance tests against b, which must start empty.
// Transaction tests run only when b implements storage.Transactional.
func Suite(t *testing.T, b storage.Backend) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, storage.Backend)
	}{
		{"EmptyBackend", testEmpty},
		{"GetAbsent", testGetAbsent},
		{"PutGetOverwrite", testPutGetOverwrite},
		{"Delete", testDelete},
		{"InvalidKey", testInvalidKey},
		{"List", testList},
		{"ListRoot", testListRoot},
		{"BinaryValues", testBinaryValues},
		{"ValueNotAliased", testValueNotAliased},
		{"ConcurrentPuts", testConcurrentPuts},
		{"Transaction", testTransaction},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

func mustPut(t *testing.T, b storage.Backend, key string, val []byte) {
	t.Helper()
	if err := b.Put(context.Background(), &storage.Entry{Key: key, Value: val}); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, b storage.Backend, key string) *storage.Entry {
	t.Helper()
	e, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return e
}

func mustList(t *testing.T, b storage.Backend, prefix string) []string {
	t.Helper()
	got, err := b.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
}

func mustDelete(t *testing.T, b storage.Backend, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := b.Delete(context.Background(), k); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
	}
}

func wantValue(t *testing.T, b storage.Backend, key string, want []byte) {
	t.Helper()
	e := mustGet(t, b, key)
	if e == nil {
		t.Fatalf("Get(%q) = nil, want %q", key, want)
	}
	if e.Key != key {
		t.Errorf("Get(%q).Key = %q", key, e.Key)
	}
	if !bytes.Equal(e.Value, want) {
		t.Fatalf("Get(%q) = %q, want %q", key, e.Value, want)
	}
}

func wantAbsent(t *testing.T, b storage.Backend, key string) {
	t.Helper()
	if e := mustGet(t, b, key); e != nil {
		t.Fatalf("Get(%q) = %q, want absent", key, e.Value)
	}
}

func testEmpty(t *testing.T, b storage.Backend) {
	if got := mustList(t, b, ""); len(got) != 0 {
		t.Fatalf("List(\"\") on a fresh backend = %q, want empty (Suite needs an empty backend)", got)
	}
}

func testGetAbsent(t *testing.T, b storage.Backend) {
	wantAbsent(t, b, "getabsent/nothing")
	if got := mustList(t, b, "getabsent/"); len(got) != 0 {
		t.Fatalf("List of absent prefix = %q, want empty", got)
	}
}

func testPutGetOverwrite(t *testing.T, b storage.Backend) {
	mustPut(t, b, "pgo/key", []byte("one"))
	wantValue(t, b, "pgo/key", []byte("one"))
	mustPut(t, b, "pgo/key", []byte("two, longer"))
	wantValue(t, b, "pgo/key", []byte("two, longer"))
	mustPut(t, b, "pgo/key", []byte("3"))
	wantValue(t, b, "pgo/key", []byte("3"))
	mustPut(t, b, "pgo/empty", []byte{})
	wantValue(t, b, "pgo/empty", nil)
	mustDelete(t, b, "pgo/key", "pgo/empty")
}

func testDelete(t *testing.T, b storage.Backend) {
	mustPut(t, b, "del/a", []byte("a"))
	mustPut(t, b, "del/b", []byte("b"))
	mustDelete(t, b, "del/a")
	wantAbsent(t, b, "del/a")
	wantValue(t, b, "del/b", []byte("b"))
	mustDelete(t, b, "del/a", "del/never-existed")
	mustDelete(t, b, "del/b")
	if got := mustList(t, b, "del/"); len(got) != 0 {
		t.Fatalf("List after deleting all = %q, want empty", got)
	}
}

func testInvalidKey(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if _, err := b.Get(ctx, ""); !errors.Is(err, storage.ErrKeyInvalid) {
		t.Errorf("Get(\"\") error = %v, want ErrKeyInvalid", err)
	}
	if err := b.Put(ctx, &storage.Entry{Key: "", Value: []byte("x")}); !errors.Is(err, storage.ErrKeyInvalid) {
		t.Errorf("Put(\"\") error = %v, want ErrKeyInvalid", err)
	}
	if err := b.Delete(ctx, ""); !errors.Is(err, storage.ErrKeyInvalid) {
		t.Errorf("Delete(\"\") error = %v, want ErrKeyInvalid", err)
	}
}

func testList(t *testing.T, b storage.Backend) {
	keys := []string{
		"list/z", "list/a/1", "list/a/2", "list/a/deep/x", "list/a.b",
		"list/b", "list/c/", "list/0", "listx/other",
	}
	for _, k := range keys {
		mustPut(t, b, k, []byte(k))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"list/", []string{"0", "a.b", "a/", "b", "c/", "z"}},
		{"list/a/", []string{"1", "2", "deep/"}},
		{"list/a/deep/", []string{"x"}},
		{"list/c/", nil},
		{"list/nope/", nil},
		{"list/a", []string{".b", "/"}},
	}
	for _, tc := range tests {
		got := mustList(t, b, tc.prefix)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	mustDelete(t, b, keys...)
}

func testListRoot(t *testing.T, b storage.Backend) {
	keys := []string{"rootb", "roota/x", "roota/y/z", "rootc"}
	for _, k := range keys {
		mustPut(t, b, k, []byte("v"))
	}
	want := []string{"roota/", "rootb", "rootc"}
	if got := mustList(t, b, ""); !slices.Equal(got, want) {
		t.Errorf("List(\"\") = %q, want %q", got, want)
	}
	mustDelete(t, b, keys...)
	if got := mustList(t, b, ""); len(got) != 0 {
		t.Errorf("List(\"\") after cleanup = %q, want empty", got)
	}
}

func testBinaryValues(t *testing.T, b storage.Backend) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat([]byte{0, 0xff, 0x7f, 0x80}, 64<<10) // 256 KiB
	values := map[string][]byte{
		"bin/allbytes":       all,
		"bin/zeros":          make([]byte, 100),
		"bin/big":            big,
		"bin/utf8-κλειδί/日本": []byte("ünïcödé"),
	}
	for k, v := range values {
		mustPut(t, b, k, v)
	}
	for k, v := range values {
		wantValue(t, b, k, v)
	}
	for k := range values {
		mustDelete(t, b, k)
	}
}

func testValueNotAliased(t *testing.T, b storage.Backend) {
	v := []byte("original")
	mustPut(t, b, "alias/k", v)
	copy(v, "MUTATED!")
	wantValue(t, b, "alias/k", []byte("original"))
	e := mustGet(t, b, "alias/k")
	copy(e.Value, "MUTATED!")
	wantValue(t, b, "alias/k", []byte("original"))
	mustDelete(t, b, "alias/k")
}

func testConcurrentPuts(t *testing.T, b storage.Backend) {
	const writers, perWriter = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				k := fmt.Sprintf("conc/%02d/%02d", w, i)
				if err := b.Put(context.Background(), &storage.Entry{Key: k, Value: []byte(k)}); err != nil {
					errs <- fmt.Errorf("Put(%q): %w", k, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := mustList(t, b, "conc/"); len(got) != writers {
		t.Fatalf("List(conc/) has %d folders, want %d", len(got), writers)
	}
	for w := range writers {
		for i := range perWriter {
			k := fmt.Sprintf("conc/%02d/%02d", w, i)
			wantValue(t, b, k, []byte(k))
			mustDelete(t, b, k)
		}
	}
}

func testTransaction(t *testing.T, b storage.Backend) {
	tx, ok := b.(storage.Transactional)
	if !ok {
		t.Skip("backend is not transactional")
	}
	ctx := context.Background()
	mustPut(t, b, "tx/old", []byte("old"))
	ops := []storage.Op{
		{Kind: storage.OpPut, Entry: &storage.Entry{Key: "tx/a", Value: []byte("a")}},
		{Kind: storage.OpPut, Entry: &storage.Entry{Key: "tx/b", Value: []byte("b")}},
		{Kind: storage.OpDelete, Entry: &storage.Entry{Key: "tx/old"}},
		{Kind: storage.OpPut, Entry: &storage.Entry{Key: "tx/a", Value: []byte("a2")}},
	}
	if err := tx.Transaction(ctx, ops); err != nil {
		if errors.Is(err, storage.ErrNotTransactional) {
			t.Skip("backend wraps a non-transactional backend")
		}
		t.Fatalf("Transaction: %v", err)
	}
	wantValue(t, b, "tx/a", []byte("a2"))
	wantValue(t, b, "tx/b", []byte("b"))
	wantAbsent(t, b, "tx/old")

	bad := []storage.Op{
		{Kind: storage.OpPut, Entry: &storage.Entry{Key: "tx/c", Value: []byte("c")}},
		{Kind: storage.OpDelete, Entry: &storage.Entry{Key: "tx/a"}},
		{Kind: storage.OpPut, Entry: &storage.Entry{Key: "", Value: []byte("bad")}},
	}
	if err := tx.Transaction(ctx, bad); err == nil {
		t.Fatal("Transaction with an invalid key succeeded, want error")
	}
	wantAbsent(t, b, "tx/c")
	wantValue(t, b, "tx/a", []byte("a2"))
	if err := tx.Transaction(ctx, nil); err != nil {
		t.Fatalf("empty Transaction: %v", err)
	}
	mustDelete(t, b, "tx/a", "tx/b")
}
