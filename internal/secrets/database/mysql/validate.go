package mysql

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// ValidateStatements checks statements without running them. MySQL
// commits account statements at once, so a transaction rolled back
// afterwards (what the PostgreSQL plugin does) would leave users behind.
// Instead each statement, filled with a throwaway name and password, is
// prepared on the server (COM_STMT_PREPARE, the protocol form of
// PREPARE) and closed unexecuted. MariaDB and MySQL prepare CREATE USER,
// GRANT, REVOKE, ALTER USER, SET PASSWORD, DROP USER and the rest; the
// server reports syntax errors and a missing default database, not
// unknown tables or users, which only running could find.
//
// Two kinds are handled apart: USE runs (it only changes the session,
// and later unqualified names then resolve as they will when the role is
// used; the connection is discarded afterwards), and a statement the
// server refuses to prepare (error 1295: PREPARE, EXECUTE, DEALLOCATE)
// is accepted unchecked, since the only other check would be to run it.
func (db *DB) ValidateStatements(ctx context.Context, kind dbplugin.StatementKind, s dbplugin.Statements) error {
	pool, err := db.current()
	if err != nil {
		return err
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	// 16 characters at most, so it fits every variant
	name, pw := "kinko_v_"+hex.EncodeToString(b[:]), "Val1d-"+hex.EncodeToString(b[:])
	conn, err := pool.Conn(ctx)
	if err != nil {
		return db.fail("validate "+string(kind), err)
	}
	used := false
	defer func() { release(conn, used) }()
	for _, q := range expand(s, name, pw, time.Now().Add(time.Hour)) {
		if strings.EqualFold(strings.Fields(q)[0], "USE") {
			used = true
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return db.invalid(kind, err)
			}
			continue
		}
		st, err := conn.PrepareContext(ctx, q)
		if hasCode(err, 1295) {
			continue
		}
		if err != nil {
			return db.invalid(kind, err)
		}
		if err := st.Close(); err != nil {
			return db.fail("validate "+string(kind), err)
		}
	}
	return nil
}

// invalid reports a statement the server refused: every server error
// here is about the statement, whatever its SQLSTATE (1046 no database
// selected is 3D000, for one). The values in the statement are dummies.
func (db *DB) invalid(kind dbplugin.StatementKind, err error) error {
	var me *driver.MySQLError
	return db.report("validate "+string(kind), err, errors.As(err, &me))
}
