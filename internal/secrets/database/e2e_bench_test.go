package database_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkCredsPostgres measures creds/:role issuance through the HTTP
// API (lease registered, user created in PostgreSQL) with 8 concurrent
// clients.
func BenchmarkCredsPostgres(b *testing.B) {
	e := newPGEnv(b)
	b.ResetTimer()
	var wg sync.WaitGroup
	work := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if _, err := e.client.Logical().Read("database/creds/readonly"); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creds/s")
	if err := e.client.Sys().RevokePrefix("database/creds/readonly"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkExpire1000Postgres issues 1,000 credentials whose leases
// expire at about the same moment and measures how long after expiry the
// last PostgreSQL user is gone (metric revoke_s; the bar is 10 s).
func BenchmarkExpire1000Postgres(b *testing.B) {
	e := newPGEnv(b)
	ttl := 20 * time.Second
	e.write("database/roles/burst", map[string]any{"db_name": "pg", "default_ttl": ttl.String(),
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`}})
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		start := time.Now()
		var wg sync.WaitGroup
		users := make(chan string, 1000)
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 1000/16+1; j++ {
					s, err := e.client.Logical().Read("database/creds/burst")
					if err != nil {
						b.Error(err)
						return
					}
					select {
					case users <- s.Data["username"].(string):
					default:
					}
				}
			}()
		}
		wg.Wait()
		issued := time.Since(start)
		if issued > ttl {
			b.Fatalf("issuing took %s, longer than the TTL", issued)
		}
		expiry := start.Add(ttl)
		time.Sleep(time.Until(expiry)) // wait for the leases' own expiry: that is what is measured
		b.StartTimer()
		ctx := context.Background()
		for {
			var n int
			if err := e.admin.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'v-root-burst-%'").Scan(&n); err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond) // polling the catalog
		}
		b.ReportMetric(time.Since(expiry).Seconds(), "revoke_s")
	}
}
