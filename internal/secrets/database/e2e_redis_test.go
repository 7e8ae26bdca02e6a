package database_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"
	goredis "github.com/redis/go-redis/v9"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
	"github.com/kinko-dev/kinko/internal/testserver"
)

func TestRedisCredsThroughTheEngine(t *testing.T) {
	addr := dbtest.RedisAddress(t)
	ctx := context.Background()
	admin := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { admin.Close() }) // registered first: runs after the drops below
	root := "kinko-admin-" + dbtest.Suffix()
	if err := admin.Do(ctx, "ACL", "SETUSER", root, "on", ">first-Pass1", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", root) })
	srv := testserver.Start(t)
	c := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	if err := c.Sys().Mount("database", &vault.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	for _, w := range []struct {
		path string
		body map[string]any
	}{
		{"database/config/cache", map[string]any{"plugin_name": "redis-database-plugin", "host": host, "port": p, "username": root,
			"password": "first-Pass1", "allowed_roles": "reader"}},
		{"database/roles/reader", map[string]any{"db_name": "cache", "default_ttl": "1h", "creation_statements": `["~app:*", "+get", "+ping"]`}},
	} {
		if _, err := c.Logical().Write(w.path, w.body); err != nil {
			t.Fatalf("%s: %v", w.path, err)
		}
	}
	if _, err := c.Logical().Write("database/rotate-root/cache", nil); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "AUTH", root, "first-Pass1").Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("the old root password still works: %v", err)
	}
	s, err := c.Logical().Read("database/creds/reader")
	if err != nil {
		t.Fatal(err)
	}
	user, pw := s.Data["username"].(string), s.Data["password"].(string)
	app := goredis.NewClient(&goredis.Options{Addr: addr, Username: user, Password: pw, MaxRetries: -1})
	defer app.Close()
	if err := app.Get(ctx, "app:nothing").Err(); err != goredis.Nil {
		t.Fatalf("permitted read: %v", err)
	}
	if err := app.Set(ctx, "app:x", "v", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("forbidden write: %v", err)
	}
	if err := c.Sys().Revoke(s.LeaseID); err != nil {
		t.Fatal(err)
	}
	users, _ := admin.Do(ctx, "ACL", "USERS").StringSlice()
	for _, u := range users {
		if u == user {
			t.Fatal("user still exists after revoke")
		}
	}
	if err := app.Ping(ctx).Err(); err == nil {
		t.Fatal("revoked user's session still works")
	}
}
