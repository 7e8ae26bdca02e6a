package database

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

// sysView gives the engine TTLs and passwords, as core does.
type sysView struct{}

func (sysView) DefaultLeaseTTL() time.Duration { return time.Hour }
func (sysView) MaxLeaseTTL() time.Duration     { return 24 * time.Hour }

func (sysView) GeneratePassword(ctx context.Context, policy string) (string, error) {
	if policy == "missing" {
		return "", logical.InvalidRequest("password policy %q does not exist", policy)
	}
	return "Tst-" + dbtest.Suffix() + dbtest.Suffix()[:4], nil // 20 random characters
}

type fixture struct {
	t     *testing.T
	store logical.Storage
	b     *Backend
	admin *pgx.Conn
	app   string
	clock *testclock.Clock
}

// newFixture builds the engine on in-memory storage with a connection to
// the test PostgreSQL and an existing user for static roles.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	url := dbtest.PostgresURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	f := &fixture{t: t, store: inmem.New(), admin: admin, app: "kinko_static_" + dbtest.Suffix(),
		clock: testclock.New(time.Now())}
	if _, err := admin.Exec(ctx, "CREATE ROLE "+f.app+" LOGIN PASSWORD 'by-a-human'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+f.app) })
	f.start()
	f.do(logical.UpdateOperation, "config/pg", map[string]any{"plugin_name": "postgresql-database-plugin",
		"connection_url": url, "allowed_roles": "*"})
	return f
}

func (f *fixture) start() {
	f.t.Helper()
	be, err := Factory(context.Background(), &logical.BackendConfig{StorageView: f.store, System: sysView{}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.b = be.(*Backend)
	f.b.now = f.clock.Now
	if err := f.b.Initialize(context.Background(), f.store); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { f.b.Cleanup(context.Background()) })
}

func (f *fixture) try(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return f.b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data, Storage: f.store})
}

func (f *fixture) do(op logical.Operation, path string, data map[string]any) *logical.Response {
	f.t.Helper()
	resp, err := f.try(op, path, data)
	if err != nil {
		f.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

func (f *fixture) hash() string {
	var h string
	f.admin.QueryRow(context.Background(), "SELECT rolpassword FROM pg_authid WHERE rolname=$1", f.app).Scan(&h)
	return h
}

func (f *fixture) staticPassword(name string) string {
	return f.do(logical.ReadOperation, "static-creds/"+name, nil).Data["password"].(string)
}

// tick runs one pass of the scheduler at the fixture's clock.
func (f *fixture) tick() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.b.sched.Flush(ctx); err != nil {
		f.t.Fatal(err)
	}
}

// waitRotated runs the scheduler and checks that the static role's
// password differs from prev.
func (f *fixture) waitRotated(name, prev string) string {
	f.t.Helper()
	f.tick()
	pw := f.staticPassword(name)
	if pw == prev {
		f.t.Fatal("static role was not rotated")
	}
	return pw
}

func TestStaticRoleRotatesOnSchedule(t *testing.T) {
	f := newFixture(t)
	f.do(logical.UpdateOperation, "static-roles/app", map[string]any{"db_name": "pg", "username": f.app, "rotation_period": "1h"})
	first := f.staticPassword("app")
	firstHash := f.hash()
	// not due yet: nothing changes
	f.clock.Advance(30 * time.Minute)
	f.tick()
	if f.staticPassword("app") != first {
		t.Fatal("rotated before its period")
	}
	f.clock.Advance(31 * time.Minute)
	second := f.waitRotated("app", first)
	if f.hash() == firstHash {
		t.Fatal("kinko's password changed but the database's did not")
	}
	read := f.do(logical.ReadOperation, "static-roles/app", nil).Data
	if read["ttl"].(int64) < 3500 || read["rotation_period"].(int64) != 3600 {
		t.Fatalf("role after rotation: %v", read)
	}
	if f.staticPassword("app") != second {
		t.Fatal("static-creds changed without a rotation")
	}
}

func TestStaticRoleCronWindow(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC))
	f.do(logical.UpdateOperation, "static-roles/nightly", map[string]any{"db_name": "pg", "username": f.app,
		"rotation_schedule": "0 3 * * *", "rotation_window": "1h"})
	first := f.staticPassword("nightly")
	// 05:00 is past 03:00 + 1h: the window was missed, wait for tomorrow
	f.clock.Set(time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC))
	f.tick()
	if r, _ := f.b.loadStatic(context.Background(), "nightly"); !r.NextRotation.Equal(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)) {
		t.Fatalf("missed window not skipped: next %v", r.NextRotation)
	}
	if f.staticPassword("nightly") != first {
		t.Fatal("rotated outside the window")
	}
	f.clock.Set(time.Date(2026, 11, 24, 3, 10, 0, 0, time.UTC))
	f.waitRotated("nightly", first)
}

func TestStaticRotationRecoversFromWAL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.do(logical.UpdateOperation, "static-roles/app", map[string]any{"db_name": "pg", "username": f.app, "rotation_period": "1h"})
	before := f.staticPassword("app")
	// a crash after the record was written and the database changed, but
	// before kinko stored the password
	pending := "Pending-" + dbtest.Suffix()
	if err := logical.PutJSON(ctx, f.store, "wal/static/app", staticWAL{Username: f.app, Password: pending, Created: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.Exec(ctx, "ALTER ROLE "+f.app+" PASSWORD '"+pending+"'"); err != nil {
		t.Fatal(err)
	}
	f.b.Cleanup(ctx)
	f.start() // the restart replays the record
	if got := f.staticPassword("app"); got != pending || got == before {
		t.Fatalf("after recovery kinko has %q, the database %q", got, pending)
	}
	if e, _ := f.store.Get(ctx, "wal/static/app"); e != nil {
		t.Fatal("write-ahead record left after recovery")
	}
}

func TestFailedRotationIsRetried(t *testing.T) {
	f := newFixture(t)
	old := rotationRetryBase
	rotationRetryBase = time.Second
	t.Cleanup(func() { rotationRetryBase = old })
	f.do(logical.UpdateOperation, "static-roles/app", map[string]any{"db_name": "pg", "username": f.app, "rotation_period": "1h",
		"rotation_statements": []string{`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}'`}})
	first := f.staticPassword("app")
	// the user disappears: rotations fail and are retried
	if _, err := f.admin.Exec(context.Background(), "ALTER ROLE "+f.app+" RENAME TO "+f.app+"_away"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+f.app+"_away") })
	if _, err := f.try(logical.UpdateOperation, "rotate-role/app", nil); err == nil {
		t.Fatal("rotation of a missing user succeeded")
	}
	r, _ := f.b.loadStatic(context.Background(), "app")
	if r.Failures != 1 || !r.NextRotation.Equal(f.clock.Now().Add(time.Second)) {
		t.Fatalf("failure not recorded: %+v", r)
	}
	if f.staticPassword("app") != first {
		t.Fatal("a failed rotation changed the stored password")
	}
	if _, err := f.admin.Exec(context.Background(), "ALTER ROLE "+f.app+"_away RENAME TO "+f.app); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Second)
	f.waitRotated("app", first)
}

func TestEngineInputErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path string
		data map[string]any
		want string
	}{
		{"roles/r", map[string]any{"db_name": "pg"}, "creation_statements are required"},
		{"roles/r", map[string]any{"creation_statements": "SELECT 1"}, "db_name is required"},
		{"roles/r", map[string]any{"db_name": "pg", "creation_statements": "SELECT 1", "credential_type": "rsa_private_key"}, "not supported"},
		{"roles/r", map[string]any{"db_name": "pg", "creation_statements": "SELECT 1", "default_ttl": "2h", "max_ttl": "1h"}, "default_ttl"},
		{"roles/r", map[string]any{"db_name": "pg", "creation_statements": "CREATE ROL x"}, "syntax error"},
		{"static-roles/s", map[string]any{"db_name": "pg", "username": "u"}, "rotation_period or rotation_schedule"},
		{"static-roles/s", map[string]any{"db_name": "pg", "username": "u", "rotation_period": 60, "rotation_schedule": "* * * * *"}, "mutually exclusive"},
		{"static-roles/s", map[string]any{"db_name": "pg", "username": "u", "rotation_schedule": "61 * * * *"}, "invalid rotation_schedule"},
		{"static-roles/s", map[string]any{"db_name": "pg", "username": "u", "rotation_schedule": "0 * * * *", "rotation_window": 60}, "rotation_window"},
		{"static-roles/s", map[string]any{"db_name": "pg", "username": "nobody_" + dbtest.Suffix(), "rotation_period": 60}, "does not exist"},
		{"config/x", map[string]any{"plugin_name": "postgresql-database-plugin", "connection_url": "postgres://h/db", "password_policy": "missing"}, "does not exist"},
		{"config/x", map[string]any{"plugin_name": "postgresql-database-plugin"}, "connection_url is required"},
	}
	for _, tc := range tests {
		_, err := f.try(logical.UpdateOperation, tc.path, tc.data)
		if !errors.Is(err, logical.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want 400 with %q", tc.path, tc.data, err, tc.want)
		}
	}
	for _, p := range []string{"role/r", "static-role/s", "config/x"} {
		if e, _ := f.store.Get(context.Background(), p); e != nil {
			t.Errorf("%s stored despite the error", p)
		}
	}
}

func FuzzRoleWrite(f *testing.F) {
	f.Add("pg", "CREATE ROLE x", "1h", "2h", "password")
	f.Add("", "", "-1", "x", "")
	f.Add("pg", `["~*"]`, "0", "0", "rsa")
	f.Fuzz(func(t *testing.T, db, stmt, ttl, maxTTL, ctype string) {
		store := inmem.New()
		be, err := Factory(context.Background(), &logical.BackendConfig{StorageView: store, System: sysView{}})
		if err != nil {
			t.Fatal(err)
		}
		b := be.(*Backend)
		data := map[string]any{"db_name": db, "creation_statements": stmt, "default_ttl": ttl, "max_ttl": maxTTL, "credential_type": ctype}
		if _, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.UpdateOperation, Path: "roles/f", Data: data, Storage: store}); err == nil {
			t.Fatal("a role was accepted without a connection")
		}
		if e, _ := store.Get(context.Background(), "role/f"); e != nil {
			t.Fatal("partial write")
		}
		for _, p := range []string{"config/f", "static-roles/f"} {
			_, _ = b.HandleRequest(context.Background(), &logical.Request{Operation: logical.UpdateOperation, Path: p, Data: data, Storage: store})
		}
	})
}

func TestStaticCredsShape(t *testing.T) {
	f := newFixture(t)
	f.do(logical.UpdateOperation, "static-roles/app", map[string]any{"db_name": "pg", "username": f.app, "rotation_period": "1h"})
	f.clock.Advance(10 * time.Minute)
	got := f.do(logical.ReadOperation, "static-creds/app", nil).Data
	want := []string{"last_vault_rotation", "password", "rotation_period", "ttl", "username"}
	if len(got) != len(want) {
		t.Fatalf("static-creds keys: %v", got)
	}
	for _, k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("static-creds lacks %s", k)
		}
	}
	if got["ttl"].(int64) != 3000 || got["rotation_period"].(int64) != 3600 {
		t.Fatalf("static-creds: %v", got)
	}
	role := f.do(logical.ReadOperation, "static-roles/app", nil).Data
	if _, ok := role["password"]; ok || role["db_name"] != "pg" || role["credential_type"] != "password" {
		t.Fatalf("static role read: %v", role)
	}
	if _, err := f.try(logical.ReadOperation, "static-creds/nope", nil); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("unknown static role: %v", err)
	}
}
