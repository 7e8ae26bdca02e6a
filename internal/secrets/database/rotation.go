package database

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// Retry bounds for failed rotations; tests shorten them.
var (
	rotationRetryBase = 10 * time.Second
	rotationRetryMax  = 5 * time.Minute
	recoverTimeout    = 5 * time.Second
)

// staticWAL is written before a static role's password is changed in
// the database and deleted once kinko stored it.
type staticWAL struct {
	Username string    `json:"username"`
	Password string    `json:"password"`
	Created  time.Time `json:"created"`
}

// rotateLocked sets a new password for a static role (the caller holds
// the role's lock): write-ahead record, database, then the role. A
// pending record's password is reused, so a retry converges on one
// password whatever the database did with the last attempt.
func (b *Backend) rotateLocked(ctx context.Context, name string, r *staticRole) error {
	db, cfg, err := b.db(ctx, r.DBName)
	if err != nil {
		return err
	}
	walKey := "wal/static/" + name
	var w staticWAL
	found, err := logical.GetJSON(ctx, b.view, walKey, &w)
	if err != nil {
		return err
	}
	now := b.now()
	if !found || w.Username != r.Username {
		pw, err := b.generatePassword(ctx, cfg.PasswordPolicy)
		if err != nil {
			return err
		}
		w = staticWAL{Username: r.Username, Password: pw, Created: now}
		if err := logical.PutJSON(ctx, b.view, walKey, w); err != nil {
			return err
		}
	}
	err = db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: r.Username, Password: &dbplugin.ChangePassword{
		NewPassword: w.Password, Statements: dbplugin.Statements{Commands: r.RotationStatements}}})
	if err != nil {
		r.Failures++
		r.NextRotation = now.Add(retryDelay(r.Failures))
		if r.LastVaultRotation.IsZero() {
			_ = b.view.Delete(ctx, walKey)
			return dbError(fmt.Errorf("set the password of %q: %w", r.Username, err)) // a new role is not stored
		}
		if serr := logical.PutJSON(ctx, b.view, "static-role/"+name, r); serr != nil {
			slog.Error("cannot record a failed rotation", "role", name, "error", serr)
		}
		return dbError(fmt.Errorf("rotate the password of %q: %w", r.Username, err))
	}
	r.Password, r.LastVaultRotation, r.Failures = w.Password, now, 0
	r.NextRotation = r.nextAfter(now)
	if err := logical.PutJSON(ctx, b.view, "static-role/"+name, r); err != nil {
		return err // the record stays; recovery or the next attempt commits
	}
	return b.view.Delete(ctx, walKey)
}

func retryDelay(failures int) time.Duration {
	d := rotationRetryBase
	for i := 1; i < failures && d < rotationRetryMax; i++ {
		d *= 2
	}
	return min(d, rotationRetryMax)
}

// recoverWAL finishes rotations a crash interrupted: a static role's
// pending password is applied to the database and stored; a pending root
// password is kept if the database accepts it. What cannot be finished
// now (the database is down) is left to the scheduler or the next start.
func (b *Backend) recoverWAL(ctx context.Context) error {
	names, err := b.view.List(ctx, "wal/static/")
	if err != nil {
		return fmt.Errorf("database: list rotation records: %w", err)
	}
	for _, name := range names {
		b.recoverStatic(ctx, name)
	}
	roots, err := b.view.List(ctx, "wal/root/")
	if err != nil {
		return fmt.Errorf("database: list root rotation records: %w", err)
	}
	for _, name := range roots {
		b.recoverRoot(ctx, name)
	}
	return nil
}

func (b *Backend) recoverStatic(ctx context.Context, name string) {
	lock := b.roleLock(name)
	lock.Lock()
	defer lock.Unlock()
	r, err := b.loadStatic(ctx, name)
	if err != nil {
		slog.Error("cannot read a static role to recover its rotation", "role", name, "error", err)
		return
	}
	if r == nil {
		_ = b.view.Delete(ctx, "wal/static/"+name)
		return
	}
	tctx, cancel := context.WithTimeout(ctx, recoverTimeout)
	defer cancel()
	if err := b.rotateLocked(tctx, name, r); err != nil {
		slog.Warn("interrupted rotation not finished yet; will retry", "role", name, "error", err)
	}
}
