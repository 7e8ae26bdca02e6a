package mysql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// cleanupTimeout bounds best-effort work (rollback) that runs after the
// caller's context may have ended.
const cleanupTimeout = 30 * time.Second

// NewUser creates a user with the creation statements. If one fails, the
// rollback statements run (best effort); without any, DROP USER IF EXISTS
// runs, but only when an earlier creation statement succeeded: a failed
// first statement (such as CREATE USER for a name that exists) created
// nothing to undo.
func (db *DB) NewUser(ctx context.Context, req dbplugin.NewUserRequest) (dbplugin.NewUserResponse, error) {
	if len(dbplugin.SplitStatements(req.Statements)) == 0 {
		return dbplugin.NewUserResponse{}, fmt.Errorf("%w: creation_statements are required", dbplugin.ErrInvalidStatements)
	}
	db.mu.RLock()
	names, cut := db.names, db.cut
	db.mu.RUnlock()
	if names == nil {
		return dbplugin.NewUserResponse{}, errNotInitialized
	}
	name, err := names.Generate(req.UsernameConfig)
	if err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	if cut > 0 && len(name) > cut {
		name = name[:cut]
	}
	if err := checkValues(name, req.Password); err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	done, err := db.run(ctx, expand(req.Statements, name, req.Password, req.Expiration))
	if err != nil {
		rb := req.RollbackStatements
		if len(dbplugin.SplitStatements(rb)) == 0 && done > 0 {
			rb = dbplugin.Statements{Commands: []string{defaultRevocationStmt}}
		}
		if stmts := expand(rb, name, req.Password, req.Expiration); len(stmts) > 0 {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			_, _ = db.run(cctx, stmts) // best effort; the creation error is what matters
			cancel()
		}
		return dbplugin.NewUserResponse{}, db.fail("create user", err, req.Password)
	}
	return dbplugin.NewUserResponse{Username: name}, nil
}

// UpdateUser changes a password; MySQL users do not expire by time, so
// an expiry change only runs renew statements when given.
func (db *DB) UpdateUser(ctx context.Context, req dbplugin.UpdateUserRequest) error {
	if err := checkValues(req.Username, ""); err != nil {
		return err
	}
	if p := req.Password; p != nil {
		if err := checkValues("", p.NewPassword); err != nil {
			return err
		}
		s := p.Statements
		if len(dbplugin.SplitStatements(s)) == 0 {
			s = dbplugin.Statements{Commands: []string{defaultPasswordStmt}}
		}
		if _, err := db.run(ctx, expand(s, req.Username, p.NewPassword, time.Time{})); err != nil {
			return db.fail("update user", err, p.NewPassword)
		}
	}
	if e := req.Expiration; e != nil && len(dbplugin.SplitStatements(e.Statements)) > 0 {
		if _, err := db.run(ctx, expand(e.Statements, req.Username, "", e.NewExpiration)); err != nil {
			return db.fail("renew user", err)
		}
	}
	return nil
}

// DeleteUser drops the user (or runs the given statements), then kills
// its open sessions: MySQL keeps them alive after DROP USER, and killing
// them only after the drop leaves no moment to log in again. A user or
// grant that is already gone counts as deleted.
func (db *DB) DeleteUser(ctx context.Context, req dbplugin.DeleteUserRequest) error {
	if err := checkValues(req.Username, ""); err != nil {
		return err
	}
	s := req.Statements
	if len(dbplugin.SplitStatements(s)) == 0 {
		s = dbplugin.Statements{Commands: []string{defaultRevocationStmt}}
	}
	for _, q := range expand(s, req.Username, "", time.Time{}) {
		if _, err := db.run(ctx, []string{q}); err != nil && !isGone(err) {
			return db.fail("delete user", err)
		}
	}
	return db.killSessions(ctx, req.Username)
}

// killSessions ends every connection of user. Without the PROCESS
// privilege the server lists only the admin's own connections, so there
// is nothing to kill; a connection that ended meanwhile is fine.
func (db *DB) killSessions(ctx context.Context, user string) error {
	pool, err := db.current()
	if err != nil {
		return err
	}
	rows, err := pool.QueryContext(ctx, `SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()`, user)
	if err != nil {
		return db.fail("list the user's connections", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return db.fail("list the user's connections", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return db.fail("list the user's connections", err)
	}
	for _, id := range ids {
		if _, err := pool.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(id, 10)); err != nil && !hasCode(err, 1094) {
			return db.fail("end the user's connections", err)
		}
	}
	return nil
}

// isGone: the statement failed because the user or grant is already gone
// (1141 and 1147 no such grant, 1269 cannot revoke, 1396 operation failed
// for the user).
func isGone(err error) bool {
	return hasCode(err, 1141, 1147, 1269, 1396)
}

func hasCode(err error, codes ...uint16) bool {
	var me *driver.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, c := range codes {
		if me.Number == c {
			return true
		}
	}
	return false
}

// checkValues refuses a user name or password that could break out of
// the quotes a statement puts around it. The password is never named.
func checkValues(name, password string) error {
	if unsafe(name) {
		return fmt.Errorf("%w: user name %q holds a quote, a backslash or a control character", dbplugin.ErrInvalidConfig, name)
	}
	if unsafe(password) {
		return fmt.Errorf("%w: the password holds a quote, a backslash or a control character, which cannot be put in a statement safely (check the password policy)", dbplugin.ErrInvalidConfig)
	}
	return nil
}

func unsafe(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r == '\'' || r == '"' || r == '`' || r == '\\' || r < 0x20 || r == 0x7f
	})
}
