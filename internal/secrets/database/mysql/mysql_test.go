package mysql

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]any
		err  string
	}{
		{"missing url", map[string]any{}, "connection_url is required"},
		{"unknown key", map[string]any{"connection_url": "u@tcp(h:3306)/", "tls_ca": "x"}, "unknown connection parameters tls_ca"},
		{"password in url", map[string]any{"connection_url": "u:hunter2@tcp(h:3306)/", "password": "hunter2"}, "must use {{password}}"},
		{"bad dsn", map[string]any{"connection_url": "{{username}}:{{password}}@tcp(h:3306", "username": "u", "password": "hunter2"}, "connection_url"},
		{"bad template", map[string]any{"connection_url": "u@tcp(h:3306)/", "username_template": "{{"}, "username_template"},
		{"bad int", map[string]any{"connection_url": "u@tcp(h:3306)/", "max_open_connections": "many"}, "max_open_connections"},
		{"bad duration", map[string]any{"connection_url": "u@tcp(h:3306)/", "max_connection_lifetime": "soon"}, "max_connection_lifetime"},
		{"not a string", map[string]any{"connection_url": 42}, "connection_url must be a string"},
		{"placeholder in address", map[string]any{"connection_url": "u:{{password}}@tcp({{username}})/", "password": "hunter2"}, "before the @"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New().Initialize(context.Background(), dbplugin.InitializeRequest{Config: tc.cfg})
			if !errors.Is(err, dbplugin.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %v, want ErrInvalidConfig with %q", err, tc.err)
			}
		})
	}
}

type env struct {
	admin     *sql.DB
	db        *DB
	schema    string
	adminAddr string
}

func newEnv(t *testing.T, plugin string) *env {
	t.Helper()
	dsn := dbtest.MySQLDSN(t)
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	e := &env{admin: admin, db: Plugins()[plugin]().(*DB), schema: "kinko_" + dbtest.Suffix()}
	for _, q := range []string{"CREATE DATABASE " + e.schema, "CREATE TABLE " + e.schema + ".t (v int)"} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + e.schema) })
	if _, err := e.db.Initialize(context.Background(), dbplugin.InitializeRequest{VerifyConnection: true,
		Config: map[string]any{"connection_url": "{{username}}:{{password}}@tcp(" + dbtest.MySQLAddr + ")/", "username": "root"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	return e
}

func (e *env) creation() dbplugin.Statements {
	return dbplugin.Statements{Commands: []string{`CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON ` + e.schema + `.* TO '{{name}}'@'%';`}}
}

func (e *env) exists(t *testing.T, name string) bool {
	t.Helper()
	var n int
	if err := e.admin.QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func connectAs(user, pw, schema string) (*sql.DB, error) {
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, pw, "tcp", dbtest.MySQLAddr, schema
	cfg.Logger = &driver.NopLogger{} // sessions that tests see killed are expected
	connector, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func TestUserLifecycle(t *testing.T) {
	e := newEnv(t, PluginName)
	ctx := context.Background()
	res, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{UsernameConfig: dbplugin.UsernameMetadata{DisplayName: "token", RoleName: "readonly"},
		Statements: e.creation(), Password: "Pa55-one", Expiration: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	name := res.Username
	t.Cleanup(func() { e.db.DeleteUser(context.Background(), dbplugin.DeleteUserRequest{Username: name}) })
	if len(name) > 32 || !strings.HasPrefix(name, "v-token-readonly-") {
		t.Fatalf("name %q", name)
	}
	conn, err := connectAs(name, "Pa55-one", e.schema)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec("SELECT COUNT(*) FROM t"); err != nil {
		t.Fatalf("permitted: %v", err)
	}
	var me *driver.MySQLError
	if _, err := conn.Exec("INSERT INTO t VALUES (1)"); !errors.As(err, &me) || me.Number != 1142 {
		t.Fatalf("forbidden: %v", err)
	}
	if err := e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: name, Password: &dbplugin.ChangePassword{NewPassword: "Pa55-two"}}); err != nil {
		t.Fatal(err)
	}
	if c, err := connectAs(name, "Pa55-one", e.schema); err == nil {
		c.Close()
		t.Fatal("old password still works")
	}
	c2, err := connectAs(name, "Pa55-two", e.schema)
	if err != nil {
		t.Fatalf("new password: %v", err)
	}
	c2.Close()
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name}); err != nil {
		t.Fatal(err)
	}
	if e.exists(t, name) {
		t.Fatal("user still in mysql.user")
	}
	if _, err := conn.Exec("SELECT 1"); err == nil {
		t.Fatal("the deleted user's open connection still works")
	}
	if c, err := connectAs(name, "Pa55-two", e.schema); err == nil {
		c.Close()
		t.Fatal("login works after delete")
	}
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: name}); err != nil {
		t.Fatalf("deleting a deleted user: %v", err)
	}
}

func TestBrokenStatements(t *testing.T) {
	e := newEnv(t, PluginName)
	ctx := context.Background()
	bad := dbplugin.Statements{Commands: []string{`CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELEKT ON ` + e.schema + `.* TO '{{name}}'@'%';`}}
	if err := e.db.ValidateStatements(ctx, dbplugin.CreationStatements, bad); !errors.Is(err, dbplugin.ErrInvalidStatements) || !strings.Contains(err.Error(), "1064") {
		t.Fatalf("validate broken: %v", err)
	}
	for _, kind := range []dbplugin.StatementKind{dbplugin.CreationStatements, dbplugin.RevocationStatements, dbplugin.RotationStatements} {
		good := e.creation()
		if kind == dbplugin.RevocationStatements {
			good = dbplugin.Statements{Commands: []string{`DROP USER '{{name}}'@'%'`}}
		} else if kind == dbplugin.RotationStatements {
			good = dbplugin.Statements{Commands: []string{defaultPasswordStmt}}
		}
		if err := e.db.ValidateStatements(ctx, kind, good); err != nil {
			t.Fatalf("validate %s: %v", kind, err)
		}
	}
	var n int
	e.admin.QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'kv-%'").Scan(&n)
	if n != 0 {
		t.Fatal("validation created users")
	}
	res, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{Statements: bad, Password: "x"})
	if !errors.Is(err, dbplugin.ErrInvalidStatements) || res.Username != "" {
		t.Fatalf("creation with broken SQL: %v", err)
	}
	e.admin.QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'v---%'").Scan(&n)
	if n != 0 {
		t.Fatal("a failed creation left its user behind")
	}
}

func TestLegacyNames(t *testing.T) {
	for _, plugin := range []string{LegacyPluginName, AuroraPluginName, RDSPluginName} {
		t.Run(plugin, func(t *testing.T) {
			e := newEnv(t, plugin)
			res, err := e.db.NewUser(context.Background(), dbplugin.NewUserRequest{UsernameConfig: dbplugin.UsernameMetadata{DisplayName: "a-long-display-name", RoleName: "reporting"},
				Statements: e.creation(), Password: "Pa55"})
			if err != nil {
				t.Fatal(err)
			}
			defer e.db.DeleteUser(context.Background(), dbplugin.DeleteUserRequest{Username: res.Username})
			if len(res.Username) != 16 || !strings.HasPrefix(res.Username, "v-repo-") {
				t.Fatalf("legacy name %q, want 16 characters from v-repo-", res.Username)
			}
			if !e.exists(t, res.Username) {
				t.Fatal("user not created")
			}
		})
	}
}

// TestRootRotation runs as an admin that is not root: it may create users
// and hand on SELECT on the test schema, and no more.
func TestRootRotation(t *testing.T) {
	e := newEnv(t, PluginName)
	ctx := context.Background()
	root := "kr_" + dbtest.Suffix()
	for _, q := range []string{"CREATE USER '" + root + "'@'%' IDENTIFIED BY 'first-Pass1'",
		"GRANT CREATE USER ON *.* TO '" + root + "'@'%' WITH GRANT OPTION",
		"GRANT SELECT ON " + e.schema + ".* TO '" + root + "'@'%' WITH GRANT OPTION"} {
		if _, err := e.admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { e.admin.Exec("DROP USER IF EXISTS '" + root + "'@'%'") })
	cfg := map[string]any{"connection_url": "{{username}}:{{password}}@tcp(" + dbtest.MySQLAddr + ")/", "username": root, "password": "first-Pass1"}
	db := New().(*DB)
	defer db.Close()
	resp, err := db.Initialize(ctx, dbplugin.InitializeRequest{Config: cfg, VerifyConnection: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Config["password"] != "first-Pass1" || strings.Contains(resp.Config["connection_url"].(string), "first-Pass1") {
		t.Fatalf("stored config %v", resp.Config)
	}
	const second = "second-P@ss:/2?x" // characters a DSN gives meaning to
	if err := db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: root, Password: &dbplugin.ChangePassword{NewPassword: second}}); err != nil {
		t.Fatal(err)
	}
	oldPool, _ := db.current()
	cfg["password"] = second
	if _, err := db.Initialize(ctx, dbplugin.InitializeRequest{Config: cfg, VerifyConnection: true}); err != nil {
		t.Fatal(err)
	}
	if err := oldPool.PingContext(ctx); err == nil {
		t.Fatal("the pool from before the rotation is still open")
	}
	if c, err := connectAs(root, "first-Pass1", ""); err == nil {
		c.Close()
		t.Fatal("the old root password still works")
	}
	res, err := db.NewUser(ctx, dbplugin.NewUserRequest{Statements: e.creation(), Password: "Pa55-three"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := connectAs(res.Username, "Pa55-three", e.schema)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Exec("SELECT COUNT(*) FROM t"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: res.Username}); err != nil {
		t.Fatal(err)
	}
	if e.exists(t, res.Username) {
		t.Fatal("user left after delete")
	}
}

func FuzzConfig(f *testing.F) {
	f.Add("{{username}}:{{password}}@tcp(h:3306)/", "u", "secretpw", "4", "{{random 5}}")
	f.Add("bad dsn", "", "", "x", "")
	f.Add("{{username}}:{{password}}@unix(/tmp/s)/db?timeout=1s", "a:b", "p@/:?", "0", "{{.RoleName | truncate 3}}")
	f.Fuzz(func(t *testing.T, url, user, pw, maxOpen, tmpl string) {
		cfg := map[string]any{"connection_url": url, "username": user, "password": pw, "max_open_connections": maxOpen, "username_template": tmpl}
		db := New()
		defer db.Close()
		res, err := db.Initialize(context.Background(), dbplugin.InitializeRequest{Config: cfg})
		if err != nil {
			if !errors.Is(err, dbplugin.ErrInvalidConfig) {
				t.Fatalf("error without ErrInvalidConfig: %v", err)
			}
			if len(pw) > 5 && strings.Contains(err.Error(), pw) && !strings.Contains(url+user+maxOpen+tmpl, pw) {
				t.Fatalf("password in error: %v", err)
			}
			return
		}
		if res.Config["connection_url"] != url || res.Config["password"] != pw {
			t.Fatalf("normalised config changed the URL or password: %v", res.Config)
		}
	})
}

func BenchmarkNewUserDeleteUser(b *testing.B) {
	dsn := dbtest.MySQLDSN(b)
	db := New()
	ctx := context.Background()
	if _, err := db.Initialize(ctx, dbplugin.InitializeRequest{VerifyConnection: true,
		Config: map[string]any{"connection_url": dsn}}); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := dbplugin.Statements{Commands: []string{`CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := db.NewUser(ctx, dbplugin.NewUserRequest{Statements: st, Password: "Pa55"})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: res.Username}); err != nil {
			b.Fatal(err)
		}
	}
}
