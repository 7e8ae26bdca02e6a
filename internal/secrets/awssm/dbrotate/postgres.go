package dbrotate

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgMaxName is PostgreSQL's identifier limit (NAMEDATALEN-1 bytes).
const pgMaxName = 63

type pgDialect struct{}

func (pgDialect) login(ctx context.Context, c Creds, secrets []string) (*session, error) {
	where := fmt.Sprintf("postgres %s/%s", net.JoinHostPort(trimBrackets(c.Host), strconv.Itoa(c.port())), c.database())
	cc, err := pgx.ParseConfig(pgDSN(c))
	if err != nil {
		return nil, newDBError(fmt.Sprintf("connection settings for %s as %q", where, c.Username), err, secrets)
	}
	cc.User, cc.Database, cc.Password = c.Username, c.database(), c.Password
	// exec mode: no named prepared statements, whose text the server keeps
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	db := stdlib.OpenDB(*cc)
	db.SetMaxOpenConns(1)
	cctx, cancel := connecting(ctx)
	defer cancel()
	conn, err := db.Conn(cctx)
	if err != nil {
		db.Close()
		return nil, newDBError(fmt.Sprintf("log in to %s as %q", where, c.Username), err, secrets)
	}
	return &session{db: db, conn: conn, where: where, user: c.Username, secrets: secrets}, nil
}

// pgDSN is c's server as a keyword/value connection string. User,
// database and password are set on the parsed config, so that no parser
// error can quote them and no escaping question arises; the host was
// checked free of quotes, backslashes and spaces.
func pgDSN(c Creds) string {
	return fmt.Sprintf("host='%s' port=%d sslmode=prefer connect_timeout=%d application_name=kinko-rotation",
		trimBrackets(c.Host), c.port(), max(1, int(connectTimeout.Seconds())))
}

func (pgDialect) setOwnPassword(ctx context.Context, s *session, c Creds) error {
	lit, verifier, err := pgPasswordLiteral(ctx, s, c.Username, c.Password)
	if err != nil {
		return err
	}
	if _, err := s.conn.ExecContext(ctx, "ALTER ROLE "+pgIdent(c.Username)+" WITH PASSWORD "+lit); err != nil {
		return s.fail("set the password of "+strconv.Quote(c.Username), err, verifier)
	}
	return nil
}

func (pgDialect) cloneUser(ctx context.Context, m, _ *session, current, pending Creds) error {
	var exists bool
	if err := m.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", pending.Username).Scan(&exists); err != nil {
		return m.fail("look up role "+strconv.Quote(pending.Username), err)
	}
	lit, verifier, err := pgPasswordLiteral(ctx, m, pending.Username, pending.Password)
	if err != nil {
		return err
	}
	verb, stmt := "alter role", "ALTER ROLE "+pgIdent(pending.Username)+" WITH PASSWORD "+lit
	if !exists {
		verb, stmt = "create role", "CREATE ROLE "+pgIdent(pending.Username)+" WITH LOGIN PASSWORD "+lit
	}
	tx, err := m.conn.BeginTx(ctx, nil)
	if err != nil {
		return m.fail("begin a transaction", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return m.fail(verb+" "+strconv.Quote(pending.Username), err, verifier)
	}
	if !exists {
		grant := "GRANT " + pgIdent(current.Username) + " TO " + pgIdent(pending.Username)
		if _, err := tx.ExecContext(ctx, grant); err != nil {
			return m.fail(grant, err, verifier)
		}
	}
	if err := tx.Commit(); err != nil {
		return m.fail("commit", err, verifier)
	}
	return nil
}

// pgPasswordLiteral is the literal to put after PASSWORD for role: the
// password hashed as the server's password_encryption asks when that is
// possible here (see hashPGPassword). verifier is what the literal holds,
// to redact.
func pgPasswordLiteral(ctx context.Context, s *session, role, password string) (lit, verifier string, err error) {
	var enc string
	var iterations sql.NullString
	err = s.conn.QueryRowContext(ctx, "SELECT current_setting('password_encryption'), current_setting('scram_iterations', true)").Scan(&enc, &iterations)
	if err != nil {
		return "", "", s.fail("read password_encryption", err)
	}
	iter, err := strconv.Atoi(iterations.String)
	if err != nil || iter < scramMinIterations {
		iter = scramDefaultIterations
	}
	verifier, err = hashPGPassword(enc, role, password, iter)
	if err != nil {
		return "", "", fmt.Errorf("hash the password of %q: %w", role, err)
	}
	s.secrets = append(s.secrets, verifier)
	return pgLiteral(verifier), verifier, nil
}

const (
	scramDefaultIterations = 4096 // PostgreSQL's default
	scramMinIterations     = 4096
	scramMaxIterations     = 1 << 20 // a cap on work a server setting can ask of us
)

// hashPGPassword returns what PostgreSQL would store for password under
// password_encryption enc: a SCRAM-SHA-256 verifier (RFC 5802, 7677) for
// printable-ASCII passwords (others need SASLprep, which the server
// applies), an MD5 one ("md5" + md5(password + role)) for role names
// PostgreSQL keeps whole, else the password itself.
func hashPGPassword(enc, role, password string, iterations int) (string, error) {
	switch enc {
	case "scram-sha-256":
		if !printableASCII(password) {
			return password, nil
		}
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return "", err
		}
		return scramVerifier(password, salt, min(iterations, scramMaxIterations))
	case "md5":
		if len(role) > pgMaxName {
			return password, nil
		}
		sum := md5.Sum([]byte(password + role))
		return "md5" + hex.EncodeToString(sum[:]), nil
	}
	return password, nil
}

func scramVerifier(password string, salt []byte, iterations int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(msg string) []byte {
		h := hmac.New(sha256.New, salted)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac("Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored[:]), b64(mac("Server Key"))), nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// pgIdent quotes a PostgreSQL identifier (names were checked free of
// NUL, which Sanitize would drop).
func pgIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

// pgLiteral quotes a string as an E'...' literal, whose meaning does not
// depend on standard_conforming_strings.
func pgLiteral(s string) string { return "E'" + pgEscape(s) + "'" }

func pgEscape(s string) string { return strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) }
