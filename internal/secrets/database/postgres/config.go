package postgres

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

const (
	defaultMaxOpen        = 4
	defaultConnectTimeout = 30 * time.Second

	// Stand-ins for the placeholders while the URL is parsed, so the real
	// user name and password never go through the parser (nor its
	// errors) and need no escaping in either URL or key=value form.
	userMark = "kinkoUserPlaceholder7f3a"
	passMark = "kinkoPassPlaceholder7f3a"
)

// settings are the checked connection details of one connection.
type settings struct {
	url, username, password string
	template                string // as given; "" means the default
	pwAuth                  string // "", "password" or "scram-sha-256"
	maxOpen, maxIdle        int
	lifetime                time.Duration
	rawURL                  bool // disable_escaping

	names *dbplugin.UsernameTemplate
}

// parseSettings reads and checks the connection details; every error
// wraps dbplugin.ErrInvalidConfig and none holds the password.
func parseSettings(raw map[string]any) (*settings, error) {
	c := dbplugin.NewConfig(raw)
	s := &settings{}
	for _, f := range []struct {
		key string
		dst *string
	}{{"connection_url", &s.url}, {"username", &s.username}, {"password", &s.password},
		{"username_template", &s.template}, {"password_authentication", &s.pwAuth}} {
		v, err := c.String(f.key)
		if err != nil {
			return nil, err
		}
		*f.dst = v
	}
	var err error
	if s.maxOpen, err = c.Int("max_open_connections", 0); err != nil {
		return nil, err
	}
	if s.maxIdle, err = c.Int("max_idle_connections", 0); err != nil {
		return nil, err
	}
	if s.lifetime, err = c.Duration("max_connection_lifetime"); err != nil {
		return nil, err
	}
	if s.rawURL, err = c.Bool("disable_escaping", false); err != nil {
		return nil, err
	}
	if err := c.Unknown(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// check validates the values and fills in the defaults.
func (s *settings) check() error {
	s.url = strings.TrimSpace(s.url)
	if s.url == "" {
		return fmt.Errorf("%w: connection_url is required", dbplugin.ErrInvalidConfig)
	}
	switch s.pwAuth {
	case "", "password", "scram-sha-256":
	default:
		return fmt.Errorf("%w: password_authentication must be password or scram-sha-256", dbplugin.ErrInvalidConfig)
	}
	if s.maxOpen < 0 || s.maxIdle < 0 {
		return fmt.Errorf("%w: max_open_connections and max_idle_connections cannot be negative", dbplugin.ErrInvalidConfig)
	}
	if s.maxOpen == 0 {
		s.maxOpen = defaultMaxOpen
	}
	if s.maxIdle == 0 || s.maxIdle > s.maxOpen {
		s.maxIdle = s.maxOpen
	}
	tmpl := s.template
	if tmpl == "" {
		tmpl = defaultUsernameTemplate
	}
	names, err := dbplugin.ParseUsernameTemplate(tmpl)
	if err != nil {
		return err
	}
	s.names = names
	return s.checkCredentials()
}

// checkCredentials refuses a URL whose placeholders have no value, and a
// password given both literally in the URL and as the password key.
func (s *settings) checkCredentials() error {
	if strings.Contains(s.url, "{{username}}") && s.username == "" {
		return fmt.Errorf("%w: connection_url uses {{username}} but username is not set", dbplugin.ErrInvalidConfig)
	}
	if strings.Contains(s.url, "{{password}}") && s.password == "" {
		return fmt.Errorf("%w: connection_url uses {{password}} but password is not set", dbplugin.ErrInvalidConfig)
	}
	cred, err := urlCredentials(s.marked())
	if err != nil {
		return fmt.Errorf("%w: connection_url: %v", dbplugin.ErrInvalidConfig, err)
	}
	if s.password != "" && cred.hasPassword && !strings.Contains(cred.password, passMark) {
		return fmt.Errorf("%w: connection_url holds a password and the password key is set too: write {{password}} in the URL instead of the password", dbplugin.ErrInvalidConfig)
	}
	return nil
}

// marked is the URL with the placeholders replaced by their stand-ins.
func (s *settings) marked() string {
	return strings.NewReplacer("{{username}}", userMark, "{{password}}", passMark).Replace(s.url)
}

// normalised is the configuration to store: it gives back the same
// settings when parsed again.
func (s *settings) normalised() map[string]any {
	out := map[string]any{
		"connection_url":          s.url,
		"username":                s.username,
		"password":                s.password,
		"max_open_connections":    s.maxOpen,
		"max_idle_connections":    s.maxIdle,
		"max_connection_lifetime": s.lifetime.String(),
		"username_template":       s.template,
		"disable_escaping":        s.rawURL,
	}
	if s.pwAuth != "" {
		out["password_authentication"] = s.pwAuth
	}
	return out
}

// connConfig builds the driver's configuration. Without
// disable_escaping the user name and password are set on the parsed
// configuration where the placeholders were, so they need no escaping
// and never reach the parser; with it they are put into the URL as
// given, already escaped by the operator. A URL that names no user or
// no password gets the username or password key.
func (s *settings) connConfig() (*pgx.ConnConfig, error) {
	cc, err := parseConn(s.marked(), s.password)
	if err != nil {
		return nil, err
	}
	if s.rawURL {
		// the parser's message could quote part of the password
		if cc, err = pgx.ParseConfig(dbplugin.FillURL(s.url, s.username, s.password, true)); err != nil {
			return nil, fmt.Errorf("%w: connection_url does not parse once username and password are put in as given (disable_escaping is set: they must be escaped already)", dbplugin.ErrInvalidConfig)
		}
	}
	cc.User = strings.ReplaceAll(cc.User, userMark, s.username)
	cc.Password = strings.ReplaceAll(cc.Password, passMark, s.password)
	cred, _ := urlCredentials(s.marked()) // checked by checkCredentials
	if !cred.hasUser && s.username != "" {
		cc.User = s.username
	}
	if !cred.hasPassword && s.password != "" {
		cc.Password = s.password
	}
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = defaultConnectTimeout
	}
	return cc, nil
}

// parseConn parses a connection string; its errors do not quote the
// string (the driver hides a password only in some places), and the
// password key or a password written in the URL is redacted.
func parseConn(src, password string) (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(src)
	if err == nil {
		return cc, nil
	}
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		c := *pce
		c.ConnString = ""
		err = &c
	}
	msg := strings.TrimPrefix(err.Error(), "cannot parse ``: ")
	msg = strings.NewReplacer(userMark, "{{username}}", passMark, "{{password}}").Replace(msg)
	cred, _ := urlCredentials(src)
	return nil, fmt.Errorf("%w: connection_url: %s", dbplugin.ErrInvalidConfig, redact(msg, password, cred.password))
}

// describe names a server in errors: host:port/database.
func describe(cc *pgx.ConnConfig) string {
	return net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))) + "/" + cc.Database
}

// credentials are what a connection URL says about the login.
type credentials struct {
	hasUser, hasPassword bool
	password             string
}

// urlCredentials reads the user and password a connection string holds,
// in URL form (postgres://user:pass@host/db?password=...) or key=value
// form (user=... password='...'), following the driver's syntax.
func urlCredentials(s string) (credentials, error) {
	var c credentials
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		u, err := url.Parse(s)
		if err != nil {
			return c, fmt.Errorf("not a valid URL")
		}
		if u.User != nil {
			c.hasUser = true
			c.password, c.hasPassword = u.User.Password()
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return c, fmt.Errorf("not a valid URL query")
		}
		if q.Has("user") {
			c.hasUser = true
		}
		if q.Has("password") {
			c.hasPassword, c.password = true, q.Get("password")
		}
		return c, nil
	}
	kv, err := keywordValues(s)
	if err != nil {
		return c, err
	}
	_, c.hasUser = kv["user"]
	c.password, c.hasPassword = kv["password"]
	return c, nil
}

const spaces = " \t\n\r\v\f"

// keywordValues splits a key=value connection string the way the driver
// does: values are bare words or single-quoted, with backslash escapes.
func keywordValues(s string) (map[string]string, error) {
	out := map[string]string{}
	for s = strings.TrimLeft(s, spaces); s != ""; s = strings.TrimLeft(s, spaces) {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, fmt.Errorf("expected key=value")
		}
		key := strings.Trim(s[:eq], spaces)
		if key == "" {
			return nil, fmt.Errorf("expected key=value")
		}
		val, rest, err := keywordValue(strings.TrimLeft(s[eq+1:], spaces))
		if err != nil {
			return nil, err
		}
		out[key], s = val, rest
	}
	return out, nil
}

// keywordValue reads one value and returns it with the rest of s.
func keywordValue(s string) (val, rest string, err error) {
	quoted := strings.HasPrefix(s, "'")
	if quoted {
		s = s[1:]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\':
			if i+1 == len(s) {
				return "", "", fmt.Errorf("a backslash ends the string")
			}
			i++
			if s[i] != '\\' && s[i] != '\'' {
				b.WriteByte('\\') // only \\ and \' are escapes
			}
			b.WriteByte(s[i])
		case quoted && ch == '\'':
			return b.String(), s[i+1:], nil
		case !quoted && strings.IndexByte(spaces, ch) >= 0:
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(ch)
		}
	}
	if quoted {
		return "", "", fmt.Errorf("unterminated quoted value")
	}
	return b.String(), "", nil
}
