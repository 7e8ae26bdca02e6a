package postgres

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

func TestConfigRefused(t *testing.T) {
	const url = "postgres://{{username}}:{{password}}@db.example:5432/app"
	tests := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"missing url", map[string]any{}, "connection_url is required"},
		{"blank url", map[string]any{"connection_url": "  "}, "connection_url is required"},
		{"url not a string", map[string]any{"connection_url": true}, "connection_url must be a string"},
		{"unknown key", map[string]any{"connection_url": url, "username": "u", "password": "hunter2", "colour": "red"}, "unknown connection parameters colour"},
		{"password in url and key", map[string]any{"connection_url": "postgres://u:hunter2@h/db", "password": "hunter2"}, "connection_url holds a password"},
		{"password in query and key", map[string]any{"connection_url": "postgres://h/db?password=hunter2", "password": "hunter2"}, "connection_url holds a password"},
		{"password in dsn and key", map[string]any{"connection_url": "host=h password='hunter2'", "password": "hunter2"}, "connection_url holds a password"},
		{"password placeholder, no key", map[string]any{"connection_url": url, "username": "u"}, "uses {{password}} but password is not set"},
		{"username placeholder, no key", map[string]any{"connection_url": url, "password": "hunter2"}, "uses {{username}} but username is not set"},
		{"bad int", map[string]any{"connection_url": "postgres://h/db", "max_open_connections": "many"}, "max_open_connections"},
		{"negative int", map[string]any{"connection_url": "postgres://h/db", "max_idle_connections": -1}, "max_idle_connections"},
		{"fractional int", map[string]any{"connection_url": "postgres://h/db", "max_open_connections": 1.5}, "max_open_connections"},
		{"bad duration", map[string]any{"connection_url": "postgres://h/db", "max_connection_lifetime": "soon"}, "max_connection_lifetime"},
		{"bad bool", map[string]any{"connection_url": "postgres://h/db", "disable_escaping": "perhaps"}, "disable_escaping"},
		{"bad template", map[string]any{"connection_url": "postgres://h/db", "username_template": "{{.Nope"}, "username_template"},
		{"template field", map[string]any{"connection_url": "postgres://h/db", "username_template": "{{.Colour}}"}, "username_template"},
		{"bad auth", map[string]any{"connection_url": "postgres://h/db", "password_authentication": "md5"}, "password_authentication"},
		{"bad port", map[string]any{"connection_url": "postgres://{{username}}:{{password}}@h:notaport/db", "username": "u", "password": "hunter2"}, "connection_url"},
		{"unterminated dsn", map[string]any{"connection_url": "host=h password='{{password}}", "password": "hunter2"}, "unterminated"},
		{"dsn without =", map[string]any{"connection_url": "host", "password": "hunter2"}, "key=value"},
		{"raw url that does not parse", map[string]any{"connection_url": url, "username": "u", "password": "hun ter2/?#", "disable_escaping": true}, "connection_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New().Initialize(context.Background(), dbplugin.InitializeRequest{Config: tc.cfg})
			if !errors.Is(err, dbplugin.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalidConfig with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "hun ter2") {
				t.Fatalf("password in error: %v", err)
			}
		})
	}
}

func TestConfigAccepted(t *testing.T) {
	const tricky = `p@ss:/w'rd %20 x\y"?#`
	tests := []struct {
		name            string
		cfg             map[string]any
		user, pw, where string
	}{
		{"url placeholders", map[string]any{"connection_url": "postgres://{{username}}:{{password}}@db.example:6543/app?sslmode=disable",
			"username": "ad@min", "password": tricky}, "ad@min", tricky, "db.example:6543/app"},
		{"dsn placeholders", map[string]any{"connection_url": "host=db.example port=6543 dbname=app user={{username}} password='{{password}}'",
			"username": "admin", "password": tricky}, "admin", tricky, "db.example:6543/app"},
		{"dsn bare placeholder", map[string]any{"connection_url": "host=db.example dbname=app user={{username}} password={{password}}",
			"username": "admin", "password": "two words"}, "admin", "two words", "db.example:5432/app"},
		{"credentials from keys", map[string]any{"connection_url": "postgres://db.example/app", "username": "admin", "password": tricky},
			"admin", tricky, "db.example:5432/app"},
		{"literal user, password key", map[string]any{"connection_url": "postgres://admin@db.example/app", "username": "other", "password": tricky},
			"admin", tricky, "db.example:5432/app"},
		{"literal credentials, no keys", map[string]any{"connection_url": "postgres://admin:lit@[::1]/app"}, "admin", "lit", "[::1]:5432/app"},
		{"disable escaping", map[string]any{"connection_url": "postgres://{{username}}:{{password}}@db.example/app",
			"username": "admin", "password": "p%40ss", "disable_escaping": "true"}, "admin", "p@ss", "db.example:5432/app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSettings(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			cc, err := s.connConfig()
			if err != nil {
				t.Fatal(err)
			}
			if cc.User != tc.user || cc.Password != tc.pw || describe(cc) != tc.where {
				t.Fatalf("user %q password %q where %q; want %q %q %q", cc.User, cc.Password, describe(cc), tc.user, tc.pw, tc.where)
			}
			norm := s.normalised()
			if norm["connection_url"] != tc.cfg["connection_url"] || norm["password"] != tc.cfg["password"] && tc.cfg["password"] != nil {
				t.Fatalf("normalised %v", norm)
			}
		})
	}
}

func TestConfigDefaultsAndLimits(t *testing.T) {
	tests := []struct {
		name              string
		cfg               map[string]any
		maxOpen, maxIdle  int
		lifetime          time.Duration
		template, pwAuthn string
	}{
		{"defaults", map[string]any{}, 4, 4, 0, "", ""},
		{"idle above open", map[string]any{"max_open_connections": "5", "max_idle_connections": 10}, 5, 5, 0, "", ""},
		{"idle below open", map[string]any{"max_open_connections": 8, "max_idle_connections": 2.0}, 8, 2, 0, "", ""},
		{"lifetime seconds", map[string]any{"max_connection_lifetime": "30"}, 4, 4, 30 * time.Second, "", ""},
		{"lifetime number", map[string]any{"max_connection_lifetime": 60}, 4, 4, time.Minute, "", ""},
		{"lifetime duration", map[string]any{"max_connection_lifetime": "5m"}, 4, 4, 5 * time.Minute, "", ""},
		{"template and scram", map[string]any{"username_template": "{{.RoleName}}-{{random 4}}", "password_authentication": "scram-sha-256"},
			4, 4, 0, "{{.RoleName}}-{{random 4}}", "scram-sha-256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg["connection_url"] = "postgres://h/db"
			s, err := parseSettings(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.maxOpen != tc.maxOpen || s.maxIdle != tc.maxIdle || s.lifetime != tc.lifetime || s.template != tc.template || s.pwAuth != tc.pwAuthn {
				t.Fatalf("settings %+v", s)
			}
			again, err := parseSettings(s.normalised())
			if err != nil || !maps.Equal(again.normalised(), s.normalised()) {
				t.Fatalf("normalised config does not round-trip: %v %v", err, again)
			}
		})
	}
}

func TestKeywordValues(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		err  bool
	}{
		{"", map[string]string{}, false},
		{"host=h  port = 5 ", map[string]string{"host": "h", "port": "5"}, false},
		{`password='a b\'c\\d' user=x\ y`, map[string]string{"password": `a b'c\d`, "user": `x\ y`}, false},
		{`password=a\qb`, map[string]string{"password": `a\qb`}, false},
		{`password=`, map[string]string{"password": ""}, false},
		{`password='`, nil, true},
		{`password=x\`, nil, true},
		{`=x`, nil, true},
		{`host`, nil, true},
	}
	for _, tc := range tests {
		got, err := keywordValues(tc.in)
		if (err != nil) != tc.err || !tc.err && !maps.Equal(got, tc.want) {
			t.Errorf("keywordValues(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestSafeName(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	tests := []struct{ in, want string }{
		{"v-token-role-abc", "v-token-role-abc"},
		{`v-o'brien-"x"-a\b`, "v-o_brien-_x_-a_b"},
		{"tab\there\x00", "tab_here_"},
		{long, strings.Repeat("é", 31)},
		{"bad\xffutf8", "bad_utf8"},
	}
	for _, tc := range tests {
		if got := safeName(tc.in); got != tc.want || checkName(got) != nil {
			t.Errorf("safeName(%q) = %q (check %v), want %q", tc.in, got, checkName(got), tc.want)
		}
	}
	for _, bad := range []string{"", `a"b`, "a'b", `a\b`, "a\nb", "\xff"} {
		if err := checkName(bad); !errors.Is(err, dbplugin.ErrInvalidStatements) {
			t.Errorf("checkName(%q) = %v", bad, err)
		}
	}
}

func TestExpand(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))
	st := &state{}
	pw, err := st.passwordValue("it's")
	if err != nil {
		t.Fatal(err)
	}
	got, err := expand(dbplugin.Statements{Commands: []string{`CREATE ROLE "{{name}}" PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT x TO "{{username}}";`}}, "u1", pw, exp)
	want := []string{`CREATE ROLE "u1" PASSWORD 'it''s' VALID UNTIL '2030-01-02 03:04:05+0100'`, `GRANT x TO "u1"`}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("expand = %q, %v", got, err)
	}
	got, _ = expand(dbplugin.Statements{Commands: []string{defaultExpirationStmt}}, "u1", "", time.Time{})
	if got[0] != `ALTER ROLE "u1" VALID UNTIL 'infinity'` {
		t.Fatalf("no expiry: %q", got)
	}
	for _, q := range []string{"COMMIT", " begin", "rollback to savepoint a", "PREPARE TRANSACTION 'x'", "End"} {
		if _, err := expand(dbplugin.Statements{Commands: []string{"SELECT 1;" + q}}, "u1", "", exp); !errors.Is(err, dbplugin.ErrInvalidStatements) {
			t.Errorf("%q accepted: %v", q, err)
		}
	}
	if _, err := st.passwordValue("a\x00b"); err == nil {
		t.Error("NUL in password accepted")
	}
	if _, err := (&state{scram: true}).passwordValue("pässword"); err == nil {
		t.Error("non-ASCII password hashed for SCRAM")
	}
}

// FuzzConfig: any configuration either is refused with ErrInvalidConfig
// and an error without the password, or builds a driver configuration
// and a normalised configuration that parses back to itself.
func FuzzConfig(f *testing.F) {
	f.Add("postgres://{{username}}:{{password}}@h:5432/db", "u", "p4ssword", "4", "{{random 5}}", false)
	f.Add("host=h user={{username}} password='{{password}}'", "u", "it's a secret", "x", "", false)
	f.Add("postgres://u:secret@h/db?password=other", "", "secret", "", "", true)
	f.Add("host='unterminated", "u", "secretpw", "1", "{{.RoleName", false)
	f.Fuzz(func(t *testing.T, url, user, pw, maxOpen, tmpl string, raw bool) {
		cfg := map[string]any{"connection_url": url, "username": user, "password": pw,
			"max_open_connections": maxOpen, "username_template": tmpl, "disable_escaping": raw}
		leaks := func(err error) bool {
			return len(pw) >= 6 && strings.Contains(err.Error(), pw) && !strings.Contains(url+user+maxOpen+tmpl, pw)
		}
		s, err := parseSettings(cfg)
		if err == nil {
			_, err = s.connConfig()
		}
		if err != nil {
			if !errors.Is(err, dbplugin.ErrInvalidConfig) || leaks(err) {
				t.Fatalf("error %v", err)
			}
			return
		}
		again, err := parseSettings(s.normalised())
		if err != nil || !maps.Equal(again.normalised(), s.normalised()) {
			t.Fatalf("normalised config does not round-trip: %v", err)
		}
	})
}

// FuzzKeywordValues: a value written in the driver's quoted syntax reads
// back as itself, whatever else the string holds.
func FuzzKeywordValues(f *testing.F) {
	f.Add("host=h", "it's \\ a 'value'")
	f.Add("password='x", "")
	f.Fuzz(func(t *testing.T, prefix, value string) {
		_, _ = keywordValues(prefix) // never panics
		quoted := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'"
		got, err := keywordValues("host=h password=" + quoted + " dbname=d")
		if err != nil || got["password"] != value || got["dbname"] != "d" {
			t.Fatalf("read back %q, %v; want %q", got["password"], err, value)
		}
	})
}
