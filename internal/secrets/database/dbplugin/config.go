package dbplugin

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config reads typed values from connection details as they arrive from
// an API body (strings, JSON numbers, booleans) and remembers which keys
// were read, so that Unknown can refuse the rest.
type Config struct {
	raw  map[string]any
	used map[string]bool
}

// NewConfig wraps connection details.
func NewConfig(raw map[string]any) *Config {
	return &Config{raw: raw, used: map[string]bool{}}
}

// String returns a string value ("" when absent).
func (c *Config) String(key string) (string, error) {
	c.used[key] = true
	switch v := c.raw[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	default:
		return "", fmt.Errorf("%w: %s must be a string", ErrInvalidConfig, key)
	}
}

// Int returns an integer value (def when absent).
func (c *Config) Int(key string, def int) (int, error) {
	c.used[key] = true
	var s string
	switch v := c.raw[key].(type) {
	case nil:
		return def, nil
	case float64:
		if v != float64(int(v)) {
			return 0, fmt.Errorf("%w: %s must be a whole number", ErrInvalidConfig, key)
		}
		return int(v), nil
	case int:
		return v, nil
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, fmt.Errorf("%w: %s must be a number", ErrInvalidConfig, key)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 1<<20 {
		return 0, fmt.Errorf("%w: %s must be a whole number between 0 and %d", ErrInvalidConfig, key, 1<<20)
	}
	return n, nil
}

// Bool returns a boolean value (def when absent).
func (c *Config) Bool(key string, def bool) (bool, error) {
	c.used[key] = true
	switch v := c.raw[key].(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%w: %s must be true or false", ErrInvalidConfig, key)
		}
		return b, nil
	default:
		return false, fmt.Errorf("%w: %s must be true or false", ErrInvalidConfig, key)
	}
}

// Duration returns a duration given as seconds or a Go duration string
// ("30s", "5m").
func (c *Config) Duration(key string) (time.Duration, error) {
	c.used[key] = true
	switch v := c.raw[key].(type) {
	case nil:
		return 0, nil
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return time.Duration(n) * time.Second, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%w: %s must be a duration such as 30s or 5m", ErrInvalidConfig, key)
		}
		return d, nil
	}
	n, err := c.Int(key, 0)
	return time.Duration(n) * time.Second, err
}

// Unknown returns an error naming the keys that were never read.
func (c *Config) Unknown() error {
	var extra []string
	for k := range c.raw {
		if !c.used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return fmt.Errorf("%w: unknown connection parameters %s", ErrInvalidConfig, strings.Join(extra, ", "))
}

// FillURL puts the user name and password into a connection URL that
// holds {{username}} and {{password}} placeholders. In a URL
// (scheme://user:pass@host) they are escaped for the userinfo part
// unless raw is set; in a key=value DSN they are used as given.
func FillURL(tmpl, username, password string, raw bool) string {
	u, p := username, password
	if !raw && strings.Contains(tmpl, "://") {
		u = strings.TrimSuffix(url.User(username).String(), "@")
		p = strings.TrimPrefix(url.UserPassword("x", password).String(), "x:")
	}
	return strings.NewReplacer("{{username}}", u, "{{password}}", p).Replace(tmpl)
}

// Redact removes a password from a text (an error from a driver that
// quoted its DSN), so it never reaches a log or a client.
func Redact(text, password string) string {
	if password == "" {
		return text
	}
	text = strings.ReplaceAll(text, password, "<redacted>")
	if esc := strings.TrimPrefix(url.UserPassword("x", password).String(), "x:"); esc != password {
		text = strings.ReplaceAll(text, esc, "<redacted>")
	}
	return text
}
