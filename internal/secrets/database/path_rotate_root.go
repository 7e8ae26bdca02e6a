package database

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// rootWAL is the write-ahead record of a root rotation
// (wal/root/<connection>), written before the database is touched and
// deleted once the new password is stored.
type rootWAL struct {
	Password string `json:"password"`
}

func (b *Backend) rotateRootPath() *logical.Path {
	return &logical.Path{Pattern: "rotate-root/" + logical.GenericNameRegex("name"),
		Fields:       map[string]*logical.FieldSchema{"name": {Type: logical.TypeString, Description: "Name of the connection."}},
		Operations:   map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.handleRotateRoot},
		HelpSynopsis: "Rotate the root user's password: afterwards only kinko knows it."}
}

func rootLock(name string) string { return "\x00root/" + name }

func (b *Backend) handleRotateRoot(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	lock := b.roleLock(rootLock(name))
	lock.Lock()
	defer lock.Unlock()
	c, err := b.loadConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, logical.InvalidRequest("database connection %q does not exist", name)
	}
	if user, _ := c.ConnectionDetails["username"].(string); user == "" {
		return nil, logical.InvalidRequest("connection %q has no username to rotate", name)
	}
	// an earlier attempt that failed half-way left its password: finish
	// that one, so the database and kinko converge on a single password
	var w rootWAL
	found, err := logical.GetJSON(ctx, b.view, "wal/root/"+name, &w)
	if err != nil {
		return nil, err
	}
	if !found {
		if w.Password, err = b.generatePassword(ctx, c.PasswordPolicy); err != nil {
			return nil, err
		}
		if err := logical.PutJSON(ctx, b.view, "wal/root/"+name, w); err != nil {
			return nil, err
		}
	}
	return nil, b.applyRoot(ctx, name, c, w.Password)
}

// applyRoot sets the root user's password to pw, through the stored
// credentials or, if the database already took pw (an interrupted
// attempt), through pw itself; then stores pw, reconnects with it and
// drops the write-ahead record. On failure the record stays.
func (b *Backend) applyRoot(ctx context.Context, name string, c *connConfig, pw string) error {
	user, _ := c.ConnectionDetails["username"].(string)
	req := dbplugin.UpdateUserRequest{Username: user, Password: &dbplugin.ChangePassword{
		NewPassword: pw, Statements: dbplugin.Statements{Commands: c.RootRotationStatements}}}
	db, _, err := b.db(ctx, name)
	if err == nil {
		err = db.UpdateUser(ctx, req)
	}
	if err != nil {
		trial, _, terr := newInstance(ctx, c.withPassword(pw), true)
		if terr != nil {
			return dbError(fmt.Errorf("rotate root password of %q: %w", name, err))
		}
		err = trial.UpdateUser(ctx, req) // the statements may do more than set the password
		_ = trial.Close()
		if err != nil {
			return dbError(fmt.Errorf("rotate root password of %q: %w", name, err))
		}
	}
	return b.commitRoot(ctx, name, c.withPassword(pw))
}

// withPassword is a copy of c with another root password.
func (c *connConfig) withPassword(pw string) *connConfig {
	out := *c
	out.ConnectionDetails = make(map[string]any, len(c.ConnectionDetails))
	for k, v := range c.ConnectionDetails {
		out.ConnectionDetails[k] = v
	}
	out.ConnectionDetails["password"] = pw
	return &out
}

// commitRoot stores c (holding the new root password), reconnects with
// it and drops the write-ahead record.
func (b *Backend) commitRoot(ctx context.Context, name string, c *connConfig) error {
	if err := logical.PutJSON(ctx, b.view, "config/"+name, c); err != nil {
		return err
	}
	db, _, err := newInstance(ctx, c, true)
	if err != nil {
		return err
	}
	b.setInstance(name, db)
	return b.view.Delete(ctx, "wal/root/"+name)
}

// recoverRoot finishes a root rotation a crash interrupted: the pending
// password is applied to the database (again, if it got there) and
// stored. If the database cannot be reached the record stays for the
// next start or the next rotate-root.
func (b *Backend) recoverRoot(ctx context.Context, name string) {
	lock := b.roleLock(rootLock(name))
	lock.Lock()
	defer lock.Unlock()
	var w rootWAL
	found, err := logical.GetJSON(ctx, b.view, "wal/root/"+name, &w)
	if err != nil || !found {
		return
	}
	c, err := b.loadConfig(ctx, name)
	if err != nil || c == nil {
		if err == nil {
			_ = b.view.Delete(ctx, "wal/root/"+name) // the connection is gone
		}
		return
	}
	tctx, cancel := context.WithTimeout(ctx, recoverTimeout)
	defer cancel()
	if err := b.applyRoot(tctx, name, c, w.Password); err != nil {
		slog.Warn("interrupted root rotation not finished yet; will retry at the next start or rotate-root", "connection", name, "error", err)
	}
}
