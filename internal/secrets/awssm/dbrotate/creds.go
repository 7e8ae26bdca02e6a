package dbrotate

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Creds is a database secret's value in AWS's rotation-template JSON shape.
type Creds struct {
	Engine    string `json:"engine"`           // "postgres" (also "postgresql", "aurora-postgresql"), "mysql", "mariadb" (also "aurora-mysql", "aurora")
	Host      string `json:"host"`             // a host name or IP address
	Port      int    `json:"port,omitempty"`   // default 5432 / 3306
	Username  string `json:"username"`         //
	Password  string `json:"password"`         //
	DBName    string `json:"dbname,omitempty"` // postgres default "postgres"; mysql optional
	MasterARN string `json:"masterarn,omitempty"`
}

// String shows c without its password, so that printing credentials by
// mistake does not leak them.
func (c Creds) String() string {
	return fmt.Sprintf("{engine=%s host=%s port=%d username=%s dbname=%s masterarn=%s password=<redacted>}",
		c.Engine, c.Host, c.Port, c.Username, c.DBName, c.MasterARN)
}

// GoString is String, for %#v.
func (c Creds) GoString() string { return "dbrotate.Creds" + c.String() }

// LogValue keeps the password out of structured logs.
func (c Creds) LogValue() slog.Value {
	return slog.GroupValue(slog.String("engine", c.Engine), slog.String("host", c.Host), slog.Int("port", c.Port),
		slog.String("username", c.Username), slog.String("dbname", c.DBName))
}

var _ slog.LogValuer = Creds{}

// ErrInvalidCreds is wrapped by every error about the credentials
// themselves (ParseCreds, and argument checks of the rotation steps).
var ErrInvalidCreds = errors.New("invalid database credentials")

// ParseCreds decodes and checks a database secret's value: a JSON object
// (keys are matched exactly; other keys are ignored, null counts as
// absent) with engine, host, username and password required, port (a
// number or a numeric string) and dbname optional. It fills in the
// default port and, for PostgreSQL, the default database "postgres".
// Errors name the field to fix and never hold a value from the secret.
func ParseCreds(secretString string) (Creds, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(secretString), &fields); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Creds{}, fmt.Errorf("%w: the secret is not valid JSON (syntax error at byte %d)", ErrInvalidCreds, se.Offset)
		}
		return Creds{}, fmt.Errorf("%w: the secret is not a JSON object", ErrInvalidCreds)
	}
	if fields == nil {
		return Creds{}, fmt.Errorf("%w: the secret is not a JSON object", ErrInvalidCreds)
	}
	var c Creds
	for _, f := range []struct {
		key string
		dst *string
	}{{"engine", &c.Engine}, {"host", &c.Host}, {"username", &c.Username}, {"password", &c.Password},
		{"dbname", &c.DBName}, {"masterarn", &c.MasterARN}} {
		if err := stringField(fields, f.key, f.dst); err != nil {
			return Creds{}, err
		}
	}
	port, err := portField(fields["port"])
	if err != nil {
		return Creds{}, err
	}
	c.Port = port
	fam, err := c.check("")
	if err != nil {
		return Creds{}, err
	}
	if c.Port == 0 {
		c.Port = fam.defaultPort()
	}
	if c.DBName == "" && fam == postgres {
		c.DBName = "postgres"
	}
	return c, nil
}

func stringField(fields map[string]json.RawMessage, key string, dst *string) error {
	raw, ok := fields[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: %s must be a JSON string", ErrInvalidCreds, key)
	}
	return nil
}

// portField reads port: a whole number or a string holding one (AWS's
// templates accept both), 0 when absent.
func portField(raw json.RawMessage) (int, error) {
	if raw == nil || string(raw) == "null" {
		return 0, nil
	}
	bad := fmt.Errorf("%w: port must be a number from 1 to 65535", ErrInvalidCreds)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > math.MaxUint16 {
			return 0, bad
		}
		return n, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || f < 1 || f > math.MaxUint16 {
		return 0, bad
	}
	return int(f), nil
}

func (f family) defaultPort() int {
	if f == postgres {
		return 5432
	}
	return 3306
}

// port is c's port or the engine's default.
func (c Creds) port() int {
	if c.Port != 0 {
		return c.Port
	}
	f, _ := engineFamily(c.Engine)
	return f.defaultPort()
}

// database is c's database, with PostgreSQL's default.
func (c Creds) database() string {
	if f, _ := engineFamily(c.Engine); c.DBName == "" && f == postgres {
		return "postgres"
	}
	return c.DBName
}

// check validates c; role ("pending", "master", ...) names it in
// errors, which never hold a value of c.
func (c Creds) check(role string) (family, error) {
	prefix := ErrInvalidCreds.Error()
	if role != "" {
		prefix += " (" + role + ")"
	}
	bad := func(format string, a ...any) error {
		return &credsError{msg: prefix + ": " + fmt.Sprintf(format, a...)}
	}
	if c.Engine == "" {
		return 0, bad("engine is required: postgres, postgresql, aurora-postgresql, mysql, mariadb or aurora-mysql")
	}
	fam, ok := engineFamily(c.Engine)
	if !ok {
		return 0, bad("engine is not supported: use postgres, postgresql, aurora-postgresql, mysql, mariadb or aurora-mysql")
	}
	if c.Host == "" {
		return 0, bad("host is required")
	}
	if !validHost(c.Host) {
		return 0, bad("host must be a host name or an IP address")
	}
	if c.Port < 0 || c.Port > math.MaxUint16 {
		return 0, bad("port must be a number from 1 to 65535")
	}
	if c.Username == "" {
		return 0, bad("username is required")
	}
	if !validText(c.Username) {
		return 0, bad("username must be valid UTF-8 without NUL characters")
	}
	if c.Password == "" {
		return 0, bad("password is required")
	}
	if !validText(c.Password) {
		return 0, bad("password must be valid UTF-8 without NUL characters")
	}
	if !validText(c.DBName) {
		return 0, bad("dbname must be valid UTF-8 without NUL characters")
	}
	return fam, nil
}

// credsError is an invalid-credentials error.
type credsError struct{ msg string }

func (e *credsError) Error() string { return e.msg }
func (e *credsError) Unwrap() error { return ErrInvalidCreds }

// validText: what the servers and drivers can carry (no NUL, which both
// protocols use as a terminator and pgx's quoting drops).
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// maxHostLen is DNS's limit on a name.
const maxHostLen = 253

// validHost accepts host names and IP addresses (IPv6 optionally in
// brackets); it refuses what would change the meaning of a connection
// string: separators, quotes, spaces, control characters, and socket
// paths.
func validHost(h string) bool {
	h = trimBrackets(h)
	if h == "" || len(h) > maxHostLen || !utf8.ValidString(h) {
		return false
	}
	for _, r := range h {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`,/\@?#'"[]=;`+"`", r) {
			return false
		}
	}
	return true
}

func trimBrackets(h string) string {
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}
