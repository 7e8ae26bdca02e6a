package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/storage/bolt"
	"github.com/kinko-dev/kinko/internal/storage/storagetest"
)

func openTemp(t testing.TB) (*bolt.Backend, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "kinko.db")
	b, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, path
}

func TestConformance(t *testing.T) {
	b, _ := openTemp(t)
	storagetest.Suite(t, b)
}

func TestFileModes(t *testing.T) {
	_, path := openTemp(t)
	tests := []struct {
		path string
		want os.FileMode
	}{
		{path, 0o600},
		{filepath.Dir(path), 0o700},
	}
	for _, tc := range tests {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.want {
			t.Errorf("mode of %s = %o, want %o", tc.path, got, tc.want)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	b, path := openTemp(t)
	want := map[string][]byte{"a/b": []byte("1"), "c": []byte("two"), "d/e/f": {0, 1, 2}}
	for k, v := range want {
		if err := b.Put(ctx, &storage.Entry{Key: k, Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	delete(want, "c")
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	b2, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer b2.Close()
	for k, v := range want {
		e, err := b2.Get(ctx, k)
		if err != nil || e == nil || !bytes.Equal(e.Value, v) {
			t.Errorf("after reopen Get(%q) = %v, %v; want %q", k, e, err, v)
		}
	}
	if e, err := b2.Get(ctx, "c"); err != nil || e != nil {
		t.Errorf("deleted key after reopen = %v, %v; want absent", e, err)
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	b, _ := openTemp(t)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, getErr := b.Get(ctx, "k")
	_, listErr := b.List(ctx, "")
	errs := map[string]error{
		"Get":         getErr,
		"Put":         b.Put(ctx, &storage.Entry{Key: "k", Value: []byte("v")}),
		"Delete":      b.Delete(ctx, "k"),
		"List":        listErr,
		"Transaction": b.Transaction(ctx, []storage.Op{{Kind: storage.OpDelete, Entry: &storage.Entry{Key: "k"}}}),
	}
	for name, err := range errs {
		if !errors.Is(err, bolt.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestRejects(t *testing.T) {
	ctx := context.Background()
	b, _ := openTemp(t)
	long := string(bytes.Repeat([]byte("k"), 40000))
	if err := b.Put(ctx, &storage.Entry{Key: long, Value: []byte("v")}); !errors.Is(err, storage.ErrKeyInvalid) {
		t.Errorf("Put of over-long key: %v, want ErrKeyInvalid", err)
	}
	if err := b.Put(ctx, &storage.Entry{Key: "bad\xff", Value: []byte("v")}); !errors.Is(err, storage.ErrKeyInvalid) {
		t.Errorf("Put of invalid UTF-8 key: %v, want ErrKeyInvalid", err)
	}
	if err := b.Put(ctx, nil); !errors.Is(err, storage.ErrKeyInvalid) {
		t.Errorf("Put(nil): %v, want ErrKeyInvalid", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Put(cctx, &storage.Entry{Key: "k", Value: []byte("v")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with cancelled context: %v, want context.Canceled", err)
	}
}

func TestListSkipsDeepSubtrees(t *testing.T) {
	ctx := context.Background()
	b, _ := openTemp(t)
	ops := make([]storage.Op, 0, 1002)
	for i := range 1000 {
		ops = append(ops, storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: fmt.Sprintf("p/a/%04d", i), Value: []byte("v")}})
	}
	ops = append(ops,
		storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: "p/a", Value: []byte("v")}},
		storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: "p/a0", Value: []byte("v")}})
	if err := b.Transaction(ctx, ops); err != nil {
		t.Fatal(err)
	}
	got, err := b.List(ctx, "p/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "a/", "a0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("List(p/) = %q, want %q", got, want)
	}
}

func BenchmarkPutParallel(b *testing.B) {
	be, _ := openTemp(b)
	ctx := context.Background()
	val := bytes.Repeat([]byte("x"), 256)
	var n atomic.Int64
	b.SetParallelism(16) // 16 × GOMAXPROCS writers: 32 on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("bench/%d", n.Add(1))
			if err := be.Put(ctx, &storage.Entry{Key: k, Value: val}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkPutSerial(b *testing.B) {
	be, _ := openTemp(b)
	ctx := context.Background()
	val := bytes.Repeat([]byte("x"), 256)
	b.ResetTimer()
	for i := range b.N {
		if err := be.Put(ctx, &storage.Entry{Key: fmt.Sprintf("bench/%d", i), Value: val}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkGet(b *testing.B) {
	be, _ := openTemp(b)
	ctx := context.Background()
	ops := make([]storage.Op, 1000)
	for i := range ops {
		ops[i] = storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: fmt.Sprintf("bench/%d", i), Value: bytes.Repeat([]byte("x"), 256)}}
	}
	if err := be.Transaction(ctx, ops); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := be.Get(ctx, ops[i%len(ops)].Entry.Key); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
