package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

// env is the test PostgreSQL: a superuser connection for checks, a
// table and a schema of this test's own, and a plugin connected as
// superuser.
type env struct {
	t      *testing.T
	url    string
	admin  *pgx.Conn
	db     *DB
	table  string // kinko_t_<suffix>, in public
	schema string // kinko_s_<suffix>
}

func newEnv(t *testing.T, extra map[string]any) *env {
	t.Helper()
	url := dbtest.PostgresURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	sfx := dbtest.Suffix()
	e := &env{t: t, url: url, admin: admin, db: New().(*DB), table: "kinko_t_" + sfx, schema: "kinko_s_" + sfx}
	e.exec("CREATE TABLE " + e.table + " (v int)")
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP TABLE IF EXISTS "+e.table) })
	e.exec("CREATE SCHEMA " + e.schema)
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+e.schema+" CASCADE") })
	cfg := map[string]any{"connection_url": url}
	for k, v := range extra {
		cfg[k] = v
	}
	if _, err := e.db.Initialize(ctx, dbplugin.InitializeRequest{VerifyConnection: true, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	return e
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.admin.Exec(context.Background(), q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

// creation are the statements of the brief: a login role that may read
// the test table.
func (e *env) creation() dbplugin.Statements {
	return dbplugin.Statements{Commands: []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ` + e.table + ` TO "{{name}}";`}}
}

// newUser creates a user with the creation statements, deleted (as
// superuser, whatever the plugin's login) when the test ends.
func (e *env) newUser(db *DB, password string, exp time.Time) string {
	e.t.Helper()
	res, err := db.NewUser(context.Background(), dbplugin.NewUserRequest{
		UsernameConfig: dbplugin.UsernameMetadata{DisplayName: "token-with-a-long-name", RoleName: "readonly"},
		Statements:     e.creation(), Password: password, Expiration: exp})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { e.dropRole(res.Username) })
	return res.Username
}

func (e *env) dropRole(name string) {
	id := pgx.Identifier{name}.Sanitize()
	ctx := context.Background()
	e.admin.Exec(ctx, "DROP OWNED BY "+id)
	e.admin.Exec(ctx, "DROP ROLE IF EXISTS "+id)
}

func (e *env) exists(name string) bool {
	e.t.Helper()
	var ok bool
	if err := e.admin.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname=$1)", name).Scan(&ok); err != nil {
		e.t.Fatal(err)
	}
	return ok
}

func (e *env) validUntil(name string) time.Time {
	e.t.Helper()
	var until time.Time
	if err := e.admin.QueryRow(context.Background(), "SELECT rolvaliduntil FROM pg_roles WHERE rolname=$1", name).Scan(&until); err != nil {
		e.t.Fatal(err)
	}
	return until
}

// verifier is the role's stored password (pg_authid.rolpassword). The
// test server trusts local logins and never checks passwords: the
// verifier is how a test knows which password the database would take.
func (e *env) verifier(name string) string {
	e.t.Helper()
	var v string
	if err := e.admin.QueryRow(context.Background(), "SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname=$1", name).Scan(&v); err != nil {
		e.t.Fatal(err)
	}
	return v
}

// passwordIs reports whether a SCRAM-SHA-256 verifier is that of password.
func passwordIs(t testing.TB, verifier, password string) bool {
	t.Helper()
	// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
	parts := strings.Split(verifier, "$")
	if len(parts) != 3 || parts[0] != "SCRAM-SHA-256" {
		t.Fatalf("not a SCRAM-SHA-256 verifier: %.20s...", verifier)
	}
	iterSalt := strings.SplitN(parts[1], ":", 2)
	iter, err1 := strconv.Atoi(iterSalt[0])
	salt, err2 := base64.StdEncoding.DecodeString(iterSalt[len(iterSalt)-1])
	if err1 != nil || err2 != nil {
		t.Fatalf("unparsable verifier")
	}
	want, err := scramVerifierWithSalt(password, salt, iter)
	if err != nil {
		t.Fatal(err)
	}
	return want == verifier
}

// connectAs logs in as a user over TCP.
func connectAs(t *testing.T, user, password string) (*pgx.Conn, error) {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://" + dbtest.PostgresAddr + "/postgres?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password = user, password
	return pgx.ConnectConfig(context.Background(), cfg)
}

func wantPermissionDenied(t *testing.T, conn *pgx.Conn, q string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), q); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("%s: %v, want permission denied", q, err)
	}
}

func TestNewUserLogsInWithItsGrants(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	name := e.newUser(e.db, "Pa55-word-one", exp)
	if !strings.HasPrefix(name, "v-token-wi-readonly-") || len(name) > maxNameLength {
		t.Fatalf("user name %q", name)
	}
	if !e.exists(name) || !e.validUntil(name).Equal(exp) {
		t.Fatalf("role %q missing or valid until %v, want %v", name, e.validUntil(name), exp)
	}
	if !passwordIs(t, e.verifier(name), "Pa55-word-one") {
		t.Fatal("stored password is not the one given")
	}
	conn, err := connectAs(t, name, "Pa55-word-one")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var who string
	if err := conn.QueryRow(ctx, "SELECT rolname FROM pg_roles WHERE rolname = current_user").Scan(&who); err != nil || who != name {
		t.Fatalf("logged in as %q, %v", who, err)
	}
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM "+e.table); err != nil {
		t.Fatalf("permitted SELECT: %v", err)
	}
	wantPermissionDenied(t, conn, "INSERT INTO "+e.table+" VALUES (1)")
	wantPermissionDenied(t, conn, "CREATE SCHEMA kinko_forbidden_"+dbtest.Suffix())
	wantPermissionDenied(t, conn, "CREATE TABLE "+e.schema+".t (v int)")
}

func TestUserNameTemplate(t *testing.T) {
	e := newEnv(t, map[string]any{"username_template": `{{.DisplayName}}-{{.RoleName}}-{{random 80}}`})
	name := e.newUser(e.db, "pw", time.Now().Add(time.Hour))
	if len(name) != maxNameLength || !strings.HasPrefix(name, "token-with-a-long-name-readonly-") || !e.exists(name) {
		t.Fatalf("user name %q (%d bytes)", name, len(name))
	}
	res, err := e.db.NewUser(context.Background(), dbplugin.NewUserRequest{
		UsernameConfig: dbplugin.UsernameMetadata{DisplayName: `o'brien"; DROP`, RoleName: "r"},
		Statements:     e.creation(), Password: "pw", Expiration: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e.t.Cleanup(func() { e.dropRole(res.Username) })
	if !strings.HasPrefix(res.Username, "o_brien_; DROP-r-") || !e.exists(res.Username) {
		t.Fatalf("user name %q", res.Username)
	}
}

func TestUpdateUser(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	name := e.newUser(e.db, "Pa55-word-one", exp)
	before := e.verifier(name)
	later := exp.Add(24 * time.Hour)
	const second = `it's-a "new" one\`
	err := e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: name,
		Password: &dbplugin.ChangePassword{NewPassword: second}, Expiration: &dbplugin.ChangeExpiration{NewExpiration: later}})
	if err != nil {
		t.Fatal(err)
	}
	after := e.verifier(name)
	if after == before || !passwordIs(t, after, second) || !e.validUntil(name).Equal(later) {
		t.Fatalf("password changed %v (to the new one %v), valid until %v, want %v",
			after != before, passwordIs(t, after, second), e.validUntil(name), later)
	}
	// given statements instead of the defaults
	custom := dbplugin.Statements{Commands: []string{`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}' CONNECTION LIMIT 3`}}
	if err := e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: name,
		Password: &dbplugin.ChangePassword{NewPassword: "third", Statements: custom}}); err != nil {
		t.Fatal(err)
	}
	var limit int
	e.admin.QueryRow(ctx, "SELECT rolconnlimit FROM pg_roles WHERE rolname=$1", name).Scan(&limit)
	if limit != 3 || !passwordIs(t, e.verifier(name), "third") {
		t.Fatalf("custom statements: connection limit %d", limit)
	}
	// nothing to change; an unknown user; a name that would break out of its quotes
	if err := e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: name}); err != nil {
		t.Fatal(err)
	}
	err = e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: "kinko-nobody-" + dbtest.Suffix(), Password: &dbplugin.ChangePassword{NewPassword: "secret-pw"}})
	if !errors.Is(err, dbplugin.ErrInvalidStatements) || !strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "secret-pw") {
		t.Fatalf("unknown user: %v", err)
	}
	err = e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: `x"; DROP TABLE ` + e.table + `; --`, Expiration: &dbplugin.ChangeExpiration{NewExpiration: later}})
	if !errors.Is(err, dbplugin.ErrInvalidStatements) {
		t.Fatalf("quote in user name: %v", err)
	}
}

func TestSCRAMVerifierMatchesPostgres(t *testing.T) {
	e := newEnv(t, nil)
	name := "kinko_scram_" + dbtest.Suffix()
	const pw = `Pa55 'word' "x"`
	e.exec("SET password_encryption = 'scram-sha-256'")
	e.exec("CREATE ROLE " + name + " PASSWORD 'Pa55 ''word'' \"x\"'")
	t.Cleanup(func() { e.dropRole(name) })
	if !passwordIs(t, e.verifier(name), pw) || passwordIs(t, e.verifier(name), pw+"x") {
		t.Fatal("our SCRAM-SHA-256 verifier differs from PostgreSQL's")
	}
}

// With password_authentication=scram-sha-256 PostgreSQL receives the
// verifier, never the password: even a login told to store md5 hashes
// stores the verifier the plugin made.
func TestPasswordAuthenticationSCRAM(t *testing.T) {
	e := newEnv(t, nil)
	root, rootPW := e.newRoot(false)
	e.exec("ALTER ROLE " + root + " SET password_encryption = 'md5'")
	db := New().(*DB)
	defer db.Close()
	cfg := e.rootConfig(root, rootPW)
	cfg["password_authentication"] = "scram-sha-256"
	if _, err := db.Initialize(context.Background(), dbplugin.InitializeRequest{Config: cfg, VerifyConnection: true}); err != nil {
		t.Fatal(err)
	}
	name := e.newUser(db, "Pa55-word-'one'", time.Now().Add(time.Hour))
	if !passwordIs(t, e.verifier(name), "Pa55-word-'one'") {
		t.Fatal("stored verifier is not that of the password")
	}
	if err := db.UpdateUser(context.Background(), dbplugin.UpdateUserRequest{Username: name,
		Password: &dbplugin.ChangePassword{NewPassword: "second"}}); err != nil {
		t.Fatal(err)
	}
	if !passwordIs(t, e.verifier(name), "second") {
		t.Fatal("updated verifier is not that of the password")
	}
}

func TestNotReachable(t *testing.T) {
	cfg := map[string]any{"connection_url": "postgres://{{username}}:{{password}}@127.0.0.1:1/appdb?sslmode=disable&connect_timeout=2",
		"username": "admin", "password": "s3cr3t-pass"}
	_, err := New().Initialize(context.Background(), dbplugin.InitializeRequest{VerifyConnection: true, Config: cfg})
	if err == nil || !strings.HasPrefix(err.Error(), "connect to postgresql 127.0.0.1:1/appdb: ") || strings.Contains(err.Error(), "s3cr3t-pass") {
		t.Fatalf("error = %v", err)
	}
	// without verification the first use connects, and fails the same way
	db := New()
	if _, err := db.Initialize(context.Background(), dbplugin.InitializeRequest{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.NewUser(context.Background(), dbplugin.NewUserRequest{Statements: dbplugin.Statements{Commands: []string{"SELECT 1"}}, Password: "user-pw-123"})
	if err == nil || !strings.Contains(err.Error(), "connect to postgresql 127.0.0.1:1/appdb: ") ||
		strings.Contains(err.Error(), "s3cr3t-pass") || errors.Is(err, dbplugin.ErrInvalidStatements) {
		t.Fatalf("error = %v", err)
	}
	if err := New().DeleteUser(context.Background(), dbplugin.DeleteUserRequest{Username: "x"}); err == nil || !strings.Contains(err.Error(), "not initialized") {
		t.Fatalf("uninitialised: %v", err)
	}
	if New().Type() != PluginName {
		t.Fatal("Type")
	}
}
