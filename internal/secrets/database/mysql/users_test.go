package mysql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

func TestVariants(t *testing.T) {
	want := map[string]int{PluginName: 32, AuroraPluginName: 16, RDSPluginName: 16, LegacyPluginName: 16}
	plugins := Plugins()
	if len(plugins) != len(want) {
		t.Fatalf("%d plugins, want %d", len(plugins), len(want))
	}
	for name, maxLen := range want {
		db := plugins[name]().(*DB)
		if db.Type() != name || db.maxName != maxLen {
			t.Errorf("%s: type %q, names up to %d, want %d", name, db.Type(), db.maxName, maxLen)
		}
	}
}

func TestDriverConfig(t *testing.T) {
	tests := []struct {
		name, url, user, pw   string
		wantUser, wantAddr    string
		wantDB, wantErrSubstr string
	}{
		{"placeholders", "{{username}}:{{password}}@tcp(db.example:3307)/app", "admin", "p@ss:w/rd?x=1", "admin", "db.example:3307", "app", ""},
		{"colon in user", "{{username}}:{{password}}@tcp(h:3306)/", "a:b@c", "x", "a:b@c", "h:3306", "", ""},
		{"no credentials", "tcp(h:3306)/", "", "", "", "h:3306", "", ""},
		{"placeholder in address", "u:{{password}}@tcp({{username}}:3306)/", "h", "x", "", "", "", "belong before the @"},
		{"no slash", "{{username}}@tcp(h:3306)", "u", "x", "", "", "", "connection_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := driverConfig(tc.url, tc.user, tc.pw)
			if tc.wantErrSubstr != "" {
				if !errors.Is(err, dbplugin.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.wantErrSubstr) {
					t.Fatalf("error %v, want ErrInvalidConfig with %q", err, tc.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.User != tc.wantUser || cfg.Passwd != tc.pw || cfg.Addr != tc.wantAddr || cfg.DBName != tc.wantDB {
				t.Fatalf("user %q addr %q db %q, password filled: %v", cfg.User, cfg.Addr, cfg.DBName, cfg.Passwd == tc.pw)
			}
		})
	}
}

func TestNormalisedConfig(t *testing.T) {
	db := New()
	defer db.Close()
	res, err := db.Initialize(context.Background(), dbplugin.InitializeRequest{Config: map[string]any{
		"connection_url": "{{username}}:{{password}}@tcp(127.0.0.1:1)/", "username": "admin", "password": "pw",
		"max_open_connections": "6", "max_connection_lifetime": "30s"}})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Config
	if c["password"] != "pw" || c["max_open_connections"] != 6 || c["max_idle_connections"] != 6 || c["max_connection_lifetime"] != "30s" {
		t.Fatalf("normalised config %v", c)
	}
}

func TestErrorsNameServerNotPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := New().Initialize(ctx, dbplugin.InitializeRequest{VerifyConnection: true, Config: map[string]any{
		"connection_url": "{{username}}:{{password}}@tcp(127.0.0.1:1)/appdb?timeout=2s", "username": "admin", "password": "s3cr3t-pass"}})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1/appdb") || strings.Contains(err.Error(), "s3cr3t-pass") {
		t.Fatalf("error = %v", err)
	}
}

func TestOpenSessionKilledOnDelete(t *testing.T) {
	e := newEnv(t, PluginName)
	ctx := context.Background()
	res, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{Statements: e.creation(), Password: "Pa55-one"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.DeleteUser(context.Background(), dbplugin.DeleteUserRequest{Username: res.Username}) })
	pool, err := connectAs(res.Username, "Pa55-one", e.schema)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// a pinned connection: it cannot quietly reconnect, and MySQL keeps a
	// session alive after DROP USER unless it is killed
	conn, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT COUNT(*) FROM t"); err != nil {
		t.Fatal(err)
	}
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: res.Username}); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT COUNT(*) FROM t"); err == nil {
		t.Fatal("the deleted user's open session still works")
	}
	if e.exists(t, res.Username) {
		t.Fatal("user still exists")
	}
	// a killed session leaves the process list once the server has torn
	// it down, which is not instantaneous: poll
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		e.admin.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?", res.Username).Scan(&n)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions of the deleted user left", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRollback(t *testing.T) {
	e := newEnv(t, PluginName)
	ctx := context.Background()
	failing := dbplugin.Statements{Commands: []string{`CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON ` + e.schema + `.nosuch TO '{{name}}'@'%'`}}
	marker := e.schema + ".rolled_back"
	_, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{Statements: failing, Password: "Pa55",
		RollbackStatements: dbplugin.Statements{Commands: []string{"CREATE TABLE " + marker + " (v int); DROP USER IF EXISTS '{{name}}'@'%'"}}})
	if !errors.Is(err, dbplugin.ErrInvalidStatements) || !strings.Contains(err.Error(), "1146") {
		t.Fatalf("creation error %v", err)
	}
	if _, err := e.admin.Exec("SELECT * FROM " + marker); err != nil {
		t.Fatalf("rollback statements did not run: %v", err)
	}

	// the default rollback drops what the first statement created ...
	fixed := "kf_" + dbtest.Suffix()
	db := New().(*DB)
	if _, err := db.Initialize(ctx, dbplugin.InitializeRequest{Config: map[string]any{
		"connection_url": "root@tcp(" + dbtest.MySQLAddr + ")/", "username_template": fixed}}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Cleanup(func() { e.admin.Exec("DROP USER IF EXISTS '" + fixed + "'@'%'") })
	if _, err := db.NewUser(ctx, dbplugin.NewUserRequest{Statements: failing, Password: "Pa55"}); err == nil {
		t.Fatal("creation succeeded")
	}
	if e.exists(t, fixed) {
		t.Fatal("default rollback left the user behind")
	}
	// ... but never a user that existed before: CREATE USER failed, so
	// nothing was created
	if _, err := e.admin.Exec("CREATE USER '" + fixed + "'@'%' IDENTIFIED BY 'theirs'"); err != nil {
		t.Fatal(err)
	}
	_, err = db.NewUser(ctx, dbplugin.NewUserRequest{Statements: failing, Password: "Pa55"})
	if !errors.Is(err, dbplugin.ErrInvalidStatements) || !strings.Contains(err.Error(), "1396") {
		t.Fatalf("creation over an existing user: %v", err)
	}
	if !e.exists(t, fixed) {
		t.Fatal("the rollback dropped a user it did not create")
	}
}

func TestUnsafeValuesRefused(t *testing.T) {
	e := newEnv(t, PluginName)
	ctx := context.Background()
	_, err := e.db.NewUser(ctx, dbplugin.NewUserRequest{UsernameConfig: dbplugin.UsernameMetadata{DisplayName: "x'@'%' IDENTIFIED BY 'y", RoleName: "r"},
		Statements: e.creation(), Password: "Pa55"})
	if !errors.Is(err, dbplugin.ErrInvalidConfig) {
		t.Fatalf("quote in the display name: %v", err)
	}
	_, err = e.db.NewUser(ctx, dbplugin.NewUserRequest{Statements: e.creation(), Password: `it's-a-secret`})
	if !errors.Is(err, dbplugin.ErrInvalidConfig) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("quote in the password: %v", err)
	}
	err = e.db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: "u", Password: &dbplugin.ChangePassword{NewPassword: `back\slash`}})
	if !errors.Is(err, dbplugin.ErrInvalidConfig) {
		t.Fatalf("backslash in the password: %v", err)
	}
	if err := e.db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: "a'b"}); !errors.Is(err, dbplugin.ErrInvalidConfig) {
		t.Fatalf("quote in the user name: %v", err)
	}
}

func TestValidateEdgeCases(t *testing.T) {
	e := newEnv(t, PluginName)
	ctx := context.Background()
	create := `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`
	tests := []struct {
		name, stmts string
		invalid     string // error text expected, "" when valid
	}{
		{"use then unqualified", "USE " + e.schema + "; " + create + "; GRANT SELECT ON t TO '{{name}}'@'%'", ""},
		{"unqualified without use", create + "; GRANT SELECT ON t TO '{{name}}'@'%'", "1046"},
		{"use unknown database", "USE nosuch_" + dbtest.Suffix(), "1049"},
		{"unterminated string", `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}`, "1064"},
		{"not preparable, accepted unchecked", "DEALLOCATE PREPARE nothing", ""},
		{"ddl forms", create + " WITH MAX_USER_CONNECTIONS 2; ALTER USER '{{name}}'@'%' ACCOUNT LOCK; SET PASSWORD FOR '{{name}}'@'%' = PASSWORD('{{password}}'); REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{{name}}'@'%'; DROP USER IF EXISTS '{{name}}'@'%'", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.db.ValidateStatements(ctx, dbplugin.CreationStatements, dbplugin.Statements{Commands: []string{tc.stmts}})
			if tc.invalid == "" && err != nil {
				t.Fatalf("valid statements refused: %v", err)
			}
			if tc.invalid != "" && (!errors.Is(err, dbplugin.ErrInvalidStatements) || !strings.Contains(err.Error(), tc.invalid)) {
				t.Fatalf("error %v, want ErrInvalidStatements with %q", err, tc.invalid)
			}
		})
	}
	var n int
	e.admin.QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'kinko\\_v\\_%'").Scan(&n)
	if n != 0 {
		t.Fatalf("validation created %d users", n)
	}
	// USE changed only a connection that was then discarded
	pool, _ := e.db.current()
	for i := 0; i < 8; i++ {
		var dbname *string
		if err := pool.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&dbname); err != nil || dbname != nil {
			t.Fatalf("a pooled connection uses database %v (err %v)", dbname, err)
		}
	}
}
