package dbplugin

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/kinko-dev/kinko/internal/randstr"
)

// Expand fills a statement template: {{name}} and {{username}} become
// username, {{password}} password and {{expiration}} expiration. Values
// are inserted as given: plugins quote them as their SQL dialect needs
// in their statements ('{{password}}', "{{name}}").
func Expand(stmt, username, password, expiration string) string {
	r := strings.NewReplacer("{{name}}", username, "{{username}}", username,
		"{{password}}", password, "{{expiration}}", expiration)
	return r.Replace(stmt)
}

// ExpandAll splits statements (SplitStatements) and fills each one
// (Expand), writing exp with layout ("" when exp is zero).
func ExpandAll(s Statements, name, password string, exp time.Time, layout string) []string {
	e := ""
	if !exp.IsZero() {
		e = exp.Format(layout)
	}
	var out []string
	for _, q := range SplitStatements(s) {
		out = append(out, Expand(q, name, password, e))
	}
	return out
}

// SplitStatements splits each command on ';' and drops empty parts, as
// Vault's plugins do.
func SplitStatements(s Statements) []string {
	var out []string
	for _, c := range s.Commands {
		for _, q := range strings.Split(c, ";") {
			if q = strings.TrimSpace(q); q != "" {
				out = append(out, q)
			}
		}
	}
	return out
}

// UsernameTemplate renders user names from a Go text/template with
// Vault's helper functions: random N, truncate N, truncate_sha256 N,
// uppercase, lowercase, replace OLD NEW, sha256, base64, unix_time,
// unix_time_millis, timestamp LAYOUT, uuid; and fields .DisplayName and
// .RoleName.
type UsernameTemplate struct {
	t *template.Template
}

// ParseUsernameTemplate parses a username_template; errors wrap
// ErrInvalidConfig.
func ParseUsernameTemplate(src string) (*UsernameTemplate, error) {
	t, err := template.New("username_template").Option("missingkey=error").Funcs(templateFuncs).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%w: username_template: %v", ErrInvalidConfig, err)
	}
	ut := &UsernameTemplate{t: t}
	if _, err := ut.Generate(UsernameMetadata{DisplayName: "token", RoleName: "role"}); err != nil {
		return nil, err
	}
	return ut, nil
}

// Generate renders a user name.
func (u *UsernameTemplate) Generate(m UsernameMetadata) (string, error) {
	var b bytes.Buffer
	if err := u.t.Execute(&b, m); err != nil {
		return "", fmt.Errorf("%w: username_template: %v", ErrInvalidConfig, err)
	}
	name := b.String()
	if name == "" {
		return "", fmt.Errorf("%w: username_template renders an empty user name", ErrInvalidConfig)
	}
	return name, nil
}

// RandomString returns n characters from [A-Za-z0-9] drawn from
// crypto/rand.
func RandomString(n int) (string, error) {
	if n < 0 || n > 1024 {
		return "", fmt.Errorf("%w: random length %d out of range", ErrInvalidConfig, n)
	}
	return randstr.From(randstr.Alphanumeric, n)
}

var templateFuncs = template.FuncMap{
	"random": RandomString,
	"truncate": func(n int, s string) (string, error) {
		if n < 0 {
			return "", fmt.Errorf("truncate: negative length")
		}
		if len(s) > n {
			return s[:n], nil
		}
		return s, nil
	},
	"truncate_sha256": func(n int, s string) (string, error) {
		if n < 8 {
			return "", fmt.Errorf("truncate_sha256: length must be at least 8")
		}
		if len(s) <= n {
			return s, nil
		}
		sum := sha256.Sum256([]byte(s))
		h := hex.EncodeToString(sum[:])
		keep := n - 8
		return s[:keep] + h[:8], nil
	},
	"uppercase": strings.ToUpper,
	"lowercase": strings.ToLower,
	"replace":   func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
	"sha256": func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	},
	"base64":           func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"unix_time":        func() string { return strconv.FormatInt(time.Now().Unix(), 10) },
	"unix_time_millis": func() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) },
	"timestamp":        func(layout string) string { return time.Now().UTC().Format(layout) },
	"uuid": func() (string, error) {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		h := hex.EncodeToString(b[:])
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	},
}
