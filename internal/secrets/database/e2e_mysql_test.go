package database_test

import (
	"database/sql"
	"strings"
	"testing"

	driver "github.com/go-sql-driver/mysql"
	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
	"github.com/kinko-dev/kinko/internal/testserver"
)

func TestMariaDBCredsThroughTheEngine(t *testing.T) {
	dbtest.MySQLDSN(t)
	admin, err := sql.Open("mysql", dbtest.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() }) // registered first: runs after the drops below
	sfx := dbtest.Suffix()
	schema, root := "kinko_"+sfx, "kr_"+sfx
	for _, q := range []string{"CREATE DATABASE " + schema, "CREATE TABLE " + schema + ".t (v int)",
		"CREATE USER '" + root + "'@'%' IDENTIFIED BY 'first-Pass1'", "GRANT ALL PRIVILEGES ON *.* TO '" + root + "'@'%' WITH GRANT OPTION"} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + schema)
		admin.Exec("DROP USER IF EXISTS '" + root + "'@'%'")
	})
	srv := testserver.Start(t)
	c := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	if err := c.Sys().Mount("db", &vault.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	mustWrite := func(path string, data map[string]any) {
		t.Helper()
		if _, err := c.Logical().Write(path, data); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	mustWrite("db/config/maria", map[string]any{"plugin_name": "mysql-database-plugin",
		"connection_url": "{{username}}:{{password}}@tcp(" + dbtest.MySQLAddr + ")/", "username": root, "password": "first-Pass1",
		"allowed_roles": "app"})
	mustWrite("db/rotate-root/maria", nil)
	mustWrite("db/roles/app", map[string]any{"db_name": "maria", "default_ttl": "1h",
		"creation_statements": []string{"CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON " + schema + ".* TO '{{name}}'@'%';"}})
	if _, err := c.Logical().Write("db/roles/other", map[string]any{"db_name": "maria", "creation_statements": "SELECT 1"}); err == nil || !strings.Contains(err.Error(), "allowed_roles") {
		t.Fatalf("role outside allowed_roles: %v", err)
	}
	s, err := c.Logical().Read("db/creds/app")
	if err != nil {
		t.Fatal(err)
	}
	user, pw := s.Data["username"].(string), s.Data["password"].(string)
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, pw, "tcp", dbtest.MySQLAddr, schema
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec("SELECT COUNT(*) FROM t"); err != nil {
		t.Fatalf("permitted: %v", err)
	}
	if _, err := conn.Exec("INSERT INTO t VALUES (1)"); err == nil {
		t.Fatal("forbidden insert worked")
	}
	if err := c.Sys().Revoke(s.LeaseID); err != nil {
		t.Fatal(err)
	}
	var n int
	admin.QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User = ?", user).Scan(&n)
	if n != 0 {
		t.Fatal("user still exists after revoke")
	}
	conn.Close()
	if again, err := sql.Open("mysql", cfg.FormatDSN()); err == nil {
		if err := again.Ping(); err == nil {
			t.Fatal("login works after revoke")
		}
		again.Close()
	}
}
