// Package mysql is the MySQL/MariaDB plugin of the database secrets
// engine, on go-sql-driver/mysql. It answers to Vault's four plugin
// names, which differ only in the user names their default template
// makes: mysql-database-plugin (up to 32 characters, MySQL 5.7+ and
// MariaDB), and mysql-aurora-database-plugin, mysql-rds-database-plugin
// and mysql-legacy-database-plugin (up to 16, as Vault generates for
// them). A custom username_template is used as rendered.
//
// Connection details: connection_url (a go-sql-driver DSN that may hold
// {{username}} and {{password}}, e.g.
// "{{username}}:{{password}}@tcp(127.0.0.1:3306)/"; the DSN is parsed
// with the placeholders in place and the credentials are filled in after,
// so a password may hold any character), username, password,
// max_open_connections (default 4), max_idle_connections (0: as many as
// max_open_connections), max_connection_lifetime, username_template.
// Other keys (tls_ca, ...) are refused. The returned config keeps the
// password, for the engine to store encrypted.
//
// MySQL commits account statements (CREATE USER, GRANT, ...) one by one,
// so nothing can be rolled back: when creation fails the rollback
// statements run, best effort; the default rollback, DROP USER IF EXISTS,
// runs only if a creation statement succeeded, so a clash with an
// existing user never drops that user. Deletion is idempotent (no such
// user, no such grant count as done) and then kills the user's open
// sessions, so revoked credentials stop at once. ValidateStatements
// prepares each statement on the server and closes it, never running it.
//
// Values go into statements as given, so a user name or password holding
// a quote, a backslash or a control character is refused rather than
// allowed to change a statement. Errors name the server as host:port
// (and database) and never carry a password. A DB is safe for concurrent
// use; Initialize may be called again (root rotation) and then closes the
// previous pool. Connections on which a USE or SET statement ran are
// discarded, so no session state leaks into later operations.
package mysql

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// Plugin names.
const (
	PluginName       = "mysql-database-plugin"
	AuroraPluginName = "mysql-aurora-database-plugin"
	RDSPluginName    = "mysql-rds-database-plugin"
	LegacyPluginName = "mysql-legacy-database-plugin"
)

const (
	defaultTemplate = `v-{{.DisplayName | truncate 10}}-{{.RoleName | truncate 10}}-{{random 20}}-{{unix_time}}`
	legacyTemplate  = `v-{{.RoleName | truncate 4}}-{{random 20}}`

	defaultPasswordStmt   = `ALTER USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';`
	defaultRevocationStmt = `DROP USER IF EXISTS '{{name}}'@'%';`
	expirationLayout      = "2006-01-02 15:04:05-0700"
)

// Longest user names the default templates make.
const (
	UsernameLen       = 32
	LegacyUsernameLen = 16
)

// Plugins returns every name this plugin answers to.
func Plugins() map[string]dbplugin.Factory {
	return map[string]dbplugin.Factory{
		PluginName:       New,
		AuroraPluginName: func() dbplugin.Database { return newLegacy(AuroraPluginName) },
		RDSPluginName:    func() dbplugin.Database { return newLegacy(RDSPluginName) },
		LegacyPluginName: func() dbplugin.Database { return newLegacy(LegacyPluginName) },
	}
}

// New returns an uninitialised mysql-database-plugin.
func New() dbplugin.Database {
	return &DB{name: PluginName, maxName: UsernameLen, template: defaultTemplate}
}

func newLegacy(name string) *DB {
	return &DB{name: name, maxName: LegacyUsernameLen, template: legacyTemplate}
}

var (
	_ dbplugin.Database           = (*DB)(nil)
	_ dbplugin.StatementValidator = (*DB)(nil)
)

// DB is one MySQL connection pool.
type DB struct {
	name     string
	maxName  int    // names from the default template are cut to this
	template string // the default username_template

	mu       sync.RWMutex
	pool     *sql.DB
	where    string // host:port[/database], for errors
	password string // to redact from driver errors
	names    *dbplugin.UsernameTemplate
	cut      int // length generated names are cut to (0: not cut)
}

// Type names the plugin.
func (db *DB) Type() string { return db.name }

// settings are the parsed connection details.
type settings struct {
	url, user, pw, tmpl string
	maxOpen, maxIdle    int
	lifetime            time.Duration
}

// parseSettings reads and checks the connection details and returns them
// with their normalised form, the config the engine stores.
func parseSettings(raw map[string]any) (*settings, map[string]any, error) {
	c := dbplugin.NewConfig(raw)
	var s settings
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{{"connection_url", &s.url}, {"username", &s.user}, {"password", &s.pw}, {"username_template", &s.tmpl}} {
		if *f.dst, err = c.String(f.key); err != nil {
			return nil, nil, err
		}
	}
	if s.maxOpen, err = c.Int("max_open_connections", 4); err != nil {
		return nil, nil, err
	}
	if s.maxIdle, err = c.Int("max_idle_connections", 0); err != nil {
		return nil, nil, err
	}
	if s.lifetime, err = c.Duration("max_connection_lifetime"); err != nil {
		return nil, nil, err
	}
	if err := c.Unknown(); err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(s.url) == "" {
		return nil, nil, fmt.Errorf("%w: connection_url is required", dbplugin.ErrInvalidConfig)
	}
	if s.pw != "" && !strings.Contains(s.url, "{{password}}") {
		return nil, nil, fmt.Errorf("%w: connection_url must use {{password}} when password is set, so the password is not stored in the URL", dbplugin.ErrInvalidConfig)
	}
	if s.maxOpen == 0 {
		s.maxOpen = 4
	}
	if s.maxIdle == 0 || s.maxIdle > s.maxOpen {
		s.maxIdle = s.maxOpen
	}
	return &s, map[string]any{"connection_url": s.url, "username": s.user, "password": s.pw,
		"max_open_connections": s.maxOpen, "max_idle_connections": s.maxIdle,
		"max_connection_lifetime": s.lifetime.String(), "username_template": s.tmpl}, nil
}

// Initialize checks the details, opens a pool and, if asked, connects.
// A pool from an earlier call is closed once the new one is in place.
func (db *DB) Initialize(ctx context.Context, req dbplugin.InitializeRequest) (dbplugin.InitializeResponse, error) {
	s, normalised, err := parseSettings(req.Config)
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	src, cut := s.tmpl, 0
	if src == "" {
		src, cut = db.template, db.maxName
	}
	names, err := dbplugin.ParseUsernameTemplate(src)
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	cfg, err := driverConfig(s.url, s.user, s.pw)
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	where := cfg.Addr
	if cfg.DBName != "" {
		where += "/" + cfg.DBName
	}
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		return dbplugin.InitializeResponse{}, fmt.Errorf("%w: connection_url: %s", dbplugin.ErrInvalidConfig, dbplugin.Redact(err.Error(), s.pw))
	}
	pool := sql.OpenDB(conn)
	pool.SetMaxOpenConns(s.maxOpen)
	pool.SetMaxIdleConns(s.maxIdle)
	if s.lifetime > 0 {
		pool.SetConnMaxLifetime(s.lifetime)
	}
	if req.VerifyConnection {
		if err := pool.PingContext(ctx); err != nil {
			pool.Close()
			return dbplugin.InitializeResponse{}, fmt.Errorf("connect to mysql %s: %s", where, dbplugin.Redact(err.Error(), s.pw))
		}
	}
	db.mu.Lock()
	old := db.pool
	db.pool, db.where, db.password, db.names, db.cut = pool, where, s.pw, names, cut
	db.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return dbplugin.InitializeResponse{Config: normalised}, nil
}

// driverConfig parses the DSN with its placeholders in place, then fills
// in the credentials, so that no character of a user name or password
// (':', '@', '/', '?') can change how the DSN is read.
func driverConfig(url, user, pw string) (*driver.Config, error) {
	cfg, err := driver.ParseDSN(url)
	if err != nil {
		return nil, fmt.Errorf("%w: connection_url: %s", dbplugin.ErrInvalidConfig, dbplugin.Redact(err.Error(), pw))
	}
	fill := strings.NewReplacer("{{username}}", user, "{{password}}", pw)
	cfg.User, cfg.Passwd = fill.Replace(cfg.User), fill.Replace(cfg.Passwd)
	if strings.Contains(cfg.Addr+cfg.DBName, "{{") {
		return nil, fmt.Errorf("%w: connection_url: {{username}} and {{password}} belong before the @", dbplugin.ErrInvalidConfig)
	}
	// the driver would log connections that revocation kills on stderr;
	// errors reach the engine, redacted, through return values
	cfg.Logger = &driver.NopLogger{}
	return cfg, nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.pool != nil {
		err := db.pool.Close()
		db.pool = nil
		return err
	}
	return nil
}

var errNotInitialized = errors.New("mysql plugin is not initialized")

func (db *DB) current() (*sql.DB, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.pool == nil {
		return nil, errNotInitialized
	}
	return db.pool, nil
}

// fail names the server and keeps secrets out; errors the server raised
// about a statement wrap ErrInvalidStatements.
func (db *DB) fail(what string, err error, secrets ...string) error {
	return db.report(what, err, statementError(err), secrets...)
}

// report wraps err with the server's name, without secrets, and with
// ErrInvalidStatements when invalid is set.
func (db *DB) report(what string, err error, invalid bool, secrets ...string) error {
	db.mu.RLock()
	where, pw := db.where, db.password
	db.mu.RUnlock()
	msg := dbplugin.Redact(err.Error(), pw)
	for _, s := range secrets {
		msg = dbplugin.Redact(msg, s)
	}
	if invalid {
		return fmt.Errorf("%w: %s on mysql %s: %s", dbplugin.ErrInvalidStatements, what, where, msg)
	}
	return fmt.Errorf("%s on mysql %s: %s", what, where, msg)
}

// statementError tells errors about what a statement says (syntax,
// access rules, unknown objects: SQLSTATE class 42) from failures of the
// server or the connection. Also about the statement: 1046 no database
// selected, 1396 the account already exists (CREATE USER) or does not
// (ALTER USER), 1470 a user name too long.
func statementError(err error) bool {
	var me *driver.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1046, 1396, 1470:
		return true
	}
	return me.SQLState[0] == '4' && me.SQLState[1] == '2'
}

func expand(s dbplugin.Statements, name, password string, exp time.Time) []string {
	return dbplugin.ExpandAll(s, name, password, exp, expirationLayout)
}

// run executes statements one by one on one connection and returns how
// many succeeded. A connection whose session a statement may have
// changed (USE, SET) is discarded afterwards rather than pooled.
func (db *DB) run(ctx context.Context, stmts []string) (done int, err error) {
	pool, err := db.current()
	if err != nil {
		return 0, err
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return 0, err
	}
	changed := false
	defer func() { release(conn, changed) }()
	for _, q := range stmts {
		changed = changed || changesSession(q)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// changesSession: the statement may leave state (default database,
// session variables, role) on its connection.
func changesSession(q string) bool {
	f := strings.Fields(q)
	return len(f) > 0 && (strings.EqualFold(f[0], "USE") || strings.EqualFold(f[0], "SET"))
}

// release returns conn to the pool, or closes it for good when discard
// is set (database/sql drops a connection whose use ends in ErrBadConn).
func release(conn *sql.Conn, discard bool) {
	if discard {
		_ = conn.Raw(func(any) error { return sqldriver.ErrBadConn })
	}
	_ = conn.Close()
}
