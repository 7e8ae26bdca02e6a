package database

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// startScheduler fills the rotation scheduler's queue from the stored
// static roles and starts it (Initialize).
func (b *Backend) startScheduler(ctx context.Context) error {
	names, err := b.view.List(ctx, "static-role/")
	if err != nil {
		return fmt.Errorf("database: list static roles: %w", err)
	}
	for _, name := range names {
		r, err := b.loadStatic(ctx, name)
		if err != nil {
			return fmt.Errorf("database: read static role %q: %w", name, err)
		}
		if r != nil {
			b.sched.Set(name, r.NextRotation)
		}
	}
	b.sched.Start()
	return nil
}

// rotateScheduled rotates a role the scheduler found due, honouring the
// rotation window of a cron schedule, and schedules it again.
func (b *Backend) rotateScheduled(ctx context.Context, name string) {
	lock := b.roleLock(name)
	lock.Lock()
	defer lock.Unlock()
	now := b.now()
	r, err := b.loadStatic(ctx, name)
	if err != nil {
		slog.Error("cannot read a static role to rotate it; will retry", "role", name, "error", err)
		b.sched.Set(name, now.Add(rotationRetryBase))
		return
	}
	if r == nil {
		return // deleted
	}
	if r.NextRotation.After(now) {
		b.sched.Set(name, r.NextRotation)
		return
	}
	if r.RotationWindow > 0 && r.Failures == 0 && now.After(r.NextRotation.Add(r.RotationWindow)) {
		r.NextRotation = r.nextAfter(now) // the window was missed: wait for the next one
		if err := logical.PutJSON(ctx, b.view, "static-role/"+name, r); err != nil {
			slog.Error("cannot store a static role's next rotation", "role", name, "error", err)
		}
		b.sched.Set(name, r.NextRotation)
		return
	}
	if err := b.rotateLocked(ctx, name, r); err != nil {
		slog.Warn("static role rotation failed; will retry", "role", name, "retry_at", r.NextRotation,
			"error", strings.TrimSpace(err.Error()))
	}
	b.sched.Set(name, r.NextRotation)
}
