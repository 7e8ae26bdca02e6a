package agent

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/agent/autoauth"
	"github.com/kinko-dev/kinko/internal/agent/proxy"
)

const fullConfig = `
vault {
  address         = "https://kinko.example:8200"
  tls_skip_verify = false
  ca_cert         = "/etc/kinko/ca.pem"
}
auto_auth {
  method "approle" {
    mount_path = "auth/apps"
    config = {
      role_id_file_path                   = "/etc/kinko/role-id"
      secret_id_file_path                 = "/etc/kinko/secret-id"
      remove_secret_id_file_after_reading = false
      secret_id_response_wrapping_path    = "auth/apps/role/web/secret-id"
    }
  }
  sink "file" { config = { path = "/run/kinko/token", mode = 0640 } }
  sink "file" { config = { path = "/run/kinko/token2" } }
}
cache {
  ttl                 = "10m"
  refresh_interval    = "15s"
  max_entries         = 50
  use_auto_auth_token = "force"
}
listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
listener "tcp" {
  address       = "127.0.0.1:8101"
  tls_cert_file = "/etc/kinko/agent.crt"
  tls_key_file  = "/etc/kinko/agent.key"
}
aws_secrets_manager {
  port        = 2774
  ttl_seconds = 0
  cache_size  = 10
  max_conn    = 5
  mount       = "/secrets-aws/"
  ignore_transient_errors = false
}
agent_token { file = "/etc/kinko/agent-token" }
allow_forwarded = true
log_level = "debug"
`

func TestParseConfigFull(t *testing.T) {
	c, err := ParseConfig(fullConfig)
	if err != nil {
		t.Fatal(err)
	}
	if c.Vault != (VaultConfig{Address: "https://kinko.example:8200", CACert: "/etc/kinko/ca.pem"}) {
		t.Errorf("vault %+v", c.Vault)
	}
	a := c.AutoAuth.Method.AppRole
	if c.AutoAuth.Method.Type != "approle" || a == nil || a.MountPath != "auth/apps" || a.RoleIDFile != "/etc/kinko/role-id" ||
		a.SecretIDFile != "/etc/kinko/secret-id" || a.RemoveSecretIDFile || a.WrappingPath != "auth/apps/role/web/secret-id" {
		t.Errorf("method %+v %+v", c.AutoAuth.Method, a)
	}
	if len(c.AutoAuth.Sinks) != 2 || c.AutoAuth.Sinks[0] != (autoauth.FileSink{Path: "/run/kinko/token", Mode: 0o640}) ||
		c.AutoAuth.Sinks[1].Mode != 0o600 {
		t.Errorf("sinks %+v", c.AutoAuth.Sinks)
	}
	if c.Cache != (CacheConfig{TTL: 10 * time.Minute, RefreshInterval: 15 * time.Second, MaxEntries: 50, TokenMode: proxy.TokenForce}) {
		t.Errorf("cache %+v", c.Cache)
	}
	if len(c.Listeners) != 2 || !c.Listeners[0].TLSDisable || c.Listeners[1].TLSCertFile != "/etc/kinko/agent.crt" {
		t.Errorf("listeners %+v", c.Listeners)
	}
	if *c.AWS != (AWSConfig{Address: "127.0.0.1:2774", TTL: 0, CacheSize: 10, MaxConn: 5, Mount: "secrets-aws"}) {
		t.Errorf("aws %+v", *c.AWS)
	}
	if c.AgentToken.File != "/etc/kinko/agent-token" || !c.AllowForwarded || c.LogLevel != "debug" {
		t.Errorf("top %+v", c)
	}
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig(`
kinko { address = "http://127.0.0.1:8200" }
auto_auth { method { type = "jwt" config { path = "/var/run/token" role = "web" } } }
listener "tcp" { tls_disable = true }
aws_secrets_manager {}
agent_token { env = "KINKO_AGENT_TOKEN" }`)
	if err != nil {
		t.Fatal(err)
	}
	j := c.AutoAuth.Method.JWT
	if j == nil || j.Path != "/var/run/token" || j.Role != "web" || !j.RemoveAfterReading || j.MountPath != "" {
		t.Errorf("jwt %+v", j)
	}
	if c.Vault.Address != "http://127.0.0.1:8200" || c.Listeners[0].Address != "127.0.0.1:8100" {
		t.Errorf("%+v", c)
	}
	if c.Cache != (CacheConfig{TTL: 5 * time.Minute, RefreshInterval: 30 * time.Second, MaxEntries: 10000}) {
		t.Errorf("cache %+v", c.Cache)
	}
	if *c.AWS != (AWSConfig{Address: "127.0.0.1:2773", TTL: 300 * time.Second, CacheSize: 1000, MaxConn: 800, Mount: "aws-sm", IgnoreTransientErrors: true}) {
		t.Errorf("aws %+v", *c.AWS)
	}
	if c.AgentToken.Env != "KINKO_AGENT_TOKEN" {
		t.Errorf("agent token %+v", c.AgentToken)
	}
}

func TestParseUseAutoAuthToken(t *testing.T) {
	aa := `agent_token { env = "T" }
auto_auth { method "approle" { config = { role_id_file_path = "/r" } } }
listener "tcp" { tls_disable = true }
`
	tests := []struct {
		cache string
		want  proxy.TokenMode
	}{
		{"", proxy.TokenAuto},
		{`cache { use_auto_auth_token = true }`, proxy.TokenAuto},
		{`cache { use_auto_auth_token = "true" }`, proxy.TokenAuto},
		{`cache { use_auto_auth_token = "force" }`, proxy.TokenForce},
		{`cache { use_auto_auth_token = false }`, proxy.TokenCaller},
	}
	for _, tc := range tests {
		c, err := ParseConfig(aa + tc.cache)
		if err != nil {
			t.Fatalf("%s: %v", tc.cache, err)
		}
		if c.Cache.TokenMode != tc.want {
			t.Errorf("%q: mode %d, want %d", tc.cache, c.Cache.TokenMode, tc.want)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	const aa = `auto_auth { method "approle" { config = { role_id_file_path = "/r" } } sink "file" { config = { path = "/t" } } }` + "\n"
	const tok = `agent_token { file = "/t" }` + "\n"
	tests := []struct {
		name, text, want string
	}{
		{"syntax", `vault {`, "config:"},
		{"unknown top key", aa + `templates = 1`, `unknown key "templates"`},
		{"unknown vault key", aa + `vault { adress = "x" }`, `unknown key "adress"`},
		{"no auto_auth", `listener "tcp" { tls_disable = true }` + "\n" + tok, "auto_auth block is required"},
		{"two methods", `auto_auth { method "approle" {} method "jwt" {} }`, "exactly one method"},
		{"unknown method", `auto_auth { method "kubernetes" { config = {} } }`, `method "kubernetes" is not supported`},
		{"approle without role id", `auto_auth { method "approle" { config = {} } sink "file" { config = { path = "/t" } } }`, "role_id_file_path is required"},
		{"cert without certificate", `auto_auth { method "cert" { config = { name = "web" } } sink "file" { config = { path = "/t" } } }`, "set client_cert and client_key"},
		{"cert without key", `auto_auth { method "cert" { config = { client_cert = "/c" } } }`, "client_cert and client_key go together"},
		{"vault cert without key", aa + `vault { client_cert = "/c" }`, "client_cert and client_key go together"},
		{"wrapping without file", `auto_auth { method "approle" { config = { role_id_file_path = "/r", secret_id_response_wrapping_path = "x" } } }`, "needs secret_id_file_path"},
		{"unknown method config key", `auto_auth { method "approle" { config = { role_id_file_path = "/r", secret_id_path = "/s" } } }`, "unknown config keys secret_id_path"},
		{"wrong type", `auto_auth { method "approle" { config = { role_id_file_path = 3 } } }`, "role_id_file_path must be a string"},
		{"jwt without role", `auto_auth { method "jwt" { config = { path = "/j" } } }`, "path and role are required"},
		{"sink type", `auto_auth { method "approle" { config = { role_id_file_path = "/r" } } sink "unix" { config = {} } }`, `sink "unix" is not supported`},
		{"sink without path", `auto_auth { method "approle" { config = { role_id_file_path = "/r" } } sink "file" { config = { mode = 0600 } } }`, "path is required"},
		{"world-readable sink", `auto_auth { method "approle" { config = { role_id_file_path = "/r" } } sink "file" { config = { path = "/t", mode = 0644 } } }`, "every local user"},
		{"decimal mode", `auto_auth { method "approle" { config = { role_id_file_path = "/r" } } sink "file" { config = { path = "/t", mode = 600 } } }`, "is not a file mode"},
		{"sink dh", `auto_auth { method "approle" { config = { role_id_file_path = "/r" } } sink "file" { config = { path = "/t" } dh_type = "curve25519" } }`, `unknown key "dh_type"`},
		{"nothing to do", `auto_auth { method "approle" { config = { role_id_file_path = "/r" } } }`, "nothing to do"},
		{"listener without token", aa + `listener "tcp" { tls_disable = true }`, "agent_token"},
		{"listener tls", aa + tok + `listener "tcp" { address = "127.0.0.1:1" }`, "tls_cert_file"},
		{"listener type", aa + tok + `listener "unix" { address = "/s" }`, `listener "unix" is not supported`},
		{"listener address", aa + tok + `listener "tcp" { address = "nope" tls_disable = true }`, "listener address"},
		{"cache ttl", aa + `cache { ttl = "soon" }`, "cache ttl"},
		{"cache negative", aa + `cache { refresh_interval = "-1s" }`, "refresh_interval"},
		{"cache size", aa + `cache { max_entries = 0 }`, "max_entries"},
		{"use_auto_auth_token other", aa + `cache { use_auto_auth_token = "sometimes" }`, `must be true, false or "force"`},
		{"aws ttl", aa + tok + `aws_secrets_manager { ttl_seconds = 3601 }`, "ttl_seconds"},
		{"aws port", aa + tok + `aws_secrets_manager { port = 70000 }`, "out of range"},
		{"aws cache size", aa + tok + `aws_secrets_manager { cache_size = 0 }`, "cache_size"},
		{"aws unknown", aa + tok + `aws_secrets_manager { http_port = 1 }`, `unknown key "http_port"`},
		{"agent token both", aa + `agent_token { file = "/a", env = "B" }`, "exactly one of file and env"},
		{"two vault blocks", aa + `vault {} kinko {}`, "only one vault"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseConfigJSON(t *testing.T) {
	c, err := ParseConfig(`{"auto_auth": {"method": {"approle": {"config": {"role_id_file_path": "/r"}}},
		"sink": {"file": {"config": {"path": "/t", "mode": 384}}}}, "exit_after_auth": true}`)
	if err != nil {
		t.Fatal(err)
	}
	if !c.ExitAfterAuth || c.AutoAuth.Method.AppRole.RoleIDFile != "/r" || c.AutoAuth.Sinks[0].Mode != 0o600 {
		t.Fatalf("%+v", c)
	}
}

func TestReadAgentToken(t *testing.T) {
	dir := t.TempDir()
	good := dir + "/good"
	short := dir + "/short"
	if err := os.WriteFile(good, []byte("  0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(short, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TOK": "fedcba9876543210", "TOKFILE": "file://" + good, "SHORT": "x"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		c    AgentTokenConfig
		want string
		err  string
	}{
		{AgentTokenConfig{File: good}, "0123456789abcdef0123", ""},
		{AgentTokenConfig{Env: "TOK"}, "fedcba9876543210", ""},
		{AgentTokenConfig{Env: "TOKFILE"}, "0123456789abcdef0123", ""},
		{AgentTokenConfig{File: short}, "", "at least 16"},
		{AgentTokenConfig{Env: "SHORT"}, "", "at least 16"},
		{AgentTokenConfig{Env: "UNSET"}, "", "at least 16"},
		{AgentTokenConfig{File: dir + "/missing"}, "", "no such file"},
	}
	for _, tc := range tests {
		got, err := readAgentToken(tc.c, getenv)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: %q, %v", tc.c, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "fedcba") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add(fullConfig)
	f.Add(`auto_auth { method "jwt" { config = { path = "/j", role = "r" } } sink "file" { config = { path = "/t" } } }`)
	f.Add(`{"auto_auth": {"method": {"approle": {"config": {"role_id_file_path": "/r"}}}}, "exit_after_auth": true}`)
	f.Add(`cache { ttl = 5 } listener "tcp" { address = ":0" }`)
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseConfig(text)
		if err != nil {
			if c != nil {
				t.Fatal("a config and an error")
			}
			return
		}
		// what parses is usable: one method, sane numbers, safe sink modes
		m := c.AutoAuth.Method
		if (m.AppRole == nil) == (m.JWT == nil) {
			t.Fatalf("method %+v", m)
		}
		if c.Cache.TTL <= 0 || c.Cache.RefreshInterval <= 0 || c.Cache.MaxEntries < 1 {
			t.Fatalf("cache %+v", c.Cache)
		}
		for _, s := range c.AutoAuth.Sinks {
			if s.Path == "" || s.Mode == 0 || s.Mode&0o007 != 0 || s.Mode > 0o777 {
				t.Fatalf("sink %+v", s)
			}
		}
		if (len(c.Listeners) > 0 || c.AWS != nil) && c.AgentToken.File == "" && c.AgentToken.Env == "" {
			t.Fatal("listeners without an agent token")
		}
		if c.AWS != nil && (c.AWS.TTL < 0 || c.AWS.CacheSize < 1 || c.AWS.MaxConn < 1 || c.AWS.Mount == "") {
			t.Fatalf("aws %+v", c.AWS)
		}
	})
}

func TestTemplateConfig(t *testing.T) {
	base := `auto_auth {
  method "approle" { config = { role_id_file_path = "/r" } }
}
`
	c, err := ParseConfig(base + `template {
  source      = "/etc/app.tmpl"
  destination = "/run/app.conf"
  perms       = "0640"
  command     = ["systemctl", "reload", "app"]
}
template_config { static_secret_render_interval = "2m" }`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Templates) != 1 || c.Templates[0].Perms != 0o640 || c.Templates[0].Destination != "/run/app.conf" ||
		len(c.Templates[0].Command) != 3 || c.TemplateInterval != 2*time.Minute {
		t.Fatalf("parsed %+v interval %s", c.Templates, c.TemplateInterval)
	}
	for _, tc := range []struct{ text, want string }{
		{`template { destination = "/x" }`, "exactly one of source and contents"},
		{`template { contents = "x" }`, "needs a destination"},
		{`template { contents = "x" destination = "/x" perms = "999" }`, "octal mode"},
		{`template { contents = "x" destination = "/x" nope = 1 }`, "nope"},
		{`template { contents = "x" destination = "/x" }
template_config { static_secret_render_interval = "-1s" }`, "positive duration"},
	} {
		if _, err := ParseConfig(base + tc.text); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestExecConfig(t *testing.T) {
	base := `auto_auth {
  method "approle" { config = { role_id_file_path = "/r" } }
}
`
	c, err := ParseConfig(base + `env_template "DB_PASSWORD" { contents = "{{ env \"X\" }}" }
exec {
  command                   = ["./app", "--port", "8080"]
  restart_on_secret_changes = "never"
  restart_stop_signal       = "SIGINT"
}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.EnvTemplates) != 1 || c.EnvTemplates[0].Name != "DB_PASSWORD" || c.Exec == nil || len(c.Exec.Command) != 3 ||
		c.Exec.RestartOnSecretChanges != "never" || c.Exec.RestartStopSignal != "SIGINT" {
		t.Fatalf("parsed %+v %+v", c.EnvTemplates, c.Exec)
	}
	if c, err := ParseConfig(base + `env_template "A" { contents = "x" }`); err != nil || c.Exec == nil || c.Exec.RestartOnSecretChanges != "always" {
		t.Fatalf("env_template alone: %v %+v", err, c)
	}
	for _, tc := range []struct{ text, want string }{
		{`env_template "A" { }`, "needs contents"},
		{`env_template "A" { contents = "x" }
env_template "A" { contents = "y" }`, "once"},
		{`exec { }`, "needs a command"},
		{`exec { command = ["x"] restart_on_secret_changes = "sometimes" }`, `"always" or "never"`},
		{`exec { command = ["x"] bogus = 1 }`, "bogus"},
	} {
		if _, err := ParseConfig(base + tc.text); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.text, err, tc.want)
		}
	}
}
