// Package redis is the Redis plugin of the database secrets engine
// (plugin_name "redis-database-plugin"): credentials are Redis 6+ ACL
// users, managed with go-redis, in the spirit of Vault's plugin of the
// same name.
//
// Connection details: host and port (required), username and password of
// the admin ACL user kinko connects as (an empty username means
// "default"), tls, insecure_tls, ca_cert (PEM) and username_template.
// Unknown keys are refused. The admin needs at least "+acl +client|kill
// +ping"; it may grant rules it does not hold itself. Initialize again
// (after a root rotation, or new details) replaces the client.
//
// Statements: each element of creation_statements is a JSON array of ACL
// rules, e.g. ["~app:*", "+get", "+set"] or ["~*", "+@read"]; several
// arrays are concatenated. Without creation statements the user gets
// read-only access to every key, ["~*", "+@read"], as in Vault. kinko sets
// the password and switches the user on itself, so rules that touch
// passwords or the on/off flag (>pw, <pw, #hash, !hash, nopass,
// resetpass, reset, on, off) are refused. Selectors ("(~k:* +get)") are
// accepted. Revocation, renewal and rotation statements are not used:
// Redis users have no expiry, a password change is always "resetpass
// >new" and revocation deletes the user.
//
// Invariants: NewUser never touches an existing user (it refuses a name
// that exists) and, because ACL SETUSER is atomic, a bad rule creates
// nothing; DeleteUser ends the user's open connections and succeeds for a
// user that is already gone; ValidateStatements checks rules against the
// server with a throwaway disabled user that it deletes at once.
//
// Errors name host:port, never a password. All methods are safe for
// concurrent use; Initialize and Close wait for operations in flight
// before they close the client those use.
package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// PluginName is the plugin_name that selects this plugin.
const PluginName = "redis-database-plugin"

const (
	defaultTemplate = `V_{{.DisplayName | uppercase | truncate 10}}_{{.RoleName | uppercase | truncate 10}}_{{random 20 | uppercase}}_{{unix_time}}`
	maxNameLength   = 64
	defaultAdmin    = "default"
)

var (
	_ dbplugin.Database           = (*DB)(nil)
	_ dbplugin.StatementValidator = (*DB)(nil)
)

// DB is one Redis connection; see the package doc.
type DB struct {
	mu       sync.RWMutex
	client   *goredis.Client
	where    string // host:port, for errors
	password string // the admin's, redacted from errors
	names    *dbplugin.UsernameTemplate
}

// New returns an uninitialised plugin.
func New() dbplugin.Database { return &DB{} }

// Type names the plugin.
func (db *DB) Type() string { return PluginName }

// settings are parsed connection details.
type settings struct {
	host, user, password, caCert, template string
	port                                   int
	tls, insecure                          bool
}

func parseSettings(raw map[string]any) (*settings, error) {
	c := dbplugin.NewConfig(raw)
	var s settings
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{{"host", &s.host}, {"username", &s.user}, {"password", &s.password}, {"ca_cert", &s.caCert},
		{"username_template", &s.template}} {
		if *f.dst, err = c.String(f.key); err != nil {
			return nil, err
		}
	}
	if s.port, err = c.Int("port", 0); err != nil {
		return nil, err
	}
	if s.tls, err = c.Bool("tls", false); err != nil {
		return nil, err
	}
	if s.insecure, err = c.Bool("insecure_tls", false); err != nil {
		return nil, err
	}
	if err := c.Unknown(); err != nil {
		return nil, err
	}
	switch {
	case s.host == "":
		return nil, fmt.Errorf("%w: host is required", dbplugin.ErrInvalidConfig)
	case s.port <= 0 || s.port > 65535:
		return nil, fmt.Errorf("%w: port is required (1-65535)", dbplugin.ErrInvalidConfig)
	}
	if s.user == "" {
		s.user = defaultAdmin
	}
	return &s, nil
}

// config is what the engine stores (the password included: the engine
// keeps it encrypted).
func (s *settings) config() map[string]any {
	return map[string]any{"host": s.host, "port": s.port, "username": s.user, "password": s.password,
		"tls": s.tls, "insecure_tls": s.insecure, "ca_cert": s.caCert, "username_template": s.template}
}

func (s *settings) tlsConfig() (*tls.Config, error) {
	if !s.tls {
		return nil, nil
	}
	//nolint:gosec // insecure_tls is the operator's explicit choice
	cfg := &tls.Config{ServerName: s.host, InsecureSkipVerify: s.insecure, MinVersion: tls.VersionTLS12}
	if s.caCert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.caCert)) {
			return nil, fmt.Errorf("%w: ca_cert holds no PEM certificate", dbplugin.ErrInvalidConfig)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Initialize checks the details, makes a client (replacing any earlier
// one) and, with VerifyConnection, pings the server as the admin.
func (db *DB) Initialize(ctx context.Context, req dbplugin.InitializeRequest) (dbplugin.InitializeResponse, error) {
	s, err := parseSettings(req.Config)
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	src := s.template
	if src == "" {
		src = defaultTemplate
	}
	names, err := dbplugin.ParseUsernameTemplate(src)
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	tc, err := s.tlsConfig()
	if err != nil {
		return dbplugin.InitializeResponse{}, err
	}
	where := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	client := goredis.NewClient(&goredis.Options{Addr: where, Username: s.user, Password: s.password, TLSConfig: tc,
		PoolSize: 4, MaxRetries: -1, ContextTimeoutEnabled: true, DisableIdentity: true})
	if req.VerifyConnection {
		if err := client.Ping(ctx).Err(); err != nil {
			client.Close()
			return dbplugin.InitializeResponse{}, fmt.Errorf("connect to redis %s as %q: %s",
				where, s.user, dbplugin.Redact(err.Error(), s.password))
		}
	}
	db.mu.Lock()
	old := db.client
	db.client, db.where, db.password, db.names = client, where, s.password, names
	db.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return dbplugin.InitializeResponse{Config: s.config()}, nil
}

// Close closes the client; the plugin must be initialised again to be
// used.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.client == nil {
		return nil
	}
	err := db.client.Close()
	db.client = nil
	return err
}

// conn is a snapshot of the current client and what errors name.
type conn struct {
	c        *goredis.Client
	names    *dbplugin.UsernameTemplate
	where    string
	password string
}

// acquire returns the current client, read-locked so that Initialize and
// Close wait for the operation before closing it; call release when done.
func (db *DB) acquire() (conn, func(), error) {
	db.mu.RLock()
	if db.client == nil {
		db.mu.RUnlock()
		return conn{}, nil, errors.New("redis plugin is not initialized")
	}
	return conn{c: db.client, names: db.names, where: db.where, password: db.password}, db.mu.RUnlock, nil
}

// fail wraps err with what failed and the server's address, with the
// admin's password and any others given redacted.
func (cn conn) fail(what string, err error, secrets ...string) error {
	msg := dbplugin.Redact(err.Error(), cn.password)
	for _, s := range secrets {
		msg = dbplugin.Redact(msg, s)
	}
	return fmt.Errorf("%s on redis %s: %s", what, cn.where, msg)
}
