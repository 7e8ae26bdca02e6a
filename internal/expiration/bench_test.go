package expiration

import (
	"context"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func BenchmarkRegister(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := &logical.Secret{InternalData: map[string]any{"username": "v-app"}}
		if _, err := f.m.Register(ctx, "database/creds/app", "tok", s, time.Hour, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	f := newFixture(b)
	l := f.register(b, "database/creds/app", "tok", time.Hour, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.m.Lookup(ctx, l.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpireTogether measures how fast 1,000 leases that expire at
// the same moment are all revoked (the engine's own cost excluded).
func BenchmarkExpireTogether(b *testing.B) {
	const n = 1000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newFixture(b)
		for j := 0; j < n; j++ {
			f.register(b, "database/creds/app", "", time.Minute, 0)
		}
		b.StartTimer()
		f.advance(time.Minute)
		for f.m.Count() > 0 {
			time.Sleep(100 * time.Microsecond) // polling the workers
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "leases/s")
}
