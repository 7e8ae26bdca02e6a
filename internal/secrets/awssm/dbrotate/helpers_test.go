package dbrotate

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, port
}

// mustExec runs statements as an administrator.
func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// assertNoSecrets fails if err's text holds one of the secrets.
func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error holds a secret %q: %v", s, err)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling a server-side count
	}
}

// --- PostgreSQL ---

// pgEnv is the test PostgreSQL: admin is a superuser connection (trust
// auth) to database postgres; authDB checks passwords.
type pgEnv struct {
	admin  *sql.DB
	host   string
	port   int
	authDB string
}

func newPGEnv(t *testing.T) *pgEnv {
	t.Helper()
	url := dbtest.PostgresURL(t)
	e := &pgEnv{authDB: dbtest.PostgresAuthDB(t)}
	e.host, e.port = hostPort(t, dbtest.PostgresAddr)
	var err error
	if e.admin, err = sql.Open("pgx", url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.admin.Close() })
	return e
}

// user creates a login role (and drops it and its clone afterwards).
func (e *pgEnv) user(t *testing.T, name, password, attrs string) Creds {
	t.Helper()
	mustExec(t, e.admin, fmt.Sprintf("CREATE ROLE %s WITH LOGIN PASSWORD %s %s", pgIdent(name), pgLiteral(password), attrs))
	t.Cleanup(func() {
		for _, n := range []string{CloneUsername("postgres", name), name} {
			_, _ = e.admin.Exec("DROP OWNED BY " + pgIdent(n))
			_, _ = e.admin.Exec("DROP ROLE IF EXISTS " + pgIdent(n))
		}
	})
	return e.creds(name, password)
}

func (e *pgEnv) creds(name, password string) Creds {
	return Creds{Engine: "postgres", Host: e.host, Port: e.port, Username: name, Password: password, DBName: e.authDB}
}

// table creates a table in database postgres, dropped afterwards.
func (e *pgEnv) table(t *testing.T, name string) {
	t.Helper()
	mustExec(t, e.admin, "CREATE TABLE "+pgIdent(name)+" (v int)", "INSERT INTO "+pgIdent(name)+" VALUES (1)")
	t.Cleanup(func() { _, _ = e.admin.Exec("DROP TABLE IF EXISTS " + pgIdent(name)) })
}

// verifier is what pg_authid holds for a role.
func (e *pgEnv) verifier(t *testing.T, role string) string {
	t.Helper()
	var v sql.NullString
	if err := e.admin.QueryRow("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&v); err != nil {
		t.Fatalf("pg_authid of %s: %v", role, err)
	}
	return v.String
}

// pgLogin logs in as c on the password-checking database, independently
// of the code under test.
func pgLogin(c Creds) error {
	cc, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s sslmode=disable connect_timeout=5", c.Host, c.Port, c.DBName))
	if err != nil {
		return err
	}
	cc.User, cc.Password = c.Username, c.Password
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// pgQueryAs runs a query as role on database postgres (trust auth: this
// checks privileges, not passwords).
func (e *pgEnv) queryAs(role, query string) error {
	cc, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=postgres sslmode=disable", e.host, e.port))
	if err != nil {
		return err
	}
	cc.User = role
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, query)
	return err
}

// noSessions waits until no session of the roles is left.
func (e *pgEnv) noSessions(t *testing.T, roles ...string) {
	t.Helper()
	waitFor(t, "the sessions of "+strings.Join(roles, ", ")+" are closed", func() (bool, error) {
		var n int
		err := e.admin.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE usename = ANY($1)", roles).Scan(&n)
		return n == 0, err
	})
}

// --- MariaDB/MySQL ---

type myEnv struct {
	admin *sql.DB
	host  string
	port  int
}

func newMyEnv(t *testing.T) *myEnv {
	t.Helper()
	dsn := dbtest.MySQLDSN(t)
	e := &myEnv{}
	e.host, e.port = hostPort(t, dbtest.MySQLAddr)
	var err error
	if e.admin, err = sql.Open("mysql", dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.admin.Close() })
	return e
}

// user creates name@host (and drops it and its clone afterwards).
func (e *myEnv) user(t *testing.T, name, host, password string) Creds {
	t.Helper()
	a := account{name, host}
	mustExec(t, e.admin, "CREATE USER "+a.quoted()+" IDENTIFIED BY "+myLiteral(password))
	t.Cleanup(func() {
		for _, n := range []string{name, CloneUsername("mysql", name)} {
			_, _ = e.admin.Exec("DROP USER IF EXISTS " + account{n, host}.quoted())
		}
	})
	return Creds{Engine: "mysql", Host: e.host, Port: e.port, Username: name, Password: password}
}

// database creates a database with tables, dropped afterwards.
func (e *myEnv) database(t *testing.T, name string, tables ...string) {
	t.Helper()
	mustExec(t, e.admin, "CREATE DATABASE "+myIdent(name))
	t.Cleanup(func() { _, _ = e.admin.Exec("DROP DATABASE IF EXISTS " + myIdent(name)) })
	for _, tb := range tables {
		mustExec(t, e.admin, "CREATE TABLE "+myIdent(name)+"."+myIdent(tb)+" (v int, w int)",
			"INSERT INTO "+myIdent(name)+"."+myIdent(tb)+" VALUES (1, 2)")
	}
}

// myLiteral quotes for the admin session (default sql_mode).
func myLiteral(s string) string { return "'" + myEscape(s, false) + "'" }

// myOpen connects as c, independently of the code under test.
func myOpen(c Creds) (*sql.DB, error) {
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net = c.Username, c.Password, "tcp"
	cfg.Addr = net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	cfg.Timeout = 5 * time.Second
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func myLogin(c Creds) error {
	db, err := myOpen(c)
	if err != nil {
		return err
	}
	return db.Close()
}

// myQueryAs runs a query as c.
func myQueryAs(c Creds, query string) error {
	db, err := myOpen(c)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		return err
	}
	return rows.Close()
}

// grantsOf is SHOW GRANTS for a, sorted (the server's order varies),
// with a's name written as "<grantee>" and the authentication clause
// cut, for comparisons.
func (e *myEnv) grantsOf(t *testing.T, a account) []string {
	t.Helper()
	rows, err := e.admin.Query("SHOW GRANTS FOR " + a.quoted())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		if i := strings.Index(l, " IDENTIFIED "); i >= 0 {
			l = l[:i]
		}
		out = append(out, strings.ReplaceAll(l, a.quoted(), "<grantee>"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// noSessions waits until no connection of the users is left.
func (e *myEnv) noSessions(t *testing.T, users ...string) {
	t.Helper()
	waitFor(t, "the connections of "+strings.Join(users, ", ")+" are closed", func() (bool, error) {
		n := 0
		for _, u := range users {
			var c int
			if err := e.admin.QueryRow("SELECT count(*) FROM information_schema.processlist WHERE user = ?", u).Scan(&c); err != nil {
				return false, err
			}
			n += c
		}
		return n == 0, nil
	})
}

// stallingServer accepts connections and never answers; it returns its
// address.
func stallingServer(t *testing.T) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			close(done)
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return hostPort(t, l.Addr().String())
}
