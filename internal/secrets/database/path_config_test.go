package database

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://{{username}}:{{password}}@db:5432/app", "postgres://{{username}}:{{password}}@db:5432/app"},
		{"postgres://admin:s3cret@db:5432/app?sslmode=disable", "postgres://admin:*****@db:5432/app?sslmode=disable"},
		{"postgres://admin:p@ss@db/app", "postgres://admin:*****@db/app"},
		{"postgres://db/app?x=a@b", "postgres://db/app?x=a@b"},
		{"{{username}}:{{password}}@tcp(db:3306)/", "{{username}}:{{password}}@tcp(db:3306)/"},
		{"root:hunter2@tcp(db:3306)/", "root:*****@tcp(db:3306)/"},
		{"host=db user=admin password=hunter2 dbname=app", "host=db user=admin password=***** dbname=app"},
		{"host=db password='a b' dbname=app", "host=db password=***** dbname=app"},
		{"host=db password={{password}}", "host=db password={{password}}"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAllowedRoles(t *testing.T) {
	tests := []struct {
		allowed []string
		role    string
		want    bool
	}{
		{nil, "app", false},
		{[]string{}, "app", false},
		{[]string{"*"}, "anything", true},
		{[]string{"app"}, "app", true},
		{[]string{"app"}, "app2", false},
		{[]string{"app-*"}, "app-read", true},
		{[]string{"app-*"}, "web-read", false},
		{[]string{"web", "*-ro"}, "db-ro", true},
		{[]string{"[a-"}, "a", false}, // a malformed glob matches nothing but itself
	}
	for _, tc := range tests {
		c := &connConfig{AllowedRoles: tc.allowed}
		if got := c.allows(tc.role); got != tc.want {
			t.Errorf("allowed_roles %v, role %q: %v, want %v", tc.allowed, tc.role, got, tc.want)
		}
	}
}

func TestConfigReadNeverShowsPassword(t *testing.T) {
	f := newFixture(t)
	root := f.rootUser("Root-Pass-" + dbtest.Suffix())
	got := f.do(logical.ReadOperation, "config/"+root.conn, nil).Data
	details := got["connection_details"].(map[string]any)
	if _, ok := details["password"]; ok || details["username"] != root.name {
		t.Fatalf("connection_details: %v", details)
	}
	if got["plugin_name"] != "postgresql-database-plugin" || got["verify_connection"] != true {
		t.Fatalf("config read: %v", got)
	}
	if roles := got["allowed_roles"].([]string); len(roles) != 1 || roles[0] != "app-*" {
		t.Fatalf("allowed_roles: %v", roles)
	}
	for _, k := range []string{"root_credentials_rotate_statements", "password_policy", "connection_details"} {
		if _, ok := got[k]; !ok {
			t.Errorf("config read lacks %s", k)
		}
	}
	if strings.Contains(flatten(got), root.password) {
		t.Fatal("config read contains the password")
	}
	keys := f.do(logical.ListOperation, "config/", nil).Data["keys"].([]string)
	if len(keys) != 2 {
		t.Fatalf("config list: %v", keys)
	}
}

func TestConfigVerifyConnection(t *testing.T) {
	f := newFixture(t)
	secret := "Do-Not-Leak-" + dbtest.Suffix()
	body := map[string]any{"plugin_name": "postgresql-database-plugin", "allowed_roles": "*",
		"connection_url": "postgres://{{username}}:{{password}}@127.0.0.1:1/appdb?sslmode=disable&connect_timeout=2",
		"username":       "admin", "password": secret}
	_, err := f.try(logical.UpdateOperation, "config/down", body)
	if !errors.Is(err, logical.ErrUpstream) || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), secret) {
		t.Fatalf("unreachable database: %v", err)
	}
	if e, _ := f.store.Get(context.Background(), "config/down"); e != nil {
		t.Fatal("an unverified connection was stored")
	}
	body["verify_connection"] = false
	f.do(logical.UpdateOperation, "config/down", body)
	if f.do(logical.ReadOperation, "config/down", nil).Data["verify_connection"] != false {
		t.Fatal("verify_connection=false not kept")
	}
	// bad configuration is the caller's fault: 400
	_, err = f.try(logical.UpdateOperation, "config/bad", map[string]any{"plugin_name": "postgresql-database-plugin",
		"connection_url": "postgres://{{username}}:{{password}}@h/db", "username": "u", "password": secret, "no_such_key": 1})
	if !errors.Is(err, logical.ErrInvalidRequest) || strings.Contains(err.Error(), secret) {
		t.Fatalf("unknown connection key: %v", err)
	}
	f.do(logical.DeleteOperation, "config/down", nil)
	if f.do(logical.ReadOperation, "config/down", nil) != nil {
		t.Fatal("deleted connection still readable")
	}
}

func TestAllowedRolesEnforced(t *testing.T) {
	f := newFixture(t)
	root := f.rootUser("Root-Pass-" + dbtest.Suffix())
	stmt := []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`}
	_, err := f.try(logical.UpdateOperation, "roles/web", map[string]any{"db_name": root.conn, "creation_statements": stmt})
	if !errors.Is(err, logical.ErrInvalidRequest) || !strings.Contains(err.Error(), "allowed_roles") {
		t.Fatalf("role outside allowed_roles: %v", err)
	}
	f.do(logical.UpdateOperation, "roles/app-ro", map[string]any{"db_name": root.conn, "creation_statements": stmt})
	// the connection stops allowing it: creds are refused
	f.do(logical.UpdateOperation, "config/"+root.conn, map[string]any{"allowed_roles": "other"})
	if _, err := f.try(logical.ReadOperation, "creds/app-ro", nil); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("creds of a role no longer allowed: %v", err)
	}
	// an empty list allows none
	f.do(logical.UpdateOperation, "config/"+root.conn, map[string]any{"allowed_roles": []string{}})
	if _, err := f.try(logical.ReadOperation, "creds/app-ro", nil); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("creds with empty allowed_roles: %v", err)
	}
}

func TestRotateRootAndReset(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	root := f.rootUser("Root-Pass-" + dbtest.Suffix())
	f.readonlyRole(root.conn)
	hash := func() string {
		var h string
		f.admin.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname=$1", root.name).Scan(&h)
		return h
	}
	before := hash()
	f.do(logical.UpdateOperation, "rotate-root/"+root.conn, nil)
	if hash() == before {
		t.Fatal("root password unchanged in the database") // the test server trusts local logins: the hash tells
	}
	stored, err := f.b.loadConfig(ctx, root.conn)
	if err != nil || stored.ConnectionDetails["password"] == root.password {
		t.Fatalf("stored config keeps the old password: %v", err)
	}
	if e, _ := f.store.Get(ctx, "wal/root/"+root.conn); e != nil {
		t.Fatal("root write-ahead record left behind")
	}
	// the engine works on the new password, before and after a reset
	for _, step := range []string{"after rotate-root", "after reset"} {
		resp := f.do(logical.ReadOperation, "creds/app-ro", nil)
		if !f.userExists(resp.Data["username"].(string)) {
			t.Fatalf("creds %s: no user", step)
		}
		f.do(logical.UpdateOperation, "reset/"+root.conn, nil)
	}
	if strings.Contains(flatten(f.do(logical.ReadOperation, "config/"+root.conn, nil).Data), stored.ConnectionDetails["password"].(string)) {
		t.Fatal("config read shows the rotated password")
	}
	if _, err := f.try(logical.UpdateOperation, "reset/nope", nil); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("reset of an unknown connection: %v", err)
	}
}
