package barrier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// FuzzDecrypt feeds arbitrary bytes to every decoder of untrusted storage:
// value blobs, the keyring blob and the keyring encoding. None may panic,
// and a value blob that was not produced by the barrier must not decrypt.
func FuzzDecrypt(f *testing.F) {
	b, root := unsealed(f, inmem.New())
	kr := b.kr.Load()
	f.Add(kr.encrypt("path", []byte("seed value")))
	f.Add(kr.seal())
	f.Add([]byte{blobVersion, 0, 0, 0, 1})
	f.Add([]byte{keyringFormat, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if pt, err := kr.decrypt("path", data); err == nil {
			// Only a blob the barrier wrote for "path" may open.
			if !bytes.Equal(pt, []byte("seed value")) {
				t.Fatalf("arbitrary blob decrypted to %q", pt)
			}
		} else if !errors.Is(err, ErrTampered) {
			t.Fatalf("decrypt error %v, want ErrTampered", err)
		}
		if k, err := openKeyring(root, data); err == nil {
			k.wipe()
		}
		k, err := newKeyring(root)
		if err != nil {
			t.Fatal(err)
		}
		_ = k.decode(data)
		k.wipe()
	})
}

func TestKeyringRoundTrip(t *testing.T) {
	b, root := unsealed(t, inmem.New())
	for range 3 {
		if _, err := b.Rotate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	kr := b.kr.Load()
	got, err := openKeyring(root, kr.seal())
	if err != nil {
		t.Fatal(err)
	}
	if got.active.term != kr.active.term || len(got.terms) != len(kr.terms) {
		t.Fatalf("round trip: active %d with %d terms, want %d with %d", got.active.term, len(got.terms), kr.active.term, len(kr.terms))
	}
	for term, tk := range kr.terms {
		g := got.terms[term]
		if g == nil || !bytes.Equal(g.key, tk.key) || !g.installed.Equal(tk.installed) {
			t.Errorf("term %d did not round-trip", term)
		}
	}
}

func benchBarrier(b *testing.B) *Barrier {
	br, _ := unsealed(b, inmem.New())
	return br
}

func BenchmarkGet(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			br := benchBarrier(b)
			ctx := context.Background()
			put(b, br, "kv/data/app/db", string(make([]byte, size)))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := br.Get(ctx, "kv/data/app/db"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkPut(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			br := benchBarrier(b)
			ctx := context.Background()
			val := make([]byte, size)
			var n atomic.Int64
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					k := fmt.Sprintf("kv/data/%d", n.Add(1)%1024)
					if err := br.Put(ctx, &storage.Entry{Key: k, Value: val}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkPutBolt measures durable writes through the barrier with 32
// concurrent writers on a real bolt file.
func BenchmarkPutBolt(b *testing.B) {
	br, _ := unsealed(b, openBolt(b, filepath.Join(b.TempDir(), "k.db")))
	ctx := context.Background()
	val := make([]byte, 256)
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("kv/data/%d", n.Add(1))
			if err := br.Put(ctx, &storage.Entry{Key: k, Value: val}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
