package redis

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]any
		err  string
	}{
		{"no host", map[string]any{"port": 6379}, "host is required"},
		{"no port", map[string]any{"host": "h"}, "port is required"},
		{"zero port", map[string]any{"host": "h", "port": 0}, "port is required"},
		{"big port", map[string]any{"host": "h", "port": 70000}, "port is required"},
		{"text port", map[string]any{"host": "h", "port": "abc"}, "port"},
		{"fraction port", map[string]any{"host": "h", "port": 63.5}, "port"},
		{"host not string", map[string]any{"host": 5, "port": 1}, "host must be a string"},
		{"unknown", map[string]any{"host": "h", "port": 1, "db": 2}, "unknown connection parameters db"},
		{"connection_url", map[string]any{"host": "h", "port": 1, "connection_url": "redis://x"}, "connection_url"},
		{"bad ca", map[string]any{"host": "h", "port": 1, "tls": true, "ca_cert": "nope"}, "ca_cert"},
		{"bad tls", map[string]any{"host": "h", "port": 1, "tls": "maybe"}, "tls"},
		{"bad insecure_tls", map[string]any{"host": "h", "port": 1, "insecure_tls": 3}, "insecure_tls"},
		{"bad template", map[string]any{"host": "h", "port": 1, "username_template": "{{.Nope"}, "username_template"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New().Initialize(context.Background(), dbplugin.InitializeRequest{Config: tc.cfg})
			if !errors.Is(err, dbplugin.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want ErrInvalidConfig with %q", err, tc.err)
			}
		})
	}
}

func TestConfigNormalised(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{"defaults", map[string]any{"host": "h", "port": "6379"}, map[string]any{"host": "h", "port": 6379,
			"username": "default", "password": "", "tls": false, "insecure_tls": false, "ca_cert": "", "username_template": ""}},
		{"all", map[string]any{"host": "h", "port": json.Number("7000"), "username": "admin", "password": "s3cret",
			"tls": "true", "insecure_tls": true, "username_template": "{{.RoleName}}_{{random 8}}"},
			map[string]any{"host": "h", "port": 7000, "username": "admin", "password": "s3cret", "tls": true,
				"insecure_tls": true, "ca_cert": "", "username_template": "{{.RoleName}}_{{random 8}}"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := New()
			defer db.Close()
			res, err := db.Initialize(context.Background(), dbplugin.InitializeRequest{Config: tc.in})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Config, tc.want) {
				t.Fatalf("config %v, want %v", res.Config, tc.want)
			}
		})
	}
}

func TestUnreachableErrorHidesPassword(t *testing.T) {
	db := New()
	defer db.Close()
	_, err := db.Initialize(context.Background(), dbplugin.InitializeRequest{VerifyConnection: true,
		Config: map[string]any{"host": "127.0.0.1", "port": 1, "username": "admin", "password": "Sup3r-Secret"}})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "Sup3r-Secret") {
		t.Fatalf("error %v: want the address and no password", err)
	}
	if _, err := db.NewUser(context.Background(), dbplugin.NewUserRequest{Password: "p"}); err == nil {
		t.Fatal("NewUser on an uninitialised plugin succeeded")
	}
}

func TestRules(t *testing.T) {
	tests := []struct {
		in  []string
		out []string
		err string
	}{
		{[]string{`["~*", "+@read"]`}, []string{"~*", "+@read"}, ""},
		{[]string{`["+get"]`, ` `, `["~app:*"]`}, []string{"+get", "~app:*"}, ""},
		{[]string{`["(~k:* +get)", "%R~r:*"]`}, []string{"(~k:* +get)", "%R~r:*"}, ""},
		{nil, nil, ""},
		{[]string{`[]`}, nil, ""},
		{[]string{`+get`}, nil, "JSON array"},
		{[]string{`["+get"`}, nil, "JSON array"},
		{[]string{`[1]`}, nil, "JSON array"},
		{[]string{`[">secret"]`}, nil, "kinko manages"},
		{[]string{`["<secret"]`}, nil, "kinko manages"},
		{[]string{`["#abcd"]`}, nil, "kinko manages"},
		{[]string{`["nopass"]`}, nil, "kinko manages"},
		{[]string{`["RESET"]`}, nil, "kinko manages"},
		{[]string{`["off"]`}, nil, "kinko manages"},
		{[]string{`["+get ~*"]`}, nil, "one word"},
		{[]string{`[""]`}, nil, "empty"},
		{[]string{`["a\u0000b"]`}, nil, "not valid text"},
	}
	for _, tc := range tests {
		r, err := rules(dbplugin.Statements{Commands: tc.in})
		if tc.err == "" && (err != nil || !reflect.DeepEqual(r, tc.out)) {
			t.Errorf("%q: %q %v, want %q", tc.in, r, err, tc.out)
		}
		if tc.err != "" && (!errors.Is(err, dbplugin.ErrInvalidStatements) || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: error %v, want ErrInvalidStatements with %q", tc.in, err, tc.err)
		}
	}
}

func TestUserName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"V_TOKEN_ROLE_X", "V_TOKEN_ROLE_X"},
		{"a b\tc\x00d", "a_b_c_d"},
		{strings.Repeat("x", 70), strings.Repeat("x", 64)},
		{strings.Repeat("x", 63) + "é", strings.Repeat("x", 63)},
	}
	for _, tc := range tests {
		if got := userName(tc.in); got != tc.want {
			t.Errorf("userName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDefaultTemplate(t *testing.T) {
	ut, err := dbplugin.ParseUsernameTemplate(defaultTemplate)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ut.Generate(dbplugin.UsernameMetadata{DisplayName: "userpass-somebody", RoleName: "cache-reader"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(n, "V_USERPASS-S_CACHE-READ_") || len(userName(n)) != len(n) {
		t.Fatalf("name %q", n)
	}
}

func FuzzRules(f *testing.F) {
	for _, s := range []string{`["~*", "+@read"]`, `[">pw"]`, `not json`, `["(~a +get)"]`, `[" "]`, `["\u0000"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stmt string) {
		r, err := rules(dbplugin.Statements{Commands: []string{stmt}})
		if err != nil {
			if !errors.Is(err, dbplugin.ErrInvalidStatements) {
				t.Fatalf("error %v does not wrap ErrInvalidStatements", err)
			}
			return
		}
		for _, x := range r {
			if checkRule(x) != nil || strings.ContainsAny(x[:1], "><#!") || reserved[strings.ToLower(x)] {
				t.Fatalf("rule %q accepted", x)
			}
		}
		// Accepted rules round-trip through their JSON form.
		b, _ := json.Marshal(r)
		again, err := rules(dbplugin.Statements{Commands: []string{string(b)}})
		if err != nil || len(again) != len(r) {
			t.Fatalf("round trip of %q: %q %v", r, again, err)
		}
	})
}

func FuzzConfig(f *testing.F) {
	f.Add("127.0.0.1", "6379", "admin", "false", "")
	f.Add("", "0", "", "yes", "db")
	f.Add("h", "65536", "u", "true", "username_template")
	f.Fuzz(func(t *testing.T, host, port, user, tlsFlag, extra string) {
		raw := map[string]any{}
		if extra != "" {
			raw[extra] = "x"
		}
		raw["host"], raw["port"], raw["username"], raw["tls"] = host, port, user, tlsFlag
		s, err := parseSettings(raw)
		if err != nil {
			if !errors.Is(err, dbplugin.ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
			return
		}
		if s.host == "" || s.port < 1 || s.port > 65535 || (s.user != user && !(user == "" && s.user == "default")) {
			t.Fatalf("accepted %+v", s)
		}
		again, err := parseSettings(s.config())
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("normalised config does not round-trip: %+v %v", again, err)
		}
	})
}
