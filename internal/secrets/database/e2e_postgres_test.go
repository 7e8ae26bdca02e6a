package database_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
	"github.com/kinko-dev/kinko/internal/server"
	"github.com/kinko-dev/kinko/internal/testserver"
)

func TestPostgresCredsLifecycle(t *testing.T) {
	e := newPGEnv(t)
	ctx := context.Background()
	lease, user, pw := e.creds("readonly")
	if !strings.HasPrefix(lease, "database/creds/readonly/") || !strings.HasPrefix(user, "v-root-readonly-") {
		t.Fatalf("lease %q user %q", lease, user)
	}
	conn, err := connectAs(user, pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM "+e.table); err != nil {
		t.Fatalf("permitted query: %v", err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO "+e.table+" VALUES (1)"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("forbidden query: %v", err)
	}
	var before, after time.Time
	e.admin.QueryRow(ctx, "SELECT rolvaliduntil FROM pg_roles WHERE rolname=$1", user).Scan(&before)
	renewed, err := e.client.Sys().Renew(lease, 90*60)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.LeaseDuration < 90*60-2 || renewed.LeaseDuration > 90*60 {
		t.Fatalf("renewed for %ds", renewed.LeaseDuration)
	}
	e.admin.QueryRow(ctx, "SELECT rolvaliduntil FROM pg_roles WHERE rolname=$1", user).Scan(&after)
	if !after.After(before.Add(25 * time.Minute)) {
		t.Fatalf("VALID UNTIL moved from %v to %v", before, after)
	}
	// past max_ttl (2h): capped, with a warning
	capped, err := e.client.Sys().Renew(lease, 5*3600)
	if err != nil || capped.LeaseDuration > 2*3600 || len(capped.Warnings) == 0 {
		t.Fatalf("renew past max_ttl: %+v %v", capped, err)
	}
	look := e.write("sys/leases/lookup", map[string]any{"lease_id": lease})
	if look.Data["id"] != lease || look.Data["renewable"] != true {
		t.Fatalf("lookup: %v", look.Data)
	}
	if err := e.client.Sys().Revoke(lease); err != nil {
		t.Fatal(err)
	}
	if e.exists(user) {
		t.Fatal("revoked user still in pg_roles")
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("the revoked user's open session still works")
	}
	if _, err := connectAs(user, pw); err == nil {
		t.Fatal("login works after revocation")
	}
}

func TestPostgresExpiryRevokesWithoutACall(t *testing.T) {
	e := newPGEnv(t)
	e.write("database/roles/short", map[string]any{"db_name": "pg", "default_ttl": "2s", "max_ttl": "10s",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`}})
	_, user, _ := e.creds("short")
	if !e.exists(user) {
		t.Fatal("user not created")
	}
	e.waitGone(user, 15*time.Second)
}

func TestPostgresRevokePrefixAndTokenRevocation(t *testing.T) {
	e := newPGEnv(t)
	var users []string
	for i := 0; i < 3; i++ {
		_, u, _ := e.creds("readonly")
		users = append(users, u)
	}
	if err := e.client.Sys().RevokePrefix("database/creds/readonly"); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if e.exists(u) {
			t.Fatalf("%s survived revoke-prefix", u)
		}
	}
	// a token's leases go with it
	if err := e.client.Sys().PutPolicy("creds", `path "database/creds/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := e.client.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"creds"}})
	if err != nil {
		t.Fatal(err)
	}
	app := testserver.VaultClient(t, e.srv.Addr, tok.Auth.ClientToken)
	s, err := app.Logical().Read("database/creds/readonly")
	if err != nil {
		t.Fatal(err)
	}
	user := s.Data["username"].(string)
	if err := e.client.Auth().Token().RevokeTree(tok.Auth.ClientToken); err != nil {
		t.Fatal(err)
	}
	e.waitGone(user, 15*time.Second)
}

func TestPostgresBadInput(t *testing.T) {
	e := newPGEnv(t)
	_, err := e.client.Logical().Write("database/roles/broken", map[string]any{"db_name": "pg",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'; GRANT SELEKT ON ` + e.table + ` TO "{{name}}";`}})
	if err == nil || !strings.Contains(err.Error(), "Code: 400") || !strings.Contains(err.Error(), "selekt") {
		t.Fatalf("broken SQL at role write: %v", err)
	}
	if s, _ := e.client.Logical().Read("database/roles/broken"); s != nil {
		t.Fatal("a role with broken SQL was stored")
	}
	var n int
	e.admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'kinko-validate-%'").Scan(&n)
	if n != 0 {
		t.Fatal("validation left a role behind")
	}
	_, err = e.client.Logical().Write("database/config/down", map[string]any{"plugin_name": "postgresql-database-plugin",
		"connection_url": "postgres://{{username}}:{{password}}@127.0.0.1:1/appdb?sslmode=disable&connect_timeout=2",
		"username":       "admin", "password": "Do-Not-Leak-42", "allowed_roles": "*"})
	if err == nil || !strings.Contains(err.Error(), "Code: 502") || !strings.Contains(err.Error(), "127.0.0.1:1/appdb") || strings.Contains(err.Error(), "Do-Not-Leak-42") {
		t.Fatalf("unreachable database: %v", err)
	}
	for path, body := range map[string]map[string]any{
		"database/config/x":        {"plugin_name": "nope-plugin"},
		"database/roles/noconn":    {"db_name": "missing", "creation_statements": "SELECT 1"},
		"database/roles/nostmt":    {"db_name": "pg"},
		"database/static-roles/sr": {"db_name": "pg", "username": "u", "rotation_period": "1s"},
	} {
		if _, err := e.client.Logical().Write(path, body); err == nil || !strings.Contains(err.Error(), "Code: 400") {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func TestPostgresRotateRootAndReadBack(t *testing.T) {
	e := newPGEnv(t)
	ctx := context.Background()
	cfg, err := e.client.Logical().Read("database/config/pg")
	if err != nil {
		t.Fatal(err)
	}
	details := cfg.Data["connection_details"].(map[string]any)
	if _, ok := details["password"]; ok || details["username"] != e.root {
		t.Fatalf("config read shows %v", details)
	}
	var before, after string
	e.admin.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname=$1", e.root).Scan(&before)
	e.write("database/rotate-root/pg", nil)
	e.admin.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname=$1", e.root).Scan(&after)
	if before == after {
		t.Fatal("root password unchanged")
	}
	_, user, _ := e.creds("readonly") // still connected, with the new password
	if !e.exists(user) {
		t.Fatal("creds after rotate-root")
	}
	e.write("database/reset/pg", nil)
	e.creds("readonly")
}

func TestPostgresStaticRole(t *testing.T) {
	e := newPGEnv(t)
	ctx := context.Background()
	app := "kinko_app_" + dbtest.Suffix()
	if _, err := e.admin.Exec(ctx, "CREATE ROLE "+app+" LOGIN PASSWORD 'set-by-a-human'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+app) })
	hash := func() string {
		var h string
		e.admin.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname=$1", app).Scan(&h)
		return h
	}
	human := hash()
	e.write("database/static-roles/app", map[string]any{"db_name": "pg", "username": app, "rotation_period": "1h"})
	first, err := e.client.Logical().Read("database/static-creds/app")
	if err != nil {
		t.Fatal(err)
	}
	if first.Data["username"] != app || first.Data["password"] == "" || hash() == human {
		t.Fatalf("static creds %v (password rotated: %v)", first.Data, hash() != human)
	}
	if ttl, _ := first.Data["ttl"].(json.Number); ttl == "" {
		t.Fatalf("static creds without ttl: %v", first.Data)
	}
	rotated := hash()
	e.write("database/rotate-role/app", nil)
	second, _ := e.client.Logical().Read("database/static-creds/app")
	if second.Data["password"] == first.Data["password"] || hash() == rotated {
		t.Fatal("rotate-role did not change the password")
	}
	role, _ := e.client.Logical().Read("database/static-roles/app")
	if role.Data["username"] != app || role.Data["rotation_period"] == nil || role.Data["password"] != nil {
		t.Fatalf("static role read: %v", role.Data)
	}
	list, _ := e.client.Logical().List("database/static-roles")
	if keys := list.Data["keys"].([]any); len(keys) != 1 || keys[0] != "app" {
		t.Fatalf("list: %v", keys)
	}
}

func TestPostgresRevocationRetriedWhileDatabaseDown(t *testing.T) {
	e := newPGEnv(t)
	p := newProxy(t, dbtest.PostgresAddr)
	e.configure(t, p.addr)
	e.write("database/roles/short", map[string]any{"db_name": "pg", "default_ttl": "2s",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`}})
	lease, user, _ := e.creds("short")
	p.down()
	deadline := time.Now().Add(20 * time.Second)
	for {
		look := e.write("sys/leases/lookup", map[string]any{"lease_id": lease})
		if n, _ := look.Data["revoke_attempts"].(json.Number); n != "" && n != "0" {
			if msg, _ := look.Data["last_revoke_error"].(string); !strings.Contains(msg, "127.0.0.1") {
				t.Fatalf("last error %q does not name the server", msg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no failed revocation recorded while the database was down")
		}
		time.Sleep(100 * time.Millisecond) // polling
	}
	if !e.exists(user) {
		t.Fatal("user dropped while the database was unreachable?")
	}
	p.up(t)
	e.waitGone(user, 30*time.Second)
}

func TestPostgresLeaseRevokedOnTimeAfterRestart(t *testing.T) {
	e := newPGEnv(t)
	_ = e // the fixture's table and root role; a server of our own below
	dir := t.TempDir()
	boltPath := filepath.Join(dir, "kinko.db")
	first := testserver.StartWith(t, server.DevOptions{StoragePath: boltPath})
	c := testserver.VaultClient(t, first.Addr, first.RootToken)
	if err := c.Sys().Mount("database", &vault.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	e.client = c
	e.configure(t, dbtest.PostgresAddr)
	e.write("database/roles/short", map[string]any{"db_name": "pg", "default_ttl": "3s",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`}})
	_, user, _ := e.creds("short")
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	first.Close(stopCtx)
	cancel()
	cfg := &server.Config{Storage: server.StorageConfig{Type: "bolt", Options: map[string]string{"path": boltPath}},
		Listeners: []server.ListenerConfig{{Type: "tcp", Address: "127.0.0.1:0", TLSDisable: true}}}
	second, err := server.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close(context.Background()) })
	key, _ := base64.StdEncoding.DecodeString(first.UnsealKey)
	if _, err := second.Core.Unseal(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	e.waitGone(user, 15*time.Second)
}
