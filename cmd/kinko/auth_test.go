package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/kinko-dev/kinko/api"
)

// recordingServer answers every request with 204 and records the last
// request's method, path, wrap header and JSON body.
type recordingServer struct {
	mu      sync.Mutex
	method  string
	path    string
	wrapTTL string
	body    map[string]any
}

func (rs *recordingServer) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		rs.mu.Lock()
		rs.method, rs.path, rs.wrapTTL, rs.body = r.Method, r.URL.Path, r.Header.Get("X-Vault-Wrap-TTL"), body
		rs.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := newCLI(strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] })
	code := run(context.Background(), args, c)
	return code, out.String(), errOut.String()
}

// TestMountCommandFlags checks what the shared enable and tune commands
// send for each mount table, flag by flag.
func TestMountCommandFlags(t *testing.T) {
	var rs recordingServer
	env := map[string]string{"KINKO_ADDR": rs.start(t), "KINKO_TOKEN": "root", "HOME": t.TempDir()}
	tests := []struct {
		name     string
		args     []string
		wantPath string
		wantBody map[string]any
		wantCode int
	}{
		{"auth enable defaults", []string{"auth", "enable", "userpass"}, "/v1/sys/auth/userpass",
			map[string]any{"type": "userpass", "config": map[string]any{}}, 0},
		{"auth enable every flag", []string{"auth", "enable", "-path=/people/", "-description=staff",
			"-default-lease-ttl=1h", "-max-lease-ttl=7d", "-options=a=b", "-options", "c=d", "-local", "-seal-wrap", "userpass"},
			"/v1/sys/auth/people", map[string]any{"type": "userpass", "description": "staff",
				"config":  map[string]any{"default_lease_ttl": "3600s", "max_lease_ttl": "604800s"},
				"options": map[string]any{"a": "b", "c": "d"}, "local": true, "seal_wrap": true}, 0},
		{"auth enable has no -version", []string{"auth", "enable", "-version=2", "userpass"}, "", nil, exitLocal},
		{"auth enable has no -force-no-cache", []string{"auth", "enable", "-force-no-cache", "userpass"}, "", nil, exitLocal},
		{"auth enable kv-v2 is just a type name", []string{"auth", "enable", "kv-v2"}, "/v1/sys/auth/kv-v2",
			map[string]any{"type": "kv-v2", "config": map[string]any{}}, 0},
		{"auth enable bad option", []string{"auth", "enable", "-options=nokey", "userpass"}, "", nil, exitLocal},
		{"auth enable bad ttl", []string{"auth", "enable", "-max-lease-ttl=forever", "userpass"}, "", nil, exitLocal},
		{"auth enable needs a type", []string{"auth", "enable"}, "", nil, exitLocal},
		{"auth tune", []string{"auth", "tune", "-max-lease-ttl=2h", "-description=", "people"}, "/v1/sys/auth/people/tune",
			map[string]any{"max_lease_ttl": "7200s", "description": ""}, 0},
		{"auth tune options only", []string{"auth", "tune", "-options=x=y", "people/"}, "/v1/sys/auth/people/tune",
			map[string]any{"options": map[string]any{"x": "y"}}, 0},
		{"auth disable", []string{"auth", "disable", "people"}, "/v1/sys/auth/people", nil, 0},
		{"secrets enable kv-v2 shortcut", []string{"secrets", "enable", "kv-v2"}, "/v1/sys/mounts/kv-v2",
			map[string]any{"type": "kv", "config": map[string]any{}, "options": map[string]any{"version": "2"}}, 0},
		{"secrets enable -version", []string{"secrets", "enable", "-path=apps", "-version=1", "-force-no-cache", "kv"},
			"/v1/sys/mounts/apps", map[string]any{"type": "kv", "config": map[string]any{"force_no_cache": true},
				"options": map[string]any{"version": "1"}}, 0},
		{"secrets tune", []string{"secrets", "tune", "-version=2", "apps"}, "/v1/sys/mounts/apps/tune",
			map[string]any{"options": map[string]any{"version": "2"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs.path, rs.body = "", nil
			code, _, stderr := runCLI(t, env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			if rs.path != tt.wantPath || !reflect.DeepEqual(rs.body, tt.wantBody) {
				t.Errorf("sent %s %v, want %s %v", rs.path, rs.body, tt.wantPath, tt.wantBody)
			}
		})
	}
}

// TestWrapTTLFlag checks the header that -wrap-ttl and KINKO_WRAP_TTL put
// on requests, and that bad values fail before any request.
func TestWrapTTLFlag(t *testing.T) {
	var rs recordingServer
	addr := rs.start(t)
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		want     string
		wantCode int
	}{
		{"no wrapping", nil, nil, "", 0},
		{"flag", nil, []string{"-wrap-ttl=5m"}, "300s", 0},
		{"flag in seconds", nil, []string{"-wrap-ttl", "90"}, "90s", 0},
		{"flag in days", nil, []string{"-wrap-ttl=1d"}, "86400s", 0},
		{"KINKO_WRAP_TTL", map[string]string{"KINKO_WRAP_TTL": "2m"}, nil, "120s", 0},
		{"VAULT_WRAP_TTL", map[string]string{"VAULT_WRAP_TTL": "60"}, nil, "60s", 0},
		{"flag over environment", map[string]string{"KINKO_WRAP_TTL": "2m"}, []string{"-wrap-ttl=10m"}, "600s", 0},
		{"below a second", nil, []string{"-wrap-ttl=500ms"}, "", exitLocal},
		{"not a duration", nil, []string{"-wrap-ttl=soon"}, "", exitLocal},
		{"bad environment", map[string]string{"KINKO_WRAP_TTL": "soon"}, nil, "", exitLocal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"KINKO_ADDR": addr, "KINKO_TOKEN": "root", "HOME": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			rs.path, rs.wrapTTL = "", ""
			args := append(append([]string{}, tt.args...), "write", "secret/x", "a=b")
			code, _, stderr := runCLI(t, env, args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			if tt.wantCode != 0 && rs.path != "" {
				t.Errorf("a request was sent despite the error")
			}
			if rs.wrapTTL != tt.want {
				t.Errorf("X-Vault-Wrap-TTL = %q, want %q", rs.wrapTTL, tt.want)
			}
		})
	}
}

func TestLoginMethodRequests(t *testing.T) {
	tests := []struct {
		name, method string
		data         map[string]any
		stdin        string
		clientCert   bool
		wantPath     string
		wantBody     map[string]any
		wantErr      string
	}{
		{"userpass", "userpass", map[string]any{"username": "alice", "password": "pw\n"}, "", false,
			"login/alice", map[string]any{"password": "pw"}, ""},
		{"userpass keeps inner whitespace", "userpass", map[string]any{"username": " bob ", "password": " p w "}, "", false,
			"login/bob", map[string]any{"password": " p w "}, ""},
		{"userpass prompts", "userpass", map[string]any{"username": "alice"}, "typed\n", false,
			"login/alice", map[string]any{"password": "typed"}, ""},
		{"userpass extra parameters kept", "userpass", map[string]any{"username": "a", "password": "p", "passcode": "123456"}, "", false,
			"login/a", map[string]any{"password": "p", "passcode": "123456"}, ""},
		{"userpass without username", "userpass", map[string]any{"password": "p"}, "", false, "", nil, "Missing username="},
		{"userpass nothing to prompt from", "userpass", map[string]any{"username": "a"}, "", false, "", nil, "Error reading the password"},
		{"ldap like userpass", "ldap", map[string]any{"username": "a", "password": "p"}, "", false,
			"login/a", map[string]any{"password": "p"}, ""},
		{"approle", "approle", map[string]any{"role_id": "r\n", "secret_id": " s\n"}, "", false,
			"login", map[string]any{"role_id": "r", "secret_id": "s"}, ""},
		{"approle without secret_id", "approle", map[string]any{"role_id": "r"}, "", false,
			"login", map[string]any{"role_id": "r"}, ""},
		{"approle without role_id", "approle", map[string]any{"secret_id": "s"}, "", false, "", nil, "Missing role_id="},
		{"jwt", "jwt", map[string]any{"role": "ci", "jwt": "a.b.c\n"}, "", false,
			"login", map[string]any{"role": "ci", "jwt": "a.b.c"}, ""},
		{"jwt without jwt", "jwt", map[string]any{"role": "ci"}, "", false, "", nil, "Missing jwt="},
		{"jwt given as a list", "jwt", map[string]any{"jwt": []any{"a", "b"}}, "", false, "", nil, "Missing jwt="},
		{"oidc with a token", "oidc", map[string]any{"jwt": "a.b.c"}, "", false,
			"login", map[string]any{"jwt": "a.b.c"}, ""},
		{"oidc browser flow", "oidc", map[string]any{"role": "r"}, "", false, "", nil, "browser-based OIDC"},
		{"cert", "cert", map[string]any{"name": "web"}, "", true, "login", map[string]any{"name": "web"}, ""},
		{"cert without name", "cert", map[string]any{}, "", true, "login", map[string]any{}, ""},
		{"cert without certificate", "cert", map[string]any{}, "", false, "", nil, "needs a client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(strings.NewReader(tt.stdin), io.Discard, io.Discard, func(string) string { return "" })
			c.hasClientCert = tt.clientCert
			path, body, err := loginMethods[tt.method].request(c, tt.method, tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != tt.wantPath || !reflect.DeepEqual(body, tt.wantBody) {
				t.Errorf("got %s %v, want %s %v", path, body, tt.wantPath, tt.wantBody)
			}
		})
	}
}

// TestEveryLoginMethodHasHelp checks that "kinko auth help TYPE" has text
// for every method with its own login handling.
func TestEveryLoginMethodHasHelp(t *testing.T) {
	for name, m := range loginMethods {
		if !strings.HasPrefix(m.help, "Usage: ") || !strings.Contains(m.help, "$ kinko") {
			t.Errorf("%s: help lacks a usage line or an example", name)
		}
	}
}

func TestMountsTable(t *testing.T) {
	mounts := map[string]*api.MountOutput{
		"userpass/": {Type: "userpass", Accessor: "auth_userpass_1", Description: "people", UUID: "u-1",
			Config: api.MountConfigOutput{DefaultLeaseTTL: 3600}, Options: map[string]string{}},
		"token/": {Type: "token", Accessor: "auth_token_1", Local: true, UUID: "u-2"},
	}
	tests := []struct {
		name             string
		detailed, engine bool
		want             string
	}{
		{"plain", false, false, `Path         Type        Accessor           Description
----         ----        --------           -----------
token/       token       auth_token_1       n/a
userpass/    userpass    auth_userpass_1    people`},
		{"detailed auth", true, false, `Path         Plugin      Accessor           Default TTL    Max TTL    Replication    Seal Wrap    Options    Description    UUID
----         ------      --------           -----------    -------    -----------    ---------    -------    -----------    ----
token/       token       auth_token_1       system         system     local          false        map[]      n/a            u-2
userpass/    userpass    auth_userpass_1    1h             system     replicated     false        map[]      people         u-1`},
		{"detailed secrets", true, true, `Path         Plugin      Accessor           Default TTL    Max TTL    Force No Cache    Replication    Seal Wrap    Options    Description    UUID
----         ------      --------           -----------    -------    --------------    -----------    ---------    -------    -----------    ----
token/       token       auth_token_1       system         system     false             local          false        map[]      n/a            u-2
userpass/    userpass    auth_userpass_1    1h             system     false             replicated     false        map[]      people         u-1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mountsTable(mounts, tt.detailed, tt.engine); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
