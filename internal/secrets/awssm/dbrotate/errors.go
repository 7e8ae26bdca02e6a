package dbrotate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	driver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrLogin is wrapped by errors of a login the server refused (wrong
// password, unknown user, no matching pg_hba.conf line, ...).
var ErrLogin = errors.New("database login refused")

// dbError is a failure talking to a database server. Its message is built
// here from the driver's error, stripped of secrets; the driver's error
// itself is not reachable through it (its text could quote a statement),
// only ErrLogin or the context's error.
type dbError struct {
	msg  string
	kind error // ErrLogin, context.Canceled, context.DeadlineExceeded or nil
}

func (e *dbError) Error() string { return e.msg }
func (e *dbError) Unwrap() error { return e.kind }

// session is one connection, logged in as user.
type session struct {
	db      *sql.DB
	conn    *sql.Conn
	where   string   // "postgres host:port/db", for errors
	user    string   // who is logged in
	secrets []string // redacted from errors
}

// close closes the connection and its pool.
func (s *session) close() {
	s.conn.Close()
	s.db.Close()
}

// fail describes an error of operation what on s.
func (s *session) fail(what string, err error, extraSecrets ...string) error {
	return newDBError(fmt.Sprintf("%s on %s as %q", what, s.where, s.user), err, append(extraSecrets, s.secrets...))
}

// newDBError wraps err with context, keeping only a safe message.
func newDBError(context string, err error, secrets []string) error {
	e := &dbError{kind: kindOf(err)}
	e.msg = context + ": " + safeMessage(err, secrets)
	return e
}

func kindOf(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case loginRefused(err):
		return ErrLogin
	}
	return nil
}

// loginRefused: PostgreSQL's class 28 (invalid authorization
// specification: bad password, no pg_hba.conf entry, role may not log
// in); MySQL's access denied (1045), no password given (1698), account
// locked (MariaDB 4151, MySQL 3118).
func loginRefused(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "28")
	}
	var myErr *driver.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case 1045, 1698, 4151, 3118:
			return true
		}
	}
	return false
}

// safeMessage is err's text without secrets: the server's own message
// and code for server errors (never a syntax error's, which quotes the
// statement), the driver's text otherwise, with every secret replaced.
func safeMessage(err error, secrets []string) string {
	var msg string
	var pgErr *pgconn.PgError
	var myErr *driver.MySQLError
	switch {
	case errors.As(err, &pgErr):
		if strings.HasPrefix(pgErr.Code, "42601") || strings.Contains(pgErr.Message, " at or near ") {
			msg = "syntax error (SQLSTATE " + pgErr.Code + ")"
		} else {
			msg = pgErr.Message + " (SQLSTATE " + pgErr.Code + ")"
		}
	case errors.As(err, &myErr):
		switch myErr.Number {
		case 1064, 1149: // ER_PARSE_ERROR, ER_SYNTAX_ERROR: "... near '<statement>'"
			msg = fmt.Sprintf("syntax error (error %d)", myErr.Number)
		default:
			msg = fmt.Sprintf("%s (error %d)", myErr.Message, myErr.Number)
		}
	case errors.Is(err, context.DeadlineExceeded):
		msg = "timed out"
	case errors.Is(err, context.Canceled):
		msg = "canceled"
	default:
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) && errors.Unwrap(ce) != nil {
			err = errors.Unwrap(ce) // its prefix repeats user and database
		}
		msg = strings.Join(strings.Fields(err.Error()), " ")
	}
	return redact(msg, secrets)
}

// redact replaces every secret in msg, as given and in the quoted forms
// statements hold.
func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, pgEscape(s), myEscape(s, false), myEscape(s, true)} {
			msg = strings.ReplaceAll(msg, form, "<redacted>")
		}
	}
	return msg
}
