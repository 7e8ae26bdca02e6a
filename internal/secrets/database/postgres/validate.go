package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// ValidateStatements runs statements of the given kind, filled with a
// throwaway user name, password and expiry, in a transaction that is
// always rolled back. Statements that act on an existing role (all kinds
// but creation) find one: the throwaway role is created first, in the
// same transaction. A statement PostgreSQL refuses gives an error
// wrapping dbplugin.ErrInvalidStatements with its message, in which the
// throwaway values read {{name}} and {{password}}.
func (db *DB) ValidateStatements(ctx context.Context, kind dbplugin.StatementKind, s dbplugin.Statements) error {
	st, release, err := db.acquire()
	if err != nil {
		return err
	}
	defer release()
	name, password := "kinko-validate-"+rand.Text()[:16], rand.Text()
	pw, err := st.passwordValue(password)
	if err != nil {
		return err
	}
	stmts, err := expand(s, name, pw, time.Now().Add(time.Hour))
	if err != nil || len(stmts) == 0 {
		return err
	}
	if kind != dbplugin.CreationStatements {
		stmts = append([]string{"CREATE ROLE " + pgx.Identifier{name}.Sanitize()}, stmts...)
	}
	tx, err := st.pool.BeginTx(ctx, nil)
	if err != nil {
		return st.fail("validate "+string(kind), err, false)
	}
	defer tx.Rollback() //nolint:errcheck // always rolled back
	for i, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			var pgErr *pgconn.PgError
			if kind != dbplugin.CreationStatements {
				i-- // the throwaway role's creation is not the caller's
			}
			if !errors.As(err, &pgErr) || i < 0 {
				return st.fail("validate "+string(kind), err, false)
			}
			msg := strings.NewReplacer(name, "{{name}}", pw, "{{password}}", password, "{{password}}").Replace(pgMessage(pgErr))
			return fmt.Errorf("%w: %s statement %d on postgresql %s: %s",
				dbplugin.ErrInvalidStatements, kind, i+1, st.where, redact(msg, st.secret))
		}
	}
	return nil
}
