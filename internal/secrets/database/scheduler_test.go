package database

import (
	"context"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestSchedulerRebuiltAtStart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.do(logical.UpdateOperation, "static-roles/app", map[string]any{"db_name": "pg", "username": f.app, "rotation_period": "1h"})
	first := f.staticPassword("app")
	f.b.Cleanup(ctx)
	f.start()
	if at, ok := f.b.sched.Next("app"); !ok || !at.Equal(f.clock.Now().Add(time.Hour)) {
		t.Fatalf("queued after restart: %v %v", at, ok)
	}
	f.clock.Advance(time.Hour)
	f.waitRotated("app", first)
	// a deleted role leaves the queue and is not rotated again
	f.do(logical.DeleteOperation, "static-roles/app", nil)
	f.clock.Advance(2 * time.Hour)
	f.tick()
	if r, _ := f.b.loadStatic(ctx, "app"); r != nil {
		t.Fatal("deleted role came back")
	}
}
