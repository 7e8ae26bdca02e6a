package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
	"github.com/kinko-dev/kinko/internal/testserver"
)

func TestAppRoleLoginSinkAndCachedReads(t *testing.T) {
	e := newEnv(t, nil)
	e.putKV("app", "one")
	e.start("")

	st, err := os.Stat(e.path("sink"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("sink: %v %v", st, err)
	}
	self := e.lookupSelf(e.sinkToken())
	pols, _ := self.TokenPolicies()
	if !slices.Contains(pols, "app") || !strings.HasPrefix(self.Data["path"].(string), "auth/approle/login") {
		t.Fatalf("the sink token is not the AppRole login's: %v %v", pols, self.Data["path"])
	}
	if _, err := os.Stat(e.path("secret-id")); !os.IsNotExist(err) {
		t.Fatalf("the secret ID file was not removed after reading: %v", err)
	}

	first := e.viaProxy("GET", "secret/data/app", "")
	second := e.viaProxy("GET", "secret/data/app", "")
	if kvValue(t, first) != "one" || kvValue(t, second) != "one" || first.header.Get("X-Cache") != "MISS" || second.header.Get("X-Cache") != "HIT" {
		t.Fatalf("reads: %+v / %+v", first.header, second.header)
	}
	if st := e.agent.Proxy.Stats(); st.Upstream != 1 || st.Hits != 1 {
		t.Fatalf("proxy stats %+v", st)
	}
	// a caller's own token is sent as is (use_auto_auth_token = true)
	if pols := e.policiesViaProxy(map[string]string{"X-Kinko-Agent-Token": e.agentTok, "X-Vault-Token": e.srv.RootToken}); !slices.Contains(pols, "root") {
		t.Fatalf("lookup-self with the caller's token: %v", pols)
	}
	// the agent token in X-Vault-Token lets the request in and is not sent on
	if pols := e.policiesViaProxy(map[string]string{"X-Vault-Token": e.agentTok}); !slices.Contains(pols, "app") {
		t.Fatalf("lookup-self with the agent token as X-Vault-Token: %v", pols)
	}
	// templates read with the agent's token
	src, err := e.agent.Source().Read(context.Background(), "secret/data/app", nil)
	if err != nil || src.Data["data"].(map[string]any)["v"] != "one" {
		t.Fatalf("Source: %v %v", src, err)
	}
	if _, err := e.agent.Source().Write(context.Background(), "secret/data/app", map[string]any{"data": map[string]any{"v": "one"}}); err != nil {
		t.Fatalf("Source write: %v", err)
	}
	// an unmodified Vault client with VAULT_TOKEN = the agent token works
	vc := testserver.VaultClient(t, e.proxy, e.agentTok)
	s, err := vc.KVv2("secret").Get(context.Background(), "app")
	if err != nil || s.Data["v"] != "one" {
		t.Fatalf("Vault client through the agent: %v %v", s, err)
	}
}

func TestWritesThroughTheProxyInvalidate(t *testing.T) {
	e := newEnv(t, nil)
	e.putKV("app", "one")
	e.start("")
	if v := kvValue(t, e.viaProxy("GET", "secret/data/app", "")); v != "one" {
		t.Fatal(v)
	}
	if r := e.viaProxy("PUT", "secret/data/app", `{"data":{"v":"two"}}`); r.status != 200 {
		t.Fatalf("write through the proxy: %d %s", r.status, r.body)
	}
	r := e.viaProxy("GET", "secret/data/app", "")
	if kvValue(t, r) != "two" || r.header.Get("X-Cache") != "MISS" {
		t.Fatalf("read after write: %s %s", r.header.Get("X-Cache"), r.body)
	}
	if r := e.viaProxy("DELETE", "secret/data/app", ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.viaProxy("GET", "secret/data/app", ""); r.status != 404 {
		t.Fatalf("read after delete: %d %s", r.status, r.body)
	}
}

func TestCachedReadsServedWhileServerIsDown(t *testing.T) {
	e := newEnv(t, nil)
	e.putKV("app", "one")
	e.start(`cache { ttl = "1h", refresh_interval = "50ms" }`)
	e.viaProxy("GET", "secret/data/app", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.srv.Close(ctx)
	refreshes := e.agent.Proxy.Stats().Refreshes
	// refreshes fail now; the entry must survive them
	waitFor(t, 5*time.Second, "a refresh attempt against the stopped server", func() bool {
		return e.agent.Proxy.Stats().Upstream >= 3
	})
	r := e.viaProxy("GET", "secret/data/app", "")
	if kvValue(t, r) != "one" || r.header.Get("X-Cache") != "HIT" {
		t.Fatalf("server down: %s %s", r.header.Get("X-Cache"), r.body)
	}
	if e.agent.Proxy.Stats().Refreshes != refreshes {
		t.Fatal("a failed refresh counted as done")
	}
	if r := e.viaProxy("GET", "secret/data/never-read", ""); r.status != 502 {
		t.Fatalf("uncached read with the server down: %d %s", r.status, r.body)
	}
}

func TestRotatedSecretServedWithinRefreshInterval(t *testing.T) {
	e := newEnv(t, nil)
	e.putKV("app", "one")
	const interval = 200 * time.Millisecond
	e.start(`cache { refresh_interval = "200ms" }`)
	if v := kvValue(t, e.viaProxy("GET", "secret/data/app", "")); v != "one" {
		t.Fatal(v)
	}
	e.putKV("app", "two") // straight to the server: the agent does not see it
	took := waitFor(t, 10*time.Second, "the rotated value through the agent", func() bool {
		return kvValue(t, e.viaProxy("GET", "secret/data/app", "")) == "two"
	})
	if took > interval+time.Second {
		t.Errorf("the rotated value took %s, more than the refresh interval %s allows", took, interval)
	}
	if r := e.viaProxy("GET", "secret/data/app", ""); r.header.Get("X-Cache") != "HIT" {
		t.Fatalf("the refreshed value must be served from the cache: %s", r.header.Get("X-Cache"))
	}
}

func TestTokenRenewedThenReplacedNearMaxTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]any{"token_ttl": "3s", "token_max_ttl": "6s"})
	e.start("")
	first := e.sinkToken()
	waitFor(t, 10*time.Second, "a token renewal", func() bool { return e.agent.Auth.Stats().Renewals >= 1 })
	if e.agent.Auth.Stats().Logins != 1 || e.sinkToken() != first {
		t.Fatalf("a renewal must keep the token: %+v", e.agent.Auth.Stats())
	}
	if ttl, _ := e.lookupSelf(first).TokenTTL(); ttl <= time.Second {
		t.Fatalf("after renewal the token has %s left", ttl)
	}
	waitFor(t, 15*time.Second, "a new login near the max TTL", func() bool { return e.agent.Auth.Stats().Logins >= 2 })
	waitFor(t, 5*time.Second, "the new token in the sink", func() bool { return e.sinkToken() != first })
	if e.agent.Auth.Stats().LoginFailures != 0 {
		t.Fatalf("stats %+v", e.agent.Auth.Stats())
	}
	// the secret ID file was removed at the first login: the agent kept it
	e.lookupSelf(e.sinkToken())
}

func TestRevokedTokenLeadsToNewLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]any{"token_ttl": "2s", "token_max_ttl": "1h"})
	e.start("")
	first := e.sinkToken()
	if err := e.admin.Auth().Token().RevokeTree(first); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a new login after the revocation", func() bool { return e.agent.Auth.Stats().Logins >= 2 })
	if st := e.agent.Auth.Stats(); st.RenewalFailures < 1 {
		t.Fatalf("stats %+v", st)
	}
	e.lookupSelf(e.sinkToken())
}

// TestTokenModes: which token the proxy sends under each
// use_auto_auth_token, and that a read cached for one caller's token is
// never served to another.
func TestTokenModes(t *testing.T) {
	e := newEnv(t, nil)
	e.putKV("app", "one")
	limited, err := e.admin.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode         string
		own, without string // policies seen with the root token, and without a token
	}{
		{"true", "root", "app"},
		{`"force"`, "app", "app"},
		{"false", "root", "none"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			e.t = t
			e.file("secret-id", e.write("auth/approle/role/app/secret-id", nil).Data["secret_id"].(string))
			e.start("cache { use_auto_auth_token = " + tc.mode + " }")
			defer e.agent.Close(context.Background())
			own := e.policiesViaProxy(map[string]string{"X-Kinko-Agent-Token": e.agentTok, "X-Vault-Token": e.srv.RootToken})
			without := e.policiesViaProxy(map[string]string{"X-Kinko-Agent-Token": e.agentTok})
			if !slices.Contains(own, tc.own) || (tc.without == "none" && without != nil) || (tc.without != "none" && !slices.Contains(without, tc.without)) {
				t.Fatalf("with the root token %v, without a token %v", own, without)
			}
			// a secret read with root's token is cached for root alone
			hdr := func(tok string) map[string]string {
				return map[string]string{"X-Kinko-Agent-Token": e.agentTok, "X-Vault-Token": tok}
			}
			if r := e.do("GET", e.proxy+"/v1/secret/data/app", "", hdr(e.srv.RootToken)); r.status != 200 {
				t.Fatalf("root read: %d %s", r.status, r.body)
			}
			r := e.do("GET", e.proxy+"/v1/secret/data/app", "", hdr(limited.Auth.ClientToken))
			if wantDenied := tc.mode != `"force"`; wantDenied != (r.status == 403) || strings.Contains(r.body, `"one"`) && wantDenied {
				t.Fatalf("read with a token without access: %d %s", r.status, r.body)
			}
		})
	}
}

// TestInvalidTokenLeadsToNewLoginAtOnce: a proxied request refused because
// the agent's token was revoked makes auto-auth log in again at once, not
// at the next renewal (the token here lives an hour).
func TestInvalidTokenLeadsToNewLoginAtOnce(t *testing.T) {
	tests := []struct {
		name string
		read func(e *env) (string, bool) // the value read, and whether it was refused
	}{
		{"proxy", func(e *env) (string, bool) {
			r := e.viaProxy("GET", "secret/data/app", "")
			if r.status != 200 {
				return "", r.status == 403
			}
			return kvValue(e.t, r), false
		}},
		{"template source", func(e *env) (string, bool) {
			s, err := e.agent.Source().Read(context.Background(), "secret/data/app", nil)
			if err != nil {
				return "", strings.Contains(err.Error(), "invalid token")
			}
			return s.Data["data"].(map[string]any)["v"].(string), false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, map[string]any{"token_ttl": "1h"})
			e.putKV("app", "one")
			e.start("")
			if err := e.admin.Auth().Token().RevokeTree(e.sinkToken()); err != nil {
				t.Fatal(err)
			}
			if _, refused := tc.read(e); !refused {
				t.Fatal("the read with the revoked token was not refused")
			}
			waitFor(t, 10*time.Second, "a new login after the refusal", func() bool { return e.agent.Auth.Stats().Logins >= 2 })
			if v, _ := tc.read(e); v != "one" {
				t.Fatalf("read after the new login: %q", v)
			}
		})
	}
}

func TestWrappedSecretID(t *testing.T) {
	e := newEnv(t, nil)
	wrapped := func(path string, data map[string]any) string {
		c, err := e.admin.Clone()
		if err != nil {
			t.Fatal(err)
		}
		c.SetToken(e.srv.RootToken)
		c.SetWrappingLookupFunc(func(string, string) string { return "5m" })
		s, err := c.Logical().Write(path, data)
		if err != nil || s.WrapInfo == nil {
			t.Fatalf("wrap %s: %v %v", path, s, err)
		}
		return s.WrapInfo.Token
	}
	cfg := func() *Config {
		c, err := ParseConfig(strings.Replace(e.config(""), `secret_id_file_path = `,
			`secret_id_response_wrapping_path = "auth/approle/role/app/secret-id"
      secret_id_file_path = `, 1))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	e.file("secret-id", wrapped("auth/approle/role/app/secret-id", nil))
	e.startConfig(cfg(), func(string) string { return "" })
	e.lookupSelf(e.sinkToken())
	if _, err := os.Stat(e.path("secret-id")); !os.IsNotExist(err) {
		t.Fatalf("the wrapping token file was kept: %v", err)
	}

	// a wrapping token made elsewhere is refused before it is spent
	// (sys/wrapping/wrap wraps anything: the classic substitution)
	e.file("secret-id", wrapped("sys/wrapping/wrap", map[string]any{"secret_id": "chosen-by-someone-else"}))
	os.Remove(e.path("sink2"))
	c := cfg()
	c.AutoAuth.Sinks[0].Path = e.path("sink2")
	c.Listeners, c.AWS = nil, nil
	quiet := testLogger(t)
	a, err := Start(context.Background(), c, Options{Logger: quiet, Getenv: func(string) string { return "" }, LoginBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	waitFor(t, 10*time.Second, "a refused login", func() bool { return a.Auth.Stats().LoginFailures >= 1 })
	if a.Auth.Token() != "" {
		t.Fatal("logged in with a wrapping token made elsewhere")
	}
}

func TestSSRFGuard(t *testing.T) {
	e := newEnv(t, nil)
	e.putKV("app", "one")
	e.start("")
	good := e.agentTok
	tests := []struct {
		name   string
		url    string
		hdr    map[string]string
		status int
	}{
		{"proxy: agent header", e.proxy + "/v1/secret/data/app", map[string]string{"X-Kinko-Agent-Token": good}, 200},
		{"proxy: vault header", e.proxy + "/v1/secret/data/app", map[string]string{"X-Vault-Token": good}, 200},
		{"proxy: no token", e.proxy + "/v1/secret/data/app", nil, 403},
		{"proxy: server token is not the agent token", e.proxy + "/v1/secret/data/app", map[string]string{"X-Vault-Token": e.srv.RootToken}, 403},
		{"proxy: wrong token", e.proxy + "/v1/secret/data/app", map[string]string{"X-Kinko-Agent-Token": good + "x"}, 403},
		{"proxy: forwarded", e.proxy + "/v1/secret/data/app", map[string]string{"X-Kinko-Agent-Token": good, "X-Forwarded-For": "203.0.113.9"}, 403},
		{"proxy: cache-clear needs the token", e.proxy + "/agent/v1/cache-clear", nil, 403},
		{"aws: ping needs no token", e.aws + "/ping", nil, 200},
		{"aws: no token", e.aws + "/v1/prod/db", nil, 403},
		{"aws: wrong token", e.aws + "/v1/prod/db", map[string]string{"X-Aws-Parameters-Secrets-Token": "nope"}, 403},
		{"aws: agent header is not the aws header", e.aws + "/v1/prod/db", map[string]string{"X-Kinko-Agent-Token": good}, 403},
		{"aws: forwarded", e.aws + "/v1/prod/db", map[string]string{"X-Aws-Parameters-Secrets-Token": good, "X-Forwarded-For": "203.0.113.9"}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do("GET", tc.url, "", tc.hdr); r.status != tc.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, tc.status)
			}
		})
	}
	r := e.do("GET", e.proxy+"/v1/secret/data/app", "", nil)
	var env struct{ Errors []string }
	if json.Unmarshal([]byte(r.body), &env) != nil || len(env.Errors) != 1 || strings.Contains(r.body, good) {
		t.Fatalf("refusal body %s", r.body)
	}
}

func TestAWSSecretsManagerEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.admin.Sys().Mount("aws-sm", &vault.MountInput{Type: "aws-sm"}); err != nil {
		t.Fatal(err)
	}
	e.write("aws-sm/secrets/prod/db", map[string]any{"Name": "prod/db", "SecretString": `{"password":"one"}`})
	e.write("aws-sm/secrets/prod/db", map[string]any{"SecretString": `{"password":"two"}`})
	e.write("aws-sm/secrets/bin", map[string]any{"Name": "bin", "SecretBinary": "AAEC"})
	e.start("")
	hdr := map[string]string{"X-Aws-Parameters-Secrets-Token": e.agentTok}
	get := func(target string) (reply, map[string]any) {
		r := e.do("GET", e.aws+target, "", hdr)
		var m map[string]any
		_ = json.Unmarshal([]byte(r.body), &m)
		return r, m
	}
	r, cur := get("/secretsmanager/get?secretId=prod/db")
	if r.status != 200 || cur["SecretString"] != `{"password":"two"}` || cur["Name"] != "prod/db" ||
		!strings.Contains(cur["ARN"].(string), ":secretsmanager:") || cur["VersionId"] == "" {
		t.Fatalf("current: %d %s", r.status, r.body)
	}
	if stages := cur["VersionStages"].([]any); len(stages) != 1 || stages[0] != "AWSCURRENT" {
		t.Fatalf("stages %v", stages)
	}
	if cd, _ := cur["CreatedDate"].(string); cd == "" || strings.ContainsAny(cd, "TZ-") {
		t.Fatalf("CreatedDate %v: want epoch seconds", cur["CreatedDate"])
	}
	_, prev := get("/v1/prod/db?versionStage=AWSPREVIOUS")
	if prev["SecretString"] != `{"password":"one"}` {
		t.Fatalf("previous %v", prev)
	}
	_, byID := get("/v1/prod/db?versionId=" + prev["VersionId"].(string))
	if byID["SecretString"] != `{"password":"one"}` {
		t.Fatalf("by version id %v", byID)
	}
	_, byARN := get("/secretsmanager/get?secretId=" + cur["ARN"].(string))
	if byARN["SecretString"] != `{"password":"two"}` {
		t.Fatalf("by ARN %v", byARN)
	}
	_, bin := get("/v1/bin")
	if bin["SecretBinary"] != "AAEC" || bin["SecretString"] != nil {
		t.Fatalf("binary %v", bin)
	}
	r, miss := get("/v1/nope")
	if r.status != 400 || miss["__type"] != "ResourceNotFoundException" {
		t.Fatalf("missing: %d %s", r.status, r.body)
	}
	r, _ = get("/v1/secret/data/app") // not below aws-sm/secrets/: the policy has no such secret
	if r.status != 400 {
		t.Fatalf("a name that is no AWS secret: %d %s", r.status, r.body)
	}
	if r := e.do("POST", e.aws+"/v1/prod/db", "", hdr); r.status != 405 {
		t.Fatalf("POST %d", r.status)
	}
	// cached: a new version is not seen until refreshNow (or the TTL)
	upstream := e.agent.AWS.Stats().Upstream
	e.write("aws-sm/secrets/prod/db", map[string]any{"SecretString": `{"password":"three"}`})
	if _, again := get("/secretsmanager/get?secretId=prod/db"); again["SecretString"] != `{"password":"two"}` || e.agent.AWS.Stats().Upstream != upstream {
		t.Fatalf("cache: %v %+v", again, e.agent.AWS.Stats())
	}
	if _, fresh := get("/secretsmanager/get?secretId=prod/db&refreshNow=true"); fresh["SecretString"] != `{"password":"three"}` {
		t.Fatalf("refreshNow: %v", fresh)
	}
}

func TestJWTAutoAuthReadsTheFileAtEachLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	j := newJWTIssuer(t)
	if err := e.admin.Sys().EnableAuthWithOptions("jwt", &vault.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	e.write("auth/jwt/config", map[string]any{"jwt_validation_pubkeys": []string{j.pubPEM(t)}})
	e.write("auth/jwt/role/web", map[string]any{"role_type": "jwt", "bound_audiences": "kinko", "user_claim": "sub",
		"token_policies": "app", "token_ttl": "2s", "token_max_ttl": "3s"})
	e.file("jwt", j.sign(t, "svc-a"))
	text := e.config("")
	start := strings.Index(text, `  method "approle"`)
	end := strings.Index(text, `  sink "file"`)
	text = text[:start] + `  method "jwt" {
    config = {
      path = "` + e.path("jwt") + `"
      role = "web"
      remove_jwt_after_reading = false
    }
  }
` + text[end:]
	cfg, err := ParseConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	e.startConfig(cfg, func(string) string { return "" })
	if name := e.lookupSelf(e.sinkToken()).Data["display_name"]; name != "jwt-svc-a" {
		t.Fatalf("first login as %v", name)
	}
	e.file("jwt", j.sign(t, "svc-b")) // the platform refreshes the file
	waitFor(t, 15*time.Second, "a login with the new JWT", func() bool {
		return e.lookupSelf(e.sinkToken()).Data["display_name"] == "jwt-svc-b"
	})
	if _, err := os.Stat(e.path("jwt")); err != nil {
		t.Fatalf("remove_jwt_after_reading = false removed the file: %v", err)
	}
}

func TestAddressFromEnvironmentAndExitAfterAuth(t *testing.T) {
	e := newEnv(t, nil)
	text := strings.Replace(e.config(""), `vault { address = "`+e.srv.Addr+`" }`, "", 1)
	cfg, err := ParseConfig(text + "\nexit_after_auth = true\n")
	if err != nil {
		t.Fatal(err)
	}
	a := e.startConfig(cfg, func(k string) string {
		if k == "KINKO_ADDR" {
			return e.srv.Addr
		}
		return ""
	})
	if len(a.ProxyAddrs()) != 0 || a.AWSAddr() != "" {
		t.Fatal("exit_after_auth must not serve")
	}
	e.lookupSelf(e.sinkToken())
}

func TestLeasedCredentialsCachedAndRenewed(t *testing.T) {
	t.Parallel()
	pgURL := dbtest.PostgresURL(t)
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	root := "kinko_agent_root_" + dbtest.Suffix()
	if _, err := pg.Exec(ctx, "CREATE ROLE "+root+" WITH SUPERUSER LOGIN PASSWORD 'agent-root-Pass1'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pg.Exec(context.Background(), "DROP ROLE IF EXISTS "+root)
		pg.Close(context.Background())
	})
	e := newEnv(t, nil)
	if err := e.admin.Sys().Mount("database", &vault.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	e.write("database/config/pg", map[string]any{"plugin_name": "postgresql-database-plugin",
		"connection_url": "postgres://{{username}}:{{password}}@" + dbtest.PostgresAddr + "/postgres?sslmode=disable",
		"username":       root, "password": "agent-root-Pass1", "allowed_roles": "*"})
	e.write("database/roles/app", map[string]any{"db_name": "pg", "default_ttl": "3s", "max_ttl": "1h",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`}})
	t.Cleanup(func() { _, _ = e.admin.Logical().Write("sys/leases/revoke-prefix/database/creds", nil) })
	e.start(`cache { refresh_interval = "100ms" }`)

	type creds struct {
		LeaseID       string `json:"lease_id"`
		LeaseDuration int    `json:"lease_duration"`
		Data          struct {
			Username string `json:"username"`
		} `json:"data"`
	}
	read := func() (creds, string) {
		r := e.viaProxy("GET", "database/creds/app", "")
		var c creds
		if r.status != 200 || json.Unmarshal([]byte(r.body), &c) != nil || c.Data.Username == "" {
			t.Fatalf("creds: %d %s", r.status, r.body)
		}
		return c, r.header.Get("X-Cache")
	}
	first, state := read()
	if state != "MISS" || first.LeaseID == "" {
		t.Fatalf("first read %s %+v", state, first)
	}
	if again, state := read(); state != "HIT" || again.Data.Username != first.Data.Username {
		t.Fatalf("second read %s %+v: a cached lease must give the same credentials", state, again)
	}
	waitFor(t, 10*time.Second, "a lease renewal", func() bool { return e.agent.Proxy.Stats().LeaseRenewals >= 1 })
	look, err := e.admin.Logical().Write("sys/leases/lookup", map[string]any{"lease_id": first.LeaseID})
	if err != nil {
		t.Fatal(err)
	}
	if ttl, _ := look.Data["ttl"].(json.Number).Int64(); ttl < 2 {
		t.Fatalf("the lease was not extended: ttl %d", ttl)
	}
	after, state := read()
	if state != "HIT" || after.Data.Username != first.Data.Username {
		t.Fatalf("after renewal %s %+v", state, after)
	}
	if e.agent.Proxy.Stats().Upstream < 2 { // one read, at least one renewal
		t.Fatalf("stats %+v", e.agent.Proxy.Stats())
	}
}

func TestTLSListener(t *testing.T) {
	e := newEnv(t, nil)
	e.putKV("app", "one")
	certPEM, keyPEM := selfSigned(t)
	e.file("agent.crt", string(certPEM))
	e.file("agent.key", string(keyPEM))
	text := strings.Replace(e.config(""), "tls_disable = true", `tls_cert_file = "`+e.path("agent.crt")+`"
  tls_key_file = "`+e.path("agent.key")+`"`, 1)
	cfg, err := ParseConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	a := e.startConfig(cfg, func(string) string { return "" })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	e.hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	e.proxy = "https://" + a.ProxyAddrs()[0]
	if v := kvValue(t, e.viaProxy("GET", "secret/data/app", "")); v != "one" {
		t.Fatalf("over TLS: %q", v)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and its key, in PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "agent"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// TestTemplateRenderedAndRerenderedOnRotation: a template block renders a
// file with the agent's token, atomically and 0600, runs its command, and
// renders it again when the secret changes.
func TestTemplateRenderedAndRerenderedOnRotation(t *testing.T) {
	e := newEnv(t, nil)
	e.putKV("app", "one")
	dest, marker := e.path("app.conf"), e.path("reloaded")
	e.start(fmt.Sprintf(`
template {
  contents    = "v = {{ with secret \"secret/data/app\" }}{{ .Data.data.v }}{{ end }}"
  destination = %q
  command     = ["/bin/sh", "-c", "echo reload >> %s"]
}
template_config { static_secret_render_interval = "100ms" }`, dest, marker))
	read := func() string { b, _ := os.ReadFile(dest); return string(b) }
	waitFor(t, 10*time.Second, "the first render", func() bool { return read() == "v = one" })
	if st, err := os.Stat(dest); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("rendered file mode: %v %v", st, err)
	}
	e.putKV("app", "two")
	waitFor(t, 10*time.Second, "the re-render after rotation", func() bool { return read() == "v = two" })
	waitFor(t, 10*time.Second, "the command after each change", func() bool {
		b, _ := os.ReadFile(marker)
		return strings.Count(string(b), "reload") == 2
	})
}
