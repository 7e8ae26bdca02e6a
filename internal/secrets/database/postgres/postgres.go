// Package postgres is the PostgreSQL plugin of the database secrets
// engine (plugin name "postgresql-database-plugin"), on pgx through
// database/sql. It implements dbplugin.Database and
// dbplugin.StatementValidator.
//
// Connection details: connection_url (a postgres:// URL or key=value DSN,
// required) may hold {{username}} and {{password}}, filled from the
// username and password keys, so the password is never stored inside the
// URL; a URL that names no user or password gets them from those keys. A
// URL that holds a password literally while the password key is set too
// is refused. max_open_connections (default 4), max_idle_connections
// (0 or more than max_open_connections: max_open_connections),
// max_connection_lifetime (a duration or seconds; 0: unlimited),
// username_template (default
// v-{{.DisplayName | truncate 8}}-{{.RoleName | truncate 8}}-{{random 20}}-{{unix_time}}),
// disable_escaping (the user name and password are put into the URL as
// given, already escaped), password_authentication ("password", the
// default, or "scram-sha-256": the plugin hashes passwords into SCRAM
// verifiers so that PostgreSQL never sees them in clear). Unknown keys
// are refused. Every configuration error wraps dbplugin.ErrInvalidConfig.
// The normalised configuration returned by Initialize keeps the password:
// the engine stores it encrypted and never shows it.
//
// Statements are split on ';' (dbplugin.SplitStatements), then expanded:
// {{name}}/{{username}} become the user name, {{password}} the password
// with every ' doubled (it belongs between single quotes) and
// {{expiration}} the expiry as "2006-01-02 15:04:05-0700" ("infinity"
// when none). Transaction control (BEGIN, COMMIT, ...) is refused. A user
// name holding a quote, a backslash or a control character is never put
// into statements: generated names have such characters replaced by '_'
// and are cut to 63 bytes, PostgreSQL's identifier limit.
//
// NewUser runs the creation statements in one transaction; on failure it
// rolls back, then runs the rollback statements one by one, best effort,
// outside it. UpdateUser changes the password and/or expiry in one
// transaction (defaults: ALTER ROLE ... WITH PASSWORD / VALID UNTIL).
// DeleteUser of a role that does not exist succeeds; otherwise it ends
// the role's sessions, so revoked credentials stop working at once, and
// runs the revocation statements or, by default, disables the login, then
// in one transaction takes what the role owns, revokes what it was
// granted in this database (REASSIGN OWNED, DROP OWNED) and drops it.
// ValidateStatements runs statements filled with a throwaway name in a
// transaction that is always rolled back.
//
// Errors name the server as host:port/database and never hold a password
// (the root password, a user's password or its SCRAM verifier); errors
// PostgreSQL raises about what the caller gave (statements, the user name
// of UpdateUser) wrap dbplugin.ErrInvalidStatements and carry its
// message. A failure to connect reads "connect to postgresql
// host:port/database: ...".
//
// A DB is safe for concurrent use. Initialize may be called again (root
// rotation): it waits for running operations, switches to the new
// connection details and closes the old connections.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// PluginName is the plugin_name that selects this plugin.
const PluginName = "postgresql-database-plugin"

const defaultUsernameTemplate = `v-{{.DisplayName | truncate 8}}-{{.RoleName | truncate 8}}-{{random 20}}-{{unix_time}}`

var (
	_ dbplugin.Database           = (*DB)(nil)
	_ dbplugin.StatementValidator = (*DB)(nil)
)

// DB is one PostgreSQL connection.
type DB struct {
	// mu guards st. Operations hold the read lock while they run, so
	// Initialize (write lock) never closes connections in use.
	mu sync.RWMutex
	st *state
}

// state is what one Initialize set up.
type state struct {
	pool   *sql.DB
	where  string // host:port/database, for errors
	secret string // the login password, redacted from errors
	names  *dbplugin.UsernameTemplate
	scram  bool // password_authentication=scram-sha-256

	version atomic.Int64 // server_version_num, 0 until known
}

// New returns an uninitialised plugin.
func New() dbplugin.Database { return &DB{} }

// Type names the plugin.
func (db *DB) Type() string { return PluginName }

// Initialize checks the connection details, opens a connection pool and,
// with VerifyConnection, connects. Called again, it replaces the pool.
func (db *DB) Initialize(ctx context.Context, req dbplugin.InitializeRequest) (dbplugin.InitializeResponse, error) {
	s, err := parseSettings(req.Config)
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	cc, err := s.connConfig()
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	st := &state{pool: stdlib.OpenDB(*cc), where: describe(cc), secret: cc.Password,
		names: s.names, scram: s.pwAuth == "scram-sha-256"}
	st.pool.SetMaxOpenConns(s.maxOpen)
	st.pool.SetMaxIdleConns(s.maxIdle)
	st.pool.SetConnMaxLifetime(s.lifetime)
	if req.VerifyConnection {
		if err := st.pool.PingContext(ctx); err != nil {
			st.pool.Close()
			return dbplugin.InitializeResponse{}, st.connectError(err)
		}
	}
	db.mu.Lock()
	old := db.st
	db.st = st
	db.mu.Unlock()
	if old != nil {
		old.pool.Close()
	}
	return dbplugin.InitializeResponse{Config: s.normalised()}, nil
}

// Close closes the connections. The plugin can be initialised again.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.st == nil {
		return nil
	}
	err := db.st.pool.Close()
	db.st = nil
	return err
}

// acquire returns the current state, read-locked until release is called.
func (db *DB) acquire() (st *state, release func(), err error) {
	db.mu.RLock()
	if db.st == nil {
		db.mu.RUnlock()
		return nil, nil, errors.New("postgresql plugin is not initialized")
	}
	return db.st, db.mu.RUnlock, nil
}

// connectError describes a failure to reach the server.
func (st *state) connectError(err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && errors.Unwrap(ce) != nil {
		err = errors.Unwrap(ce)
	}
	return fmt.Errorf("connect to postgresql %s: %s", st.where, dbplugin.Redact(err.Error(), st.secret))
}

// fail wraps an error of operation what with the server's name, without
// secrets. If callerSQL, errors PostgreSQL raised about the statements
// (syntax, unknown objects, permissions, bad values, dependencies) wrap
// dbplugin.ErrInvalidStatements.
func (st *state) fail(what string, err error, callerSQL bool, secrets ...string) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", what, st.connectError(err))
	}
	msg := err.Error()
	var pgErr *pgconn.PgError
	isPG := errors.As(err, &pgErr)
	if isPG {
		msg = pgMessage(pgErr)
	}
	msg = redact(msg, append(secrets, st.secret)...)
	if isPG && callerSQL && statementError(pgErr.Code) {
		return fmt.Errorf("%w: %s on postgresql %s: %s", dbplugin.ErrInvalidStatements, what, st.where, msg)
	}
	return fmt.Errorf("%s on postgresql %s: %s", what, st.where, msg)
}

// pgMessage is a PostgreSQL error with its detail, which says for
// instance what still depends on a role.
func pgMessage(e *pgconn.PgError) string {
	msg := e.Message
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg + " (SQLSTATE " + e.Code + ")"
}

// statementError reports whether a SQLSTATE blames the statements: data
// exceptions (22), dependent objects (2B), a statement that cannot run
// in a transaction (25), syntax errors and access rule violations (42),
// features not supported (0A).
func statementError(code string) bool {
	for _, class := range []string{"22", "2B", "42", "0A", "25"} {
		if strings.HasPrefix(code, class) {
			return true
		}
	}
	return false
}

func redact(msg string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) > 0 {
			msg = dbplugin.Redact(msg, s)
		}
	}
	return msg
}

// inTx runs statements in one transaction. Concurrent DDL on the same
// catalog rows (two grants on one table) can fail with a serialization
// failure, a deadlock or "tuple concurrently updated": such a
// transaction is retried a few times.
func (st *state) inTx(ctx context.Context, stmts []string) error {
	for attempt := 1; ; attempt++ {
		err := st.tryTx(ctx, stmts)
		if err == nil || attempt == 8 || !retryable(err) {
			return err
		}
		t := time.NewTimer(time.Duration(attempt) * 5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (st *state) tryTx(ctx context.Context, stmts []string) error {
	tx, err := st.pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "40001" || pgErr.Code == "40P01" ||
		(pgErr.Code == "XX000" && strings.Contains(pgErr.Message, "concurrently"))
}
