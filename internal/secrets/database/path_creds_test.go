package database

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// readonlyRole writes role app-ro on the fixture's root connection: SELECT
// on a fresh table, TTL 1h, max 2h.
func (f *fixture) readonlyRole(conn string) (table string) {
	f.t.Helper()
	table = "kinko_t_" + dbtest.Suffix()
	if _, err := f.admin.Exec(context.Background(), "CREATE TABLE "+table+" (v int)"); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { f.admin.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) })
	f.do(logical.UpdateOperation, "roles/app-ro", map[string]any{"db_name": conn, "default_ttl": "1h", "max_ttl": "2h",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';` +
			` GRANT SELECT ON ` + table + ` TO "{{name}}";`}})
	return table
}

// leaseRequest is what the lease manager sends back for a lease: the
// Secret as issued, with the requested TTL and the issue time.
func leaseRequest(op logical.Operation, s *logical.Secret, ttl time.Duration, issued time.Time) *logical.Request {
	back := &logical.Secret{InternalData: s.InternalData, LeaseOptions: logical.LeaseOptions{TTL: ttl, IssueTime: issued, Renewable: s.Renewable}}
	return &logical.Request{Operation: op, Secret: back}
}

func (f *fixture) validUntil(user string) time.Time {
	f.t.Helper()
	var v time.Time
	if err := f.admin.QueryRow(context.Background(), "SELECT rolvaliduntil FROM pg_roles WHERE rolname=$1", user).Scan(&v); err != nil {
		f.t.Fatal(err)
	}
	return v
}

func TestCredsRenewRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	root := f.rootUser("Root-Pass-" + dbtest.Suffix())
	table := f.readonlyRole(root.conn)
	issued := f.clock.Now()
	resp := f.do(logical.ReadOperation, "creds/app-ro", nil)
	user, pw := resp.Data["username"].(string), resp.Data["password"].(string)
	if user == "" || len(pw) < 20 || !resp.Secret.IssuesLease() || !resp.Secret.Renewable {
		t.Fatalf("creds: %v %+v", resp.Data, resp.Secret)
	}
	if resp.Secret.TTL != time.Hour || resp.Secret.MaxTTL != 2*time.Hour {
		t.Fatalf("lease TTL %v max %v", resp.Secret.TTL, resp.Secret.MaxTTL)
	}
	var canSelect, canInsert bool
	f.admin.QueryRow(ctx, "SELECT has_table_privilege($1, $2, 'SELECT'), has_table_privilege($1, $2, 'INSERT')", user, table).Scan(&canSelect, &canInsert)
	if !canSelect || canInsert {
		t.Fatalf("grants: select %v insert %v", canSelect, canInsert)
	}
	if got := f.validUntil(user); got.Sub(issued.Add(time.Hour)).Abs() > 2*time.Second {
		t.Fatalf("VALID UNTIL %v, want issue + 1h", got)
	}
	// renew for 90m an hour later: within max_ttl
	f.clock.Advance(time.Hour)
	renewed, err := f.b.HandleRequest(ctx, leaseRequest(logical.RenewOperation, resp.Secret, 90*time.Minute, issued))
	if err != nil || renewed.Secret.TTL != time.Hour || renewed.Secret.MaxTTL != 2*time.Hour || len(renewed.Warnings) == 0 {
		t.Fatalf("renew past max_ttl: %+v %v", renewed, err)
	}
	if got := f.validUntil(user); got.Sub(issued.Add(2*time.Hour)).Abs() > 2*time.Second {
		t.Fatalf("VALID UNTIL %v, want capped at issue + 2h", got)
	}
	f.clock.Advance(-30 * time.Minute)
	renewed, err = f.b.HandleRequest(ctx, leaseRequest(logical.RenewOperation, resp.Secret, 10*time.Minute, issued))
	if err != nil || renewed.Secret.TTL != 10*time.Minute || len(renewed.Warnings) != 0 {
		t.Fatalf("renew within max_ttl: %+v %v", renewed, err)
	}
	if got := f.validUntil(user); got.Sub(issued.Add(40*time.Minute)).Abs() > 2*time.Second {
		t.Fatalf("VALID UNTIL %v, want issue + 40m", got)
	}
	if _, err := f.b.HandleRequest(ctx, leaseRequest(logical.RevokeOperation, resp.Secret, 0, issued)); err != nil {
		t.Fatal(err)
	}
	if f.userExists(user) {
		t.Fatal("revoked user still in pg_roles")
	}
	// a retried revocation of a user already gone succeeds
	if _, err := f.b.HandleRequest(ctx, leaseRequest(logical.RevokeOperation, resp.Secret, 0, issued)); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
}

func TestCredsMountTTLs(t *testing.T) {
	f := newFixture(t)
	root := f.rootUser("Root-Pass-" + dbtest.Suffix())
	f.do(logical.UpdateOperation, "roles/app-x", map[string]any{"db_name": root.conn,
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`}})
	tests := []struct {
		mount    logical.MountConfig
		ttl, max time.Duration
	}{
		{logical.MountConfig{}, time.Hour, 24 * time.Hour}, // the server's (sysView)
		{logical.MountConfig{DefaultLeaseTTL: 10 * time.Minute, MaxLeaseTTL: time.Hour}, 10 * time.Minute, time.Hour},
		{logical.MountConfig{DefaultLeaseTTL: 3 * time.Hour, MaxLeaseTTL: time.Hour}, time.Hour, time.Hour},
	}
	for _, tc := range tests {
		resp, err := f.b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation,
			Path: "creds/app-x", Storage: f.store, MountConfig: tc.mount})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Secret.TTL != tc.ttl || resp.Secret.MaxTTL != tc.max {
			t.Errorf("mount %+v: ttl %v max %v, want %v %v", tc.mount, resp.Secret.TTL, resp.Secret.MaxTTL, tc.ttl, tc.max)
		}
		f.b.HandleRequest(context.Background(), leaseRequest(logical.RevokeOperation, resp.Secret, 0, time.Time{}))
	}
}

func TestRevokeFailsWhileDatabaseUnreachable(t *testing.T) {
	f := newFixture(t)
	f.do(logical.UpdateOperation, "config/down", map[string]any{"plugin_name": "postgresql-database-plugin", "verify_connection": false,
		"connection_url": "postgres://{{username}}:{{password}}@127.0.0.1:1/appdb?sslmode=disable&connect_timeout=2",
		"username":       "admin", "password": "x-" + dbtest.Suffix(), "allowed_roles": "*"})
	s := (&logical.SecretType{Type: secretCredsType}).Response(nil, map[string]any{"username": "v-gone", "role": "r", "db_name": "down"}).Secret
	_, err := f.b.HandleRequest(context.Background(), leaseRequest(logical.RevokeOperation, s, 0, time.Time{}))
	if !errors.Is(err, logical.ErrUpstream) {
		t.Fatalf("revoke against an unreachable database: %v", err)
	}
}

// BenchmarkCreds issues dynamic credentials through the engine (no HTTP,
// no lease manager) against the test PostgreSQL, 8 requests at a time,
// and revokes them afterwards.
func BenchmarkCreds(b *testing.B) {
	url := dbtest.PostgresURL(b)
	ctx := context.Background()
	store := inmem.New()
	be, err := Factory(ctx, &logical.BackendConfig{StorageView: store, System: sysView{}})
	if err != nil {
		b.Fatal(err)
	}
	eng := be.(*Backend)
	defer eng.Cleanup(ctx)
	for path, data := range map[string]map[string]any{
		"config/pg": {"plugin_name": "postgresql-database-plugin", "connection_url": url, "allowed_roles": "*", "max_open_connections": 8},
	} {
		if _, err := eng.HandleRequest(ctx, &logical.Request{Operation: logical.UpdateOperation, Path: path, Data: data, Storage: store}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := eng.HandleRequest(ctx, &logical.Request{Operation: logical.UpdateOperation, Path: "roles/bench", Storage: store,
		Data: map[string]any{"db_name": "pg", "creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`}}}); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var leases []*logical.Secret
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := eng.HandleRequest(ctx, &logical.Request{Operation: logical.ReadOperation, Path: "creds/bench", Storage: store})
			if err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			leases = append(leases, resp.Secret)
			mu.Unlock()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creds/s")
	for _, s := range leases {
		if _, err := eng.HandleRequest(ctx, leaseRequest(logical.RevokeOperation, s, 0, time.Time{})); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCredsWhileConnectionReplaced issues credentials while the
// connection is reset and rotated under them: requests in flight finish
// on the instance they started on, later ones use the new one, none fail.
func TestCredsWhileConnectionReplaced(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	root := f.rootUser("Root-Pass-" + dbtest.Suffix())
	f.readonlyRole(root.conn)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var leases []*logical.Secret
	errs := make(chan error, 64)
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := f.try(logical.ReadOperation, "creds/app-ro", nil)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				leases = append(leases, resp.Secret)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < 6; i++ {
		path := "reset/" + root.conn
		if i%3 == 2 {
			path = "rotate-root/" + root.conn
		}
		if _, err := f.try(logical.UpdateOperation, path, nil); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("creds during reset: %v", err)
	}
	for _, s := range leases {
		if _, err := f.b.HandleRequest(ctx, leaseRequest(logical.RevokeOperation, s, 0, time.Time{})); err != nil {
			t.Fatal(err)
		}
	}
	if len(leases) == 0 {
		t.Fatal("no credentials issued")
	}
}
