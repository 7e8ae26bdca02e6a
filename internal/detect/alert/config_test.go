package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/detect"
	"github.com/kinko-dev/kinko/internal/logical"
)

// decodeJSON decodes an API-style body (numbers as json.Number).
func decodeJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

func TestParseConfigValid(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Config
	}{
		{"webhook defaults", `{"type":"webhook","url":"https://hooks.example.com/k","secret":"0123456789abcdef"}`,
			Config{Type: TypeWebhook, Webhook: WebhookConfig{URL: "https://hooks.example.com/k", Secret: "0123456789abcdef",
				MaxAttempts: 5, Timeout: 10 * time.Second}}},
		{"webhook everything", `{"type":"webhook","name":"ops-hook","min_severity":"high","url":"http://10.0.0.1:8080/x?a=b",
			"secret":"0123456789abcdef","max_attempts":"3","timeout":"2s"}`,
			Config{Name: "ops-hook", Type: TypeWebhook, MinSeverity: detect.SeverityHigh, Webhook: WebhookConfig{
				URL: "http://10.0.0.1:8080/x?a=b", Secret: "0123456789abcdef", MaxAttempts: 3, Timeout: 2 * time.Second}}},
		{"smtp defaults, comma list", `{"type":"smtp","host":"mail.example.com","from":"kinko@example.com",
			"to":"a@example.com, b@example.com"}`,
			Config{Type: TypeSMTP, SMTP: SMTPConfig{Host: "mail.example.com", Port: 25, From: "kinko@example.com",
				To: []string{"a@example.com", "b@example.com"}, HeloName: "localhost", Timeout: 30 * time.Second}}},
		{"smtp everything", `{"type":"smtp","host":"::1","port":587,"from":"Kinko <k@example.com>","to":["a@example.com"],
			"username":"u","password":"p","require_tls":true,"implicit_tls":"false","helo_name":"kinko.example.com","timeout":60}`,
			Config{Type: TypeSMTP, SMTP: SMTPConfig{Host: "::1", Port: 587, From: "Kinko <k@example.com>", To: []string{"a@example.com"},
				Username: "u", Password: "p", RequireTLS: true, HeloName: "kinko.example.com", Timeout: time.Minute}}},
		{"log", `{"type":"log","min_severity":"low"}`, Config{Type: TypeLog, MinSeverity: detect.SeverityLow}},
		{"null values are unset", `{"type":"log","name":null}`, Config{Type: TypeLog}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(decodeJSON(t, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseConfigInvalid(t *testing.T) {
	hook := `"type":"webhook","url":"https://h.example.com/","secret":"0123456789abcdef"`
	mail := `"type":"smtp","host":"mail.example.com","from":"k@example.com","to":"a@example.com"`
	tests := []struct{ body, want string }{
		{`{}`, `missing required field "type"`},
		{`{"type":"pager"}`, `unknown sink type "pager"`},
		{`{"type":7}`, `unknown sink type "7"`},
		{`{"type":"log","colour":"red"}`, `unknown field "colour"`},
		{`{"type":"log","url":"https://x.example.com"}`, `field "url" does not apply to sink type "log"`},
		{`{` + hook + `,"host":"m"}`, `field "host" does not apply to sink type "webhook"`},
		{`{"type":"log","name":"a b"}`, `invalid name`},
		{`{"type":"log","min_severity":"urgent"}`, `invalid min_severity: must be one of low, medium, high, critical`},
		{`{"type":"webhook","secret":"0123456789abcdef"}`, `missing required field "url"`},
		{`{"type":"webhook","url":"ftp://x.example.com/","secret":"0123456789abcdef"}`, `url must use http or https`},
		{`{"type":"webhook","url":"https:///path","secret":"0123456789abcdef"}`, `url must name a host`},
		{`{"type":"webhook","url":"https://u:p@x.example.com/","secret":"0123456789abcdef"}`, `url must not carry credentials`},
		{`{"type":"webhook","url":"https://x.example.com/"}`, `secret must be 16 to 1024 bytes`},
		{`{"type":"webhook","url":"https://x.example.com/","secret":"short"}`, `secret must be 16 to 1024 bytes`},
		{`{"type":"webhook","url":"https://x.example.com/","secret":{"a":1}}`, `invalid value for "secret"`},
		{`{` + hook + `,"max_attempts":0}`, `max_attempts must be positive`},
		{`{` + hook + `,"max_attempts":11}`, `max_attempts must be between 1 and 10`},
		{`{` + hook + `,"max_attempts":"many"}`, `invalid value for "max_attempts"`},
		{`{` + hook + `,"timeout":"0s"}`, `timeout must be positive`},
		{`{` + hook + `,"timeout":"1h"}`, `timeout must be positive and at most 5m0s`},
		{`{` + hook + `,"timeout":"soon"}`, `invalid value for "timeout"`},
		{`{"type":"smtp","from":"k@example.com","to":"a@example.com"}`, `missing required field "host"`},
		{`{` + strings.Replace(mail, "mail.example.com", "mail.example.com:25", 1) + `}`, `host must be a host name or IP address without a port`},
		{`{` + mail + `,"port":70000}`, `port must be between 1 and 65535`},
		{`{"type":"smtp","host":"m.example.com","to":"a@example.com"}`, `missing required field "from"`},
		{`{"type":"smtp","host":"m.example.com","from":"k@example.com\r\nBcc: x@y","to":"a@example.com"}`, `from address is malformed`},
		{`{"type":"smtp","host":"m.example.com","from":"not an address","to":"a@example.com"}`, `from address "not an address" does not parse`},
		{`{"type":"smtp","host":"m.example.com","from":"k@example.com"}`, `missing required field "to"`},
		{`{"type":"smtp","host":"m.example.com","from":"k@example.com","to":[]}`, `missing required field "to"`},
		{`{"type":"smtp","host":"m.example.com","from":"k@example.com","to":["a@example.com","bad"]}`, `to address "bad" does not parse`},
		{`{` + mail + `,"username":"u"}`, `username and password must be set together`},
		{`{` + mail + `,"password":"p"}`, `username and password must be set together`},
		{`{` + mail + `,"helo_name":"a b"}`, `helo_name must be a host name`},
		{`{` + mail + `,"require_tls":"maybe"}`, `invalid value for "require_tls"`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			_, err := ParseConfig(decodeJSON(t, tc.body))
			if !errors.Is(err, logical.ErrInvalidRequest) {
				t.Fatalf("ParseConfig(%s) = %v, want an invalid-request error", tc.body, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseConfigTooManyRecipients(t *testing.T) {
	to := make([]any, 51)
	for i := range to {
		to[i] = "a@example.com"
	}
	_, err := ParseConfig(map[string]any{"type": "smtp", "host": "m.example.com", "from": "k@example.com", "to": to})
	if err == nil || !strings.Contains(err.Error(), "more than 50 recipients") {
		t.Fatalf("err = %v", err)
	}
}

func TestErrorsNeverQuoteSecrets(t *testing.T) {
	for _, body := range []string{
		`{"type":"webhook","url":"https://x.example.com/","secret":"s3cr3t\r\n"}`,
		`{"type":"smtp","host":"m.example.com","from":"k@example.com","to":"a@example.com","username":"u\n","password":"s3cr3t"}`,
		`{"type":"smtp","host":"m.example.com","from":"k@example.com","to":"a@example.com","password":"s3cr3t"}`,
	} {
		_, err := ParseConfig(decodeJSON(t, body))
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("ParseConfig(%s) = %v", body, err)
		}
	}
}

func TestPublicOmitsSecrets(t *testing.T) {
	tests := []struct {
		body string
		want map[string]any
	}{
		{`{"type":"webhook","name":"h","url":"https://x.example.com/","secret":"0123456789abcdef"}`,
			map[string]any{"type": "webhook", "name": "h", "url": "https://x.example.com/", "max_attempts": 5, "timeout": "10s"}},
		{`{"type":"smtp","host":"m.example.com","from":"k@example.com","to":"a@example.com","username":"u","password":"pw","min_severity":"high"}`,
			map[string]any{"type": "smtp", "min_severity": "high", "host": "m.example.com", "port": 25, "from": "k@example.com",
				"to": []string{"a@example.com"}, "username": "u", "require_tls": false, "implicit_tls": false,
				"helo_name": "localhost", "timeout": "30s"}},
		{`{"type":"log"}`, map[string]any{"type": "log"}},
	}
	for _, tc := range tests {
		c, err := ParseConfig(decodeJSON(t, tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Public(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Public() = %#v\nwant       %#v", got, tc.want)
		}
	}
}

func TestNewBuildsEachType(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	tests := []struct {
		cfg      Config
		wantName string
		check    func(Sink) bool
		filtered bool
	}{
		{Config{Type: TypeLog}, "log", func(s Sink) bool { l, ok := s.(*Log); return ok && l.logger == logger }, false},
		{Config{Type: TypeLog, Name: "audit-log", MinSeverity: detect.SeverityLow}, "audit-log", func(s Sink) bool { _, ok := s.(*Log); return ok }, false},
		{Config{Type: TypeWebhook, Name: "h", Webhook: WebhookConfig{URL: "https://x.example.com", Secret: testSecret}}, "h",
			func(s Sink) bool { w, ok := s.(*Webhook); return ok && w.maxAttempts == DefaultMaxAttempts }, false},
		{Config{Type: TypeSMTP, MinSeverity: detect.SeverityHigh, SMTP: SMTPConfig{Host: "m.example.com", From: "k@example.com",
			To: []string{"a@example.com"}}}, "smtp", func(s Sink) bool { _, ok := s.(*filtered).Sink.(*SMTP); return ok }, true},
	}
	for _, tc := range tests {
		s, err := New(tc.cfg, WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		if s.Name() != tc.wantName || !tc.check(s) {
			t.Errorf("New(%+v) = %T %q", tc.cfg, s, s.Name())
		}
		if _, ok := s.(Filter); ok != tc.filtered {
			t.Errorf("New(%+v) filtered = %v", tc.cfg, ok)
		}
	}
	if _, err := New(Config{Type: "pager"}); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("New(pager) = %v", err)
	}
}

func TestFilterAccepts(t *testing.T) {
	f := &filtered{min: detect.SeverityHigh}
	for sev, want := range map[detect.Severity]bool{
		detect.SeverityLow: false, detect.SeverityMedium: false, detect.SeverityHigh: true,
		detect.SeverityCritical: true, "unknown": true,
	} {
		if got := f.Accepts(detect.Finding{Severity: sev}); got != want {
			t.Errorf("Accepts(%q) = %v, want %v", sev, got, want)
		}
	}
}

func TestFieldsCoverEveryKey(t *testing.T) {
	fields := Fields()
	for _, keys := range [][]string{commonKeys, webhookKeys, smtpKeys} {
		for _, k := range keys {
			if fields[k] == nil || fields[k].Description == "" {
				t.Errorf("Fields() lacks %q", k)
			}
		}
	}
}

// FuzzParseConfig checks that any API body either yields an
// invalid-request error or a config that builds a sink, reads back without
// secrets and parses back to itself once the secrets are added again.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{"type":"webhook","url":"https://hooks.example.com/k","secret":"0123456789abcdef","max_attempts":3,"timeout":"1.5s"}`,
		`{"type":"smtp","host":"mail.example.com","port":"587","from":"\"K\" <k@example.com>","to":"a@example.com,b@example.com",
			"username":"u","password":"p","require_tls":1,"helo_name":"[127.0.0.1]","timeout":90}`,
		`{"type":"log","name":"x.y-z","min_severity":"critical"}`,
		`{"type":"webhook","url":"http://[::1]:80/","secret":"0123456789abcdef0123"}`,
		`{"type":"smtp","host":"m","from":"=?utf-8?q?K=C3=A9?= <k@example.com>","to":["a@example.com"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw map[string]any
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if d.Decode(&raw) != nil {
			return
		}
		c, err := ParseConfig(raw)
		if err != nil {
			if !errors.Is(err, logical.ErrInvalidRequest) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		if _, err := New(c); err != nil {
			t.Fatalf("ParseConfig accepted what New refuses: %v", err)
		}
		pub := c.Public()
		if _, ok := pub["secret"]; ok {
			t.Fatal("Public returns the webhook secret")
		}
		if _, ok := pub["password"]; ok {
			t.Fatal("Public returns the SMTP password")
		}
		if c.Webhook.Secret != "" {
			pub["secret"] = c.Webhook.Secret
		}
		if c.SMTP.Password != "" {
			pub["password"] = c.SMTP.Password
		}
		back, err := ParseConfig(pub)
		if err != nil {
			t.Fatalf("Public() does not parse back: %v\n%#v", err, pub)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", c, back)
		}
	})
}
