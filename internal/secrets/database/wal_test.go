package database

import (
	"context"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

// TestStaticWALBeforeDatabase: the crash came after the write-ahead
// record but before the database was changed; the restart applies the
// record's password, and kinko and the database agree.
func TestStaticWALBeforeDatabase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.do(logical.UpdateOperation, "static-roles/app", map[string]any{"db_name": "pg", "username": f.app, "rotation_period": "1h"})
	before := f.staticPassword("app")
	if !f.pgPasswordIs(f.app, before) {
		t.Fatal("after creation kinko's password is not the database's")
	}
	pending := "Pending-" + dbtest.Suffix()
	if err := logical.PutJSON(ctx, f.store, "wal/static/app", staticWAL{Username: f.app, Password: pending, Created: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	f.b.Cleanup(ctx)
	f.start()
	if got := f.staticPassword("app"); got != pending || !f.pgPasswordIs(f.app, pending) {
		t.Fatalf("after recovery kinko has the pending password: %v; the database too: %v", got == pending, f.pgPasswordIs(f.app, pending))
	}
	if e, _ := f.store.Get(ctx, "wal/static/app"); e != nil {
		t.Fatal("write-ahead record left after recovery")
	}
	// each later rotation keeps them in step
	for i := 0; i < 3; i++ {
		f.do(logical.UpdateOperation, "rotate-role/app", nil)
		if !f.pgPasswordIs(f.app, f.staticPassword("app")) {
			t.Fatalf("rotation %d: kinko and the database disagree", i)
		}
	}
}

// TestRootWALRecovery covers both crash points of rotate-root: before
// and after the database took the new password.
func TestRootWALRecovery(t *testing.T) {
	for _, reached := range []bool{false, true} {
		f := newFixture(t)
		ctx := context.Background()
		root := f.rootUser("Root-Pass-" + dbtest.Suffix())
		pending := "Pending-" + dbtest.Suffix()
		if err := logical.PutJSON(ctx, f.store, "wal/root/"+root.conn, rootWAL{Password: pending}); err != nil {
			t.Fatal(err)
		}
		if reached {
			if _, err := f.admin.Exec(ctx, "ALTER ROLE "+root.name+" PASSWORD '"+pending+"'"); err != nil {
				t.Fatal(err)
			}
		}
		f.b.Cleanup(ctx)
		f.start()
		c, err := f.b.loadConfig(ctx, root.conn)
		if err != nil || c.ConnectionDetails["password"] != pending || !f.pgPasswordIs(root.name, pending) {
			t.Fatalf("reached=%v: stored password is the pending one: %v; the database's too: %v", reached,
				c.ConnectionDetails["password"] == pending, f.pgPasswordIs(root.name, pending))
		}
		if e, _ := f.store.Get(ctx, "wal/root/"+root.conn); e != nil {
			t.Fatalf("reached=%v: root write-ahead record left after recovery", reached)
		}
	}
}

// TestRotateRootReusesPendingPassword: a rotate-root that failed half-way
// left its record; the next rotate-root finishes with that password.
func TestRotateRootReusesPendingPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	root := f.rootUser("Root-Pass-" + dbtest.Suffix())
	pending := "Pending-" + dbtest.Suffix()
	if err := logical.PutJSON(ctx, f.store, "wal/root/"+root.conn, rootWAL{Password: pending}); err != nil {
		t.Fatal(err)
	}
	f.do(logical.UpdateOperation, "rotate-root/"+root.conn, nil)
	if !f.pgPasswordIs(root.name, pending) {
		t.Fatal("rotate-root did not finish the pending rotation")
	}
	f.do(logical.UpdateOperation, "rotate-root/"+root.conn, nil)
	c, _ := f.b.loadConfig(ctx, root.conn)
	if pw := c.ConnectionDetails["password"].(string); pw == pending || !f.pgPasswordIs(root.name, pw) {
		t.Fatal("second rotate-root: stored and database passwords disagree")
	}
}
