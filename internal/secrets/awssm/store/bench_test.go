package store

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkGetSecretValue is the hot path: a cached secret read by name,
// by full ARN, and in parallel.
func BenchmarkGetSecretValue(b *testing.B) {
	e := newEnv(b)
	arn := e.create(b, "app/db", strings.Repeat("x", 256)).ARN
	for i := 1; i <= 20; i++ {
		e.put(b, "app/db", i, "v")
	}
	e.value(b, GetSecretValueInput{SecretId: "app/db"}) // today's access recorded
	for _, c := range []struct{ name, id string }{{"name", "app/db"}, {"arn", arn}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: c.id}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "app/db"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkPutSecretValue adds versions to a secret that holds about 100
// (the pruning steady state once versions are a day old).
func BenchmarkPutSecretValue(b *testing.B) {
	e := newEnv(b)
	e.create(b, "s", "v0")
	val := str(strings.Repeat("x", 256))
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		if n%100 == 0 {
			e.clock.Advance(25 * 60 * 60 * 1e9) // let old versions be pruned
		}
		if _, err := e.s.PutSecretValue(ctx, PutSecretValueInput{SecretId: "s", ClientRequestToken: fmt.Sprintf("%032d", n), SecretString: val}); err != nil {
			b.Fatal(err)
		}
	}
}
