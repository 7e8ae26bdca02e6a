package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// cleanupTimeout bounds work done after the caller's context may have
// ended (rollback statements).
const cleanupTimeout = 30 * time.Second

// terminateWait is how long pg_terminate_backend waits for a session to
// end (PostgreSQL 14 and later).
const terminateWait = 5 * time.Second

// NewUser creates a role with the creation statements in one
// transaction; on failure it runs the rollback statements.
func (db *DB) NewUser(ctx context.Context, req dbplugin.NewUserRequest) (dbplugin.NewUserResponse, error) {
	if len(dbplugin.SplitStatements(req.Statements)) == 0 {
		return dbplugin.NewUserResponse{}, fmt.Errorf("%w: creation_statements are required", dbplugin.ErrInvalidStatements)
	}
	st, release, err := db.acquire()
	if err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	defer release()
	name, err := st.names.Generate(req.UsernameConfig)
	if err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	name = safeName(name)
	pw, err := st.passwordValue(req.Password)
	if err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	stmts, err := expand(req.Statements, name, pw, req.Expiration)
	if err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	rollback, err := expand(req.RollbackStatements, name, pw, req.Expiration)
	if err != nil {
		return dbplugin.NewUserResponse{}, err
	}
	if err := st.inTx(ctx, stmts); err != nil {
		st.runEach(ctx, rollback)
		return dbplugin.NewUserResponse{}, st.fail("create user", err, true, req.Password, pw)
	}
	return dbplugin.NewUserResponse{Username: name}, nil
}

// runEach runs statements one by one outside a transaction, best
// effort: a failing one does not stop the others. It runs even when ctx
// has ended (the caller gave up on the creation, which must still be
// undone).
func (st *state) runEach(ctx context.Context, stmts []string) {
	if len(stmts) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, q := range stmts {
		_, _ = st.pool.ExecContext(ctx, q) // best effort; the creation error is what matters
	}
}

// UpdateUser changes a role's password and/or expiry in one transaction.
// The user name and any statements are the caller's: errors PostgreSQL
// raises about them (an unknown role, a syntax error) wrap
// dbplugin.ErrInvalidStatements.
func (db *DB) UpdateUser(ctx context.Context, req dbplugin.UpdateUserRequest) error {
	if req.Password == nil && req.Expiration == nil {
		return nil
	}
	st, release, err := db.acquire()
	if err != nil {
		return err
	}
	defer release()
	var stmts, secrets []string
	if p := req.Password; p != nil {
		pw, err := st.passwordValue(p.NewPassword)
		if err != nil {
			return err
		}
		s := orDefault(p.Statements, defaultPasswordStmt)
		q, err := expand(s, req.Username, pw, time.Time{})
		if err != nil {
			return err
		}
		stmts, secrets = append(stmts, q...), []string{p.NewPassword, pw}
	}
	if e := req.Expiration; e != nil {
		s := orDefault(e.Statements, defaultExpirationStmt)
		q, err := expand(s, req.Username, "", e.NewExpiration)
		if err != nil {
			return err
		}
		stmts = append(stmts, q...)
	}
	if err := st.inTx(ctx, stmts); err != nil {
		return st.fail("update user "+strconv.Quote(req.Username), err, true, secrets...)
	}
	return nil
}

// DeleteUser ends the role's sessions and removes it, with the given
// revocation statements or the default ones. A role that does not exist
// is already deleted.
func (db *DB) DeleteUser(ctx context.Context, req dbplugin.DeleteUserRequest) error {
	st, release, err := db.acquire()
	if err != nil {
		return err
	}
	defer release()
	what := "delete user " + strconv.Quote(req.Username)
	var oid int64
	err = st.pool.QueryRowContext(ctx, `SELECT oid::int8 FROM pg_roles WHERE rolname = $1`, req.Username).Scan(&oid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return st.fail(what, err, false)
	}
	custom := len(dbplugin.SplitStatements(req.Statements)) > 0
	var stmts []string
	if custom {
		if stmts, err = expand(req.Statements, req.Username, "", time.Time{}); err != nil {
			return err
		}
		if err := st.terminate(ctx, oid); err != nil {
			return st.fail(what, err, false)
		}
	} else if stmts, err = st.defaultRevocation(ctx, req.Username, oid); err != nil {
		return st.fail(what, err, false)
	}
	if err := st.inTx(ctx, stmts); err != nil {
		return st.fail(what, err, custom)
	}
	// sessions opened meanwhile (a dropped role has no name in
	// pg_stat_activity any more, hence the oid)
	if err := st.terminate(ctx, oid); err != nil {
		return st.fail(what, err, false)
	}
	return nil
}

// terminateSQL ends the sessions of the role with the given oid, and
// on PostgreSQL 14 and later waits for them to end.
func (st *state) terminateSQL(ctx context.Context, oid int64) (string, error) {
	version := st.version.Load()
	if version == 0 {
		if err := st.pool.QueryRowContext(ctx, `SELECT current_setting('server_version_num')::int8`).Scan(&version); err != nil {
			return "", err
		}
		st.version.Store(version)
	}
	wait := ""
	if version >= 140000 {
		wait = ", " + strconv.FormatInt(terminateWait.Milliseconds(), 10)
	}
	return "SELECT pg_terminate_backend(pid" + wait + ") FROM pg_stat_activity WHERE usesysid = " +
		strconv.FormatInt(oid, 10) + " AND pid <> pg_backend_pid()", nil
}

// terminate ends the role's sessions, if the connected user may (a
// superuser, a member of the role or of pg_signal_backend).
func (st *state) terminate(ctx context.Context, oid int64) error {
	q, err := st.terminateSQL(ctx, oid)
	if err != nil {
		return err
	}
	_, err = st.pool.ExecContext(ctx, q)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" {
		return nil // not allowed to; the role is disabled or dropped all the same
	}
	return err
}

// defaultRevocation plans the removal of a role. Its login is disabled
// first, so no session starts while it is removed. Then, in one
// transaction: if the connected user lacks the role's privileges (a
// CREATEROLE admin rather than a superuser) it grants itself the role;
// it ends the role's sessions, takes over what the role owns, revokes
// every privilege the role holds in this database and on shared objects
// (DROP OWNED) and drops the role, which also ends the membership.
func (st *state) defaultRevocation(ctx context.Context, name string, oid int64) ([]string, error) {
	id := pgx.Identifier{name}.Sanitize()
	if _, err := st.pool.ExecContext(ctx, "ALTER ROLE "+id+" NOLOGIN"); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			return nil, err
		}
	}
	var hasPrivs bool
	if err := st.pool.QueryRowContext(ctx, `SELECT pg_has_role(current_user, $1::int8::oid, 'USAGE')`, oid).Scan(&hasPrivs); err != nil {
		return nil, err
	}
	var stmts []string
	if !hasPrivs {
		stmts = append(stmts, "GRANT "+id+" TO CURRENT_USER")
	}
	term, err := st.terminateSQL(ctx, oid)
	if err != nil {
		return nil, err
	}
	return append(stmts, term,
		"REASSIGN OWNED BY "+id+" TO CURRENT_USER",
		"DROP OWNED BY "+id,
		"DROP ROLE IF EXISTS "+id), nil
}
