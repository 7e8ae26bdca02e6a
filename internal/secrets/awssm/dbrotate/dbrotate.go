// Package dbrotate is the database half of the built-in rotators of the
// AWS Secrets Manager engine: it changes PostgreSQL and MariaDB/MySQL
// users' passwords as AWS's rotation templates do
// (SecretsManagerRDS{PostgreSQL,MySQL}Rotation{SingleUser,MultiUser}),
// for the setSecret and testSecret steps. Reading and staging secret
// versions is the caller's business.
//
// A secret's value is a JSON object in the templates' shape (Creds);
// ParseCreds reads it.
//
// Single user (SetSingle): the user changes its own password. It logs in
// with the pending password (if that works, the step was done before),
// else the current one, else the previous one, and sets its password to
// the pending one.
//
// Alternating users (SetAlternating): two users take turns, <name> and
// <name>_clone (CloneUsername). If the pending password already logs in,
// the step was done before. Otherwise the current credentials must log in
// (so that nobody can have a master user act on a user whose credentials
// they do not hold), then the master credentials create the pending user
// if it is missing, with the privileges of the current one, or else
// set its password:
//   - PostgreSQL: CREATE ROLE <pending> WITH LOGIN PASSWORD ... and
//     GRANT <current> TO <pending>, in one transaction, so the clone holds
//     the current user's privileges through membership;
//   - MariaDB/MySQL: the pending account is created on the same host part
//     as the account the current user logs in as (CURRENT_USER()), with a
//     throwaway password; every line of SHOW GRANTS for the current
//     account is replayed for it (also when it exists already, so that
//     it gains privileges given to the other one since), its TLS
//     requirement (REQUIRE) is copied, and only then is its password set.
//     The pending password logs in only once all of that is done, which
//     is what makes the early "already done" return safe.
//
// Test (testSecret) logs in and runs SELECT 1.
//
// The early returns when the pending password logs in (as in AWS's
// templates) assume the server checks passwords: against a PostgreSQL
// that trusts the connection (pg_hba.conf "trust"), every password logs
// in and nothing is ever changed.
//
// What the clone does not get: on PostgreSQL, role attributes (CREATEDB,
// CONNECTION LIMIT, ...) and per-role settings (ALTER ROLE ... SET), which
// membership does not pass on, and objects it creates belong to it, not
// to the original; from PostgreSQL 16 the master needs ADMIN OPTION on
// the original role to grant it. On MariaDB/MySQL, resource limits and
// the authentication plugin (the clone gets the server's default), and
// MySQL 8's default roles, which SHOW GRANTS does not list.
//
// Passwords are set with statements built here, as the servers take no
// parameters in them: identifiers are quoted (pgx.Identifier.Sanitize,
// MySQL backticks doubled), literals are quoted to suit the session
// (PostgreSQL E'...' strings; MySQL quoting that follows the session's
// NO_BACKSLASH_ESCAPES). PostgreSQL receives the password already hashed
// the way its password_encryption setting asks (SCRAM-SHA-256 or MD5), as
// psql's \password does, so the clear password never reaches its logs;
// non-ASCII passwords, for which PostgreSQL applies SASLprep, are sent in
// clear.
//
// Errors name the server (engine host:port[/database]) and the user, and
// carry the server's message with every password and verifier involved
// replaced by <redacted>; syntax errors, whose messages quote the
// statement, are reduced to their code. Login failures wrap ErrLogin and
// invalid credentials ErrInvalidCreds. Nothing here logs.
//
// Connections: one per login, made with database/sql (pgx's stdlib driver
// with sslmode=prefer, go-sql-driver/mysql with tls=preferred), a 5 s
// connect timeout, and closed before the function returns. The context
// bounds every call; without a deadline, a call gives up after
// DefaultTimeout. Functions are safe for concurrent use; rotating one user
// from two places at once is the caller's to prevent.
package dbrotate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ConnectTimeout bounds each login: connecting, TLS and authentication.
const ConnectTimeout = 5 * time.Second

// connectTimeout is ConnectTimeout; tests shorten it.
var connectTimeout = ConnectTimeout

// DefaultTimeout bounds a call whose context has no deadline.
const DefaultTimeout = 2 * time.Minute

// family is a database server's kind.
type family int

const (
	postgres family = iota + 1
	mysql
)

// engineFamily maps a secret's engine field to a server kind.
func engineFamily(engine string) (family, bool) {
	switch strings.ToLower(engine) {
	case "postgres", "postgresql", "aurora-postgresql":
		return postgres, true
	case "mysql", "mariadb", "aurora-mysql", "aurora":
		return mysql, true
	}
	return 0, false
}

// cloneSuffix marks the second user of the alternating-users strategy.
const cloneSuffix = "_clone"

// CloneUsername returns the user that takes over from username in the
// alternating-users strategy, as AWS's templates name it: username
// without "_clone" if it ends so, else username + "_clone". The name is
// never cut short: a cut name would not lead back to the original user,
// which would then keep its last password for good. SetAlternating
// refuses a name too long for the server (PostgreSQL 63 bytes, MySQL 32
// characters, MariaDB 80), as AWS's templates do. engine is accepted for
// symmetry with the templates; the rule is the same for every engine.
func CloneUsername(engine, username string) string {
	_ = engine
	if base, ok := strings.CutSuffix(username, cloneSuffix); ok {
		return base
	}
	return username + cloneSuffix
}

// SetSingle is the setSecret step of the single-user strategy: the user
// changes its own password to pending.Password, logging in with the
// pending, current or previous password, whichever works first. It does
// nothing when the pending password already logs in. previous may be nil;
// it is tried only when it names the same user on the same server.
func SetSingle(ctx context.Context, pending, current Creds, previous *Creds) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	fam, err := checkSingle(pending, current, previous)
	if err != nil {
		return err
	}
	d := dialectOf(fam)
	candidates := []Creds{pending, current}
	if previous != nil && sameUser(*previous, pending) {
		candidates = append(candidates, *previous)
	}
	var lastErr error
	for i, c := range candidates {
		try := pending // pending's server and database, this candidate's password
		try.Password = c.Password
		s, err := d.login(ctx, try, secretsOf(pending, current, previous))
		if err != nil {
			if !errors.Is(err, ErrLogin) {
				return err
			}
			lastErr = err
			continue
		}
		defer s.close()
		if i == 0 {
			return nil // done before
		}
		return d.setOwnPassword(ctx, s, pending)
	}
	tried := "pending and current"
	if len(candidates) == 3 {
		tried = "pending, current and previous"
	}
	return fmt.Errorf("none of the %s passwords logs in: %w", tried, lastErr)
}

// SetAlternating is the setSecret step of the alternating-users strategy:
// with the master credentials it creates pending.Username with
// pending.Password and the privileges of current.Username, or sets its
// password if it exists. pending.Username must be
// CloneUsername(current.Engine, current.Username); master must be on the
// same host. It does nothing when the pending password already logs in.
func SetAlternating(ctx context.Context, master, current, pending Creds) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	fam, err := checkAlternating(master, current, pending)
	if err != nil {
		return err
	}
	d := dialectOf(fam)
	secrets := secretsOf(master, current, &pending)
	s, err := d.login(ctx, pending, secrets)
	if err == nil {
		s.close()
		return nil // done before
	}
	if !errors.Is(err, ErrLogin) {
		return err
	}
	cur, err := d.login(ctx, current, secrets)
	if err != nil {
		return fmt.Errorf("the current credentials must log in before a master user acts for them: %w", err)
	}
	defer cur.close()
	m := master
	m.DBName = current.DBName // as AWS's templates do: the current user's database
	if fam == mysql {
		m.DBName = ""
	}
	ms, err := d.login(ctx, m, secrets)
	if err != nil {
		return fmt.Errorf("master credentials: %w", err)
	}
	defer ms.close()
	return d.cloneUser(ctx, ms, cur, current, pending)
}

// Test is the testSecret step: it logs in as c and runs SELECT 1.
func Test(ctx context.Context, c Creds) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	fam, err := c.check("credentials")
	if err != nil {
		return err
	}
	s, err := dialectOf(fam).login(ctx, c, []string{c.Password})
	if err != nil {
		return err
	}
	defer s.close()
	var one int
	if err := s.conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return s.fail("run SELECT 1", err)
	}
	return nil
}

// dialect is what differs between PostgreSQL and MariaDB/MySQL.
type dialect interface {
	// login connects as c; a refused login wraps ErrLogin.
	login(ctx context.Context, c Creds, secrets []string) (*session, error)
	// setOwnPassword sets the logged-in user's password to c.Password.
	setOwnPassword(ctx context.Context, s *session, c Creds) error
	// cloneUser creates or updates pending through the master session,
	// with the privileges of current (cur is logged in as current).
	cloneUser(ctx context.Context, master, cur *session, current, pending Creds) error
}

func dialectOf(f family) dialect {
	if f == postgres {
		return pgDialect{}
	}
	return myDialect{}
}

// connecting bounds a login.
func connecting(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, connectTimeout)
}

// bound gives ctx a deadline of DefaultTimeout if it has none.
func bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// secretsOf lists the passwords errors must never show.
func secretsOf(a, b Creds, c *Creds) []string {
	s := []string{a.Password, b.Password}
	if c != nil {
		s = append(s, c.Password)
	}
	return s
}

// sameServer reports whether a and b name the same server.
func sameServer(a, b Creds) bool {
	fa, _ := engineFamily(a.Engine)
	fb, _ := engineFamily(b.Engine)
	return fa == fb && sameHost(a.Host, b.Host) && a.port() == b.port()
}

func sameHost(a, b string) bool {
	return strings.EqualFold(trimBrackets(a), trimBrackets(b))
}

func sameUser(a, b Creds) bool { return sameServer(a, b) && a.Username == b.Username }

func checkSingle(pending, current Creds, previous *Creds) (family, error) {
	fam, err := pending.check("pending")
	if err != nil {
		return 0, err
	}
	if _, err := current.check("current"); err != nil {
		return 0, err
	}
	if previous != nil {
		if _, err := previous.check("previous"); err != nil {
			return 0, err
		}
	}
	if !sameServer(pending, current) {
		return 0, fmt.Errorf("%w: the pending and current credentials name different servers (engine, host, port)", ErrInvalidCreds)
	}
	if pending.Username != current.Username {
		return 0, fmt.Errorf("%w: single-user rotation keeps the user: pending is %q, current %q", ErrInvalidCreds, pending.Username, current.Username)
	}
	return fam, nil
}

func checkAlternating(master, current, pending Creds) (family, error) {
	fam, err := pending.check("pending")
	if err != nil {
		return 0, err
	}
	if _, err := current.check("current"); err != nil {
		return 0, err
	}
	mf, err := master.check("master")
	if err != nil {
		return 0, err
	}
	if !sameServer(pending, current) {
		return 0, fmt.Errorf("%w: the pending and current credentials name different servers (engine, host, port)", ErrInvalidCreds)
	}
	if want := CloneUsername(current.Engine, current.Username); pending.Username != want {
		return 0, fmt.Errorf("%w: alternating-users rotation from %q must rotate %q, not %q", ErrInvalidCreds, current.Username, want, pending.Username)
	}
	if mf != fam || !sameHost(master.Host, current.Host) {
		return 0, fmt.Errorf("%w: the master credentials are for another server (engine and host must match the current ones)", ErrInvalidCreds)
	}
	if master.Username == current.Username || master.Username == pending.Username {
		return 0, fmt.Errorf("%w: alternating-users rotation cannot use the rotated user as its master", ErrInvalidCreds)
	}
	if fam == postgres && len(pending.Username) > pgMaxName {
		return 0, fmt.Errorf("%w: user name %q is longer than PostgreSQL's %d bytes; the user to clone may have at most %d", ErrInvalidCreds, pending.Username, pgMaxName, pgMaxName-len(cloneSuffix))
	}
	return fam, nil
}
