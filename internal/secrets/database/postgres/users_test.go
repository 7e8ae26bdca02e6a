package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

// newRoot creates an admin login with CREATEROLE (and SUPERUSER if
// super) and a password, allowed to hand on SELECT on the test table.
func (e *env) newRoot(super bool) (name, password string) {
	e.t.Helper()
	name, password = "kinko_root_"+dbtest.Suffix(), "first-Pass1"
	attrs := "LOGIN CREATEROLE"
	if super {
		attrs += " SUPERUSER"
	}
	e.exec("CREATE ROLE " + name + " WITH " + attrs + " PASSWORD '" + password + "'")
	e.t.Cleanup(func() { e.dropRole(name) })
	e.exec("GRANT SELECT ON " + e.table + " TO " + name + " WITH GRANT OPTION")
	return name, password
}

// rootConfig connects as root through the {{username}}/{{password}} URL.
func (e *env) rootConfig(root, password string) map[string]any {
	return map[string]any{"connection_url": "postgres://{{username}}:{{password}}@" + dbtest.PostgresAddr + "/postgres?sslmode=disable&connect_timeout=5",
		"username": root, "password": password}
}

// openSession logs in as the user and leaves the session open; it is
// closed when the test ends.
func (e *env) openSession(name, password string) *pgx.Conn {
	e.t.Helper()
	conn, err := connectAs(e.t, name, password)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// deleted checks that the role is gone and its session was ended.
func (e *env) deleted(name string, session *pgx.Conn) {
	e.t.Helper()
	if e.exists(name) {
		e.t.Fatalf("role %s still exists", name)
	}
	if session == nil {
		return
	}
	// PostgreSQL 14 and later wait for the session to end; older ones
	// only signal it
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := session.Exec(context.Background(), "SELECT 1"); err != nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal("the deleted user's session still works")
		}
	}
}

func TestDeleteUserWithSessionGrantsAndObjects(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	name := e.newUser(e.db, "Pa55-word", time.Now().Add(time.Hour))
	// the user owns a table and is granted privileges on a schema
	e.exec(fmt.Sprintf(`GRANT USAGE, CREATE ON SCHEMA %s TO "%s"`, e.schema, name))
	session := e.openSession(name, "Pa55-word")
	if _, err := session.Exec(ctx, "CREATE TABLE "+e.schema+".owned (v int)"); err != nil {
		t.Fatal(err)
	}
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name}); err != nil {
		t.Fatal(err)
	}
	e.deleted(name, session)
	var owner string
	e.admin.QueryRow(ctx, "SELECT tableowner FROM pg_tables WHERE schemaname=$1 AND tablename='owned'", e.schema).Scan(&owner)
	if owner != "postgres" {
		t.Fatalf("the user's table went to %q, want postgres", owner)
	}
	if _, err := connectAs(t, name, "Pa55-word"); err == nil {
		t.Fatal("login works after delete")
	}
	for _, user := range []string{name, "kinko-never-" + dbtest.Suffix()} {
		if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: user}); err != nil {
			t.Fatalf("deleting %s, which does not exist: %v", user, err)
		}
	}
}

// A CREATEROLE admin that is not a superuser removes its users too.
func TestDeleteUserAsCreateRoleAdmin(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	root, pw := e.newRoot(false)
	db := New().(*DB)
	defer db.Close()
	if _, err := db.Initialize(ctx, dbplugin.InitializeRequest{Config: e.rootConfig(root, pw), VerifyConnection: true}); err != nil {
		t.Fatal(err)
	}
	// privileges the admin granted (it cannot revoke others' grants)
	e.exec("GRANT USAGE ON SCHEMA " + e.schema + " TO " + root + " WITH GRANT OPTION")
	creation := e.creation()
	creation.Commands = append(creation.Commands, `GRANT USAGE ON SCHEMA `+e.schema+` TO "{{name}}"`)
	res, err := db.NewUser(ctx, dbplugin.NewUserRequest{Statements: creation, Password: "Pa55-word", Expiration: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Username
	t.Cleanup(func() { e.dropRole(name) })
	session := e.openSession(name, "Pa55-word")
	if err := db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name}); err != nil {
		t.Fatal(err)
	}
	e.deleted(name, session)
	var member bool
	e.admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1)", root).Scan(&member)
	if member {
		t.Fatal("the admin kept a membership")
	}
}

func TestDeleteUserWithStatements(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	name := e.newUser(e.db, "Pa55-word", time.Now().Add(time.Hour))
	session := e.openSession(name, "Pa55-word")
	stmts := dbplugin.Statements{Commands: []string{`REVOKE ALL ON ` + e.table + ` FROM "{{name}}"; DROP ROLE "{{name}}";`}}
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name, Statements: stmts}); err != nil {
		t.Fatal(err)
	}
	e.deleted(name, session)
	// statements PostgreSQL refuses: the caller's fault
	other := e.newUser(e.db, "Pa55-word", time.Now().Add(time.Hour))
	bad := dbplugin.Statements{Commands: []string{`DROP ROLE "{{name}}"`}} // still granted SELECT
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: other, Statements: bad}); !errors.Is(err, dbplugin.ErrInvalidStatements) ||
		!strings.Contains(err.Error(), "privileges for table "+e.table) {
		t.Fatalf("refused revocation: %v", err)
	}
}

func TestBrokenStatements(t *testing.T) {
	prefix := "kinko-broken-" + dbtest.Suffix()
	e := newEnv(t, map[string]any{"username_template": prefix + "-{{random 8}}"})
	ctx := context.Background()
	bad := dbplugin.Statements{Commands: []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'; GRANT SELEKT ON ` + e.table + ` TO "{{name}}";`}}
	_, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{Statements: bad, Password: "user-secret-pw"})
	if !errors.Is(err, dbplugin.ErrInvalidStatements) || !strings.Contains(err.Error(), `"selekt"`) || strings.Contains(err.Error(), "user-secret-pw") {
		t.Fatalf("creation with broken SQL: %v", err)
	}
	var left int
	e.admin.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE starts_with(rolname, $1)", prefix).Scan(&left)
	if left != 0 {
		t.Fatalf("a failed creation left %d roles", left)
	}
	if _, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{Password: "x"}); !errors.Is(err, dbplugin.ErrInvalidStatements) {
		t.Fatalf("no creation statements: %v", err)
	}
}

func TestValidateStatements(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		kind dbplugin.StatementKind
		sql  string
		want string // "" when valid
	}{
		{"creation", dbplugin.CreationStatements, e.creation().Commands[0], ""},
		{"syntax", dbplugin.CreationStatements, `CREATE ROLE "{{name}}"; GRANT SELEKT ON ` + e.table + ` TO "{{name}}"`, "statement 2 on postgresql " + dbtest.PostgresAddr + `/postgres: unrecognized privilege type "selekt"`},
		{"missing table", dbplugin.CreationStatements, `CREATE ROLE "{{name}}"; GRANT SELECT ON kinko_no_such_table TO "{{name}}"`, `relation "kinko_no_such_table" does not exist`},
		{"names the role as {{name}}", dbplugin.CreationStatements, `GRANT SELECT ON ` + e.table + ` TO "{{name}}"`, `role "{{name}}" does not exist`},
		{"bad expiration", dbplugin.CreationStatements, `CREATE ROLE "{{name}}" VALID UNTIL 'soon{{expiration}}'`, "invalid input syntax"},
		{"transaction control", dbplugin.CreationStatements, `CREATE ROLE "{{name}}"; COMMIT`, "controls the transaction"},
		{"revocation", dbplugin.RevocationStatements, `REVOKE ALL ON ` + e.table + ` FROM "{{name}}"; DROP ROLE "{{name}}"`, ""},
		{"revocation syntax", dbplugin.RevocationStatements, `DROP ROLL "{{name}}"`, "statement 1 on postgresql " + dbtest.PostgresAddr + `/postgres: syntax error at or near "ROLL"`},
		{"renewal", dbplugin.RenewStatements, defaultExpirationStmt, ""},
		{"rotation", dbplugin.RotationStatements, defaultPasswordStmt, ""},
		{"empty", dbplugin.RollbackStatements, " ; ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.db.ValidateStatements(ctx, tc.kind, dbplugin.Statements{Commands: []string{tc.sql}})
			if tc.want == "" && err != nil || tc.want != "" && (!errors.Is(err, dbplugin.ErrInvalidStatements) || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	var n int
	e.admin.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE starts_with(rolname, 'kinko-validate-')").Scan(&n)
	if n != 0 {
		t.Fatalf("validation left %d roles behind", n)
	}
}

// Rollback statements run, one by one, after the creation failed: a
// failing one does not stop the next.
func TestRollbackStatements(t *testing.T) {
	name := "kinko-fixed-" + dbtest.Suffix()
	e := newEnv(t, map[string]any{"username_template": name})
	ctx := context.Background()
	marker := name + "-rolled-back"
	t.Cleanup(func() { e.dropRole(marker) })
	_, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{Password: "pw",
		Statements:         dbplugin.Statements{Commands: []string{`CREATE ROLE "{{name}}"; SELECT 1/0`}},
		RollbackStatements: dbplugin.Statements{Commands: []string{`DROP ROLE "{{name}}"`, `CREATE ROLE "{{name}}-rolled-back"`}}})
	if !errors.Is(err, dbplugin.ErrInvalidStatements) || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("failed creation: %v", err)
	}
	if e.exists(name) || !e.exists(marker) {
		t.Fatalf("role exists %v, rollback marker exists %v", e.exists(name), e.exists(marker))
	}
}

// Root rotation: the admin changes its own password through the plugin,
// then the plugin is initialised again with it and keeps working.
func TestRootRotation(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	root, pw := e.newRoot(false)
	cfg := e.rootConfig(root, pw)
	db := New().(*DB)
	defer db.Close()
	resp, err := db.Initialize(ctx, dbplugin.InitializeRequest{Config: cfg, VerifyConnection: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Config["password"] != pw || strings.Contains(fmt.Sprint(resp.Config["connection_url"]), pw) {
		t.Fatalf("stored config %v", resp.Config)
	}
	before := e.newUser(db, "user-pw", time.Now().Add(time.Hour))
	const next = `second-P@ss:/2'?#%` // characters that need escaping in a URL and in SQL
	if err := db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: root, Password: &dbplugin.ChangePassword{NewPassword: next}}); err != nil {
		t.Fatal(err)
	}
	if !passwordIs(t, e.verifier(root), next) {
		t.Fatal("root password not changed")
	}
	resp.Config["password"] = next
	if _, err := db.Initialize(ctx, dbplugin.InitializeRequest{Config: resp.Config, VerifyConnection: true}); err != nil {
		t.Fatal(err)
	}
	after := e.newUser(db, "user-pw", time.Now().Add(time.Hour))
	for _, name := range []string{before, after} {
		if err := db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name}); err != nil {
			t.Fatal(err)
		}
		e.deleted(name, nil)
	}
}

// Users are created and deleted while the plugin is initialised again
// and again: no operation fails for it (run with -race).
func TestConcurrentUseAcrossReinitialize(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st := dbplugin.Statements{Commands: []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ` + e.table + ` TO "{{name}}";`}}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				res, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{Statements: st, Password: "pw", Expiration: time.Now().Add(time.Hour)})
				if err == nil {
					err = e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: res.Username})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < 5; i++ {
		if _, err := e.db.Initialize(ctx, dbplugin.InitializeRequest{Config: map[string]any{"connection_url": e.url, "max_open_connections": 2}}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkNewUserDeleteUser(b *testing.B) {
	url := dbtest.PostgresURL(b)
	ctx := context.Background()
	db := New().(*DB)
	if _, err := db.Initialize(ctx, dbplugin.InitializeRequest{Config: map[string]any{"connection_url": url}, VerifyConnection: true}); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := dbplugin.Statements{Commands: []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`}}
	for b.Loop() {
		res, err := db.NewUser(ctx, dbplugin.NewUserRequest{Statements: st, Password: "Pa55word", Expiration: time.Now().Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: res.Username}); err != nil {
			b.Fatal(err)
		}
	}
}
