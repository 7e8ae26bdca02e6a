package dbrotate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	driver "github.com/go-sql-driver/mysql"
)

// User name limits, in characters.
const (
	mysqlMaxName   = 32
	mariadbMaxName = 80
)

type myDialect struct{}

func (myDialect) login(ctx context.Context, c Creds, secrets []string) (*session, error) {
	addr := net.JoinHostPort(trimBrackets(c.Host), strconv.Itoa(c.port()))
	where := "mysql " + addr
	if c.DBName != "" {
		where += "/" + c.DBName
	}
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd = c.Username, c.Password
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", addr, c.DBName
	cfg.Timeout = connectTimeout
	cfg.TLSConfig = "preferred"
	cfg.Logger = &driver.NopLogger{} // errors reach the caller, redacted
	connector, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, newDBError(fmt.Sprintf("connection settings for %s as %q", where, c.Username), err, secrets)
	}
	db := sql.OpenDB(connector)
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

// myServer is what statements depend on.
type myServer struct {
	mariadb     bool
	version     string
	noBackslash bool // sql_mode has NO_BACKSLASH_ESCAPES
}

func serverInfo(ctx context.Context, s *session) (myServer, error) {
	var v, mode string
	if err := s.conn.QueryRowContext(ctx, "SELECT VERSION(), @@SESSION.sql_mode").Scan(&v, &mode); err != nil {
		return myServer{}, s.fail("read the server version", err)
	}
	srv := myServer{mariadb: strings.Contains(strings.ToLower(v), "mariadb"), version: v}
	for _, m := range strings.Split(mode, ",") {
		if strings.EqualFold(strings.TrimSpace(m), "NO_BACKSLASH_ESCAPES") {
			srv.noBackslash = true
		}
	}
	return srv, nil
}

// literal quotes s for this session.
func (srv myServer) literal(s string) string { return "'" + myEscape(s, srv.noBackslash) + "'" }

// setOwnPassword: SET PASSWORD for the logged-in account, which needs no
// privilege (MariaDB's ALTER USER CURRENT_USER() needs CREATE USER).
// MariaDB and MySQL 5 take PASSWORD('...'), MySQL 8 the clear text.
func (myDialect) setOwnPassword(ctx context.Context, s *session, c Creds) error {
	srv, err := serverInfo(ctx, s)
	if err != nil {
		return err
	}
	stmt := "SET PASSWORD = " + srv.literal(c.Password)
	if srv.mariadb || strings.HasPrefix(srv.version, "5.") {
		stmt = "SET PASSWORD = PASSWORD(" + srv.literal(c.Password) + ")"
	}
	if _, err := s.conn.ExecContext(ctx, stmt); err != nil {
		return s.fail("set the password of "+strconv.Quote(c.Username), err)
	}
	return nil
}

// cloneUser makes the pending account (on the current account's host
// part) hold the current account's grants and TLS requirement, then sets
// its password: the pending password works only once all is done.
func (myDialect) cloneUser(ctx context.Context, m, cur *session, current, pending Creds) error {
	srv, err := serverInfo(ctx, m)
	if err != nil {
		return err
	}
	limit := mysqlMaxName
	if srv.mariadb {
		limit = mariadbMaxName
	}
	if utf8.RuneCountInString(pending.Username) > limit {
		return fmt.Errorf("%w: user name %q is longer than the server's %d characters; the user to clone may have at most %d",
			ErrInvalidCreds, pending.Username, limit, limit-len(cloneSuffix))
	}
	from, err := currentAccount(ctx, cur, current.Username)
	if err != nil {
		return err
	}
	to := account{user: pending.Username, host: from.host}
	created, err := createAccount(ctx, m, srv, to)
	if err != nil {
		return err
	}
	if err := copyAccount(ctx, m, srv, from, to); err != nil {
		if created {
			_, _ = m.conn.ExecContext(ctx, "DROP USER "+to.quoted())
		}
		return err
	}
	if _, err := m.conn.ExecContext(ctx, "ALTER USER "+to.quoted()+" IDENTIFIED BY "+srv.literal(pending.Password)); err != nil {
		return m.fail("set the password of "+to.quoted(), err)
	}
	return nil
}

// currentAccount is the account the current user logs in as.
func currentAccount(ctx context.Context, cur *session, username string) (account, error) {
	var a string
	if err := cur.conn.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&a); err != nil {
		return account{}, cur.fail("read CURRENT_USER()", err)
	}
	i := strings.LastIndexByte(a, '@')
	if i < 0 || a[:i] != username {
		return account{}, fmt.Errorf("the current credentials of %q log in as the account %q, not as that user", username, a)
	}
	return account{user: username, host: a[i+1:]}, nil
}

// createAccount creates a with a throwaway password, unless it exists.
func createAccount(ctx context.Context, m *session, srv myServer, a account) (created bool, err error) {
	throwaway := rand.Text() + "a!" // upper and lower case, digits, a symbol: passes password policies
	m.secrets = append(m.secrets, throwaway)
	_, err = m.conn.ExecContext(ctx, "CREATE USER "+a.quoted()+" IDENTIFIED BY "+srv.literal(throwaway))
	var me *driver.MySQLError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &me) && me.Number == 1396: // ER_CANNOT_USER: it exists
		return false, nil
	}
	return false, m.fail("create user "+a.quoted(), err)
}

// copyAccount replays from's grants for to and copies its REQUIRE clause.
func copyAccount(ctx context.Context, m *session, srv myServer, from, to account) error {
	lines, err := showGrants(ctx, m, from)
	if err != nil {
		return err
	}
	for _, line := range lines {
		stmt, skip, err := rewriteGrant(line, from, to)
		if err != nil {
			return fmt.Errorf("copy the grants of %s on %s: %w", from.quoted(), m.where, err)
		}
		if skip {
			continue
		}
		if _, err := m.conn.ExecContext(ctx, stmt); err != nil {
			return m.fail("copy the grants of "+from.quoted()+": "+stmt, err)
		}
	}
	var sslType, cipher, issuer, subject []byte
	err = m.conn.QueryRowContext(ctx, "SELECT ssl_type, ssl_cipher, x509_issuer, x509_subject FROM mysql.user WHERE User = ? AND Host = ?",
		from.user, from.host).Scan(&sslType, &cipher, &issuer, &subject)
	if err != nil {
		return m.fail("read the TLS requirement of "+from.quoted(), err)
	}
	stmt := "ALTER USER " + to.quoted() + " " + requireClause(srv, string(sslType), string(cipher), string(issuer), string(subject))
	if _, err := m.conn.ExecContext(ctx, stmt); err != nil {
		return m.fail("copy the TLS requirement of "+from.quoted(), err)
	}
	return nil
}

func showGrants(ctx context.Context, m *session, a account) ([]string, error) {
	rows, err := m.conn.QueryContext(ctx, "SHOW GRANTS FOR "+a.quoted())
	if err != nil {
		return nil, m.fail("SHOW GRANTS FOR "+a.quoted(), err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, m.fail("SHOW GRANTS FOR "+a.quoted(), err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		return nil, m.fail("SHOW GRANTS FOR "+a.quoted(), err)
	}
	return lines, nil
}

// requireClause is the REQUIRE clause of mysql.user's TLS columns.
func requireClause(srv myServer, sslType, cipher, issuer, subject string) string {
	switch strings.ToUpper(sslType) {
	case "":
		return "REQUIRE NONE"
	case "ANY":
		return "REQUIRE SSL"
	case "X509":
		return "REQUIRE X509"
	}
	var parts []string
	for _, p := range [][2]string{{"CIPHER", cipher}, {"ISSUER", issuer}, {"SUBJECT", subject}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+srv.literal(p[1]))
		}
	}
	if len(parts) == 0 {
		return "REQUIRE SSL"
	}
	return "REQUIRE " + strings.Join(parts, " AND ")
}

// myIdent quotes a MySQL identifier (or a part of an account name).
func myIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// myEscape escapes s for a '...' literal: ' doubled when the session has
// NO_BACKSLASH_ESCAPES, else \ and ' escaped with a backslash.
func myEscape(s string, noBackslash bool) string {
	if noBackslash {
		return strings.ReplaceAll(s, "'", "''")
	}
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}
