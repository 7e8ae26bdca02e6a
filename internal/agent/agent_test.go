package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// env is a real kinko server with AppRole at auth/approle, a role "app"
// whose policy reads and writes secret/ and reads aws-sm/secrets/, and
// the role ID and a secret ID in files; start runs an agent against it
// in-process, on real loopback listeners.
type env struct {
	t        testing.TB
	srv      *testserver.Server
	admin    *vault.Client
	dir      string
	agentTok string
	roleID   string
	agent    *Agent
	proxy    string // http://127.0.0.1:port
	aws      string
	hc       *http.Client
}

const appPolicy = `
path "secret/data/*"     { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*" { capabilities = ["read", "list"] }
path "aws-sm/secrets/*"  { capabilities = ["read"] }
path "database/creds/*"  { capabilities = ["read"] }
`

func newEnv(t testing.TB, role map[string]any) *env {
	t.Helper()
	srv := testserver.Start(t)
	e := &env{t: t, srv: srv, admin: testserver.VaultClient(t, srv.Addr, srv.RootToken), dir: t.TempDir(),
		agentTok: "agent-ssrf-token-0123456789abcdef", hc: &http.Client{Timeout: 10 * time.Second}}
	if err := e.admin.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	if err := e.admin.Sys().PutPolicy("app", appPolicy); err != nil {
		t.Fatal(err)
	}
	opts := map[string]any{"token_policies": "app", "token_ttl": "1h", "token_max_ttl": "4h"}
	for k, v := range role {
		opts[k] = v
	}
	e.write("auth/approle/role/app", opts)
	e.roleID = e.read("auth/approle/role/app/role-id").Data["role_id"].(string)
	e.file("role-id", e.roleID)
	e.file("secret-id", e.write("auth/approle/role/app/secret-id", nil).Data["secret_id"].(string))
	e.file("agent-token", e.agentTok+"\n")
	return e
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

func (e *env) file(name, content string) {
	e.t.Helper()
	if err := os.WriteFile(e.path(name), []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) write(path string, data map[string]any) *vault.Secret {
	e.t.Helper()
	s, err := e.admin.Logical().Write(path, data)
	if err != nil {
		e.t.Fatalf("write %s: %v", path, err)
	}
	return s
}

func (e *env) read(path string) *vault.Secret {
	e.t.Helper()
	s, err := e.admin.Logical().Read(path)
	if err != nil || s == nil {
		e.t.Fatalf("read %s: %v %v", path, s, err)
	}
	return s
}

// config is the agent config for this env, with extra text appended.
func (e *env) config(extra string) string {
	return fmt.Sprintf(`
vault { address = %q }
auto_auth {
  method "approle" {
    config = {
      role_id_file_path   = %q
      secret_id_file_path = %q
    }
  }
  sink "file" { config = { path = %q } }
}
listener "tcp" {
  address     = "127.0.0.1:0"
  tls_disable = true
}
aws_secrets_manager { address = "127.0.0.1:0" }
agent_token { file = %q }
%s`, e.srv.Addr, e.path("role-id"), e.path("secret-id"), e.path("sink"), e.path("agent-token"), extra)
}

// start runs the agent with e.config(extra) and waits for its first login.
func (e *env) start(extra string) *Agent {
	e.t.Helper()
	cfg, err := ParseConfig(e.config(extra))
	if err != nil {
		e.t.Fatal(err)
	}
	return e.startConfig(cfg, func(string) string { return "" })
}

func (e *env) startConfig(cfg *Config, getenv func(string) string) *Agent {
	e.t.Helper()
	a, err := Start(context.Background(), cfg, Options{Logger: testLogger(e.t), Getenv: getenv, LoginBackoff: 20 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Close(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.Auth.WaitToken(ctx); err != nil {
		e.t.Fatalf("the agent did not log in: %v (stats %+v)", err, a.Auth.Stats())
	}
	e.agent = a
	if len(a.ProxyAddrs()) > 0 {
		e.proxy = "http://" + a.ProxyAddrs()[0]
	}
	if a.AWSAddr() != "" {
		e.aws = "http://" + a.AWSAddr()
	}
	return a
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type reply struct {
	status int
	header http.Header
	body   string
}

// do sends a request; hdr values "" delete the header.
func (e *env) do(method, url, body string, hdr map[string]string) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// viaProxy reads path through the proxy with the agent token.
func (e *env) viaProxy(method, path, body string) reply {
	e.t.Helper()
	return e.do(method, e.proxy+"/v1/"+path, body, map[string]string{"X-Kinko-Agent-Token": e.agentTok})
}

// policiesViaProxy returns the policies of lookup-self through the proxy
// with hdr, nil when refused.
func (e *env) policiesViaProxy(hdr map[string]string) []string {
	e.t.Helper()
	r := e.do("GET", e.proxy+"/v1/auth/token/lookup-self", "", hdr)
	var look struct {
		Data struct {
			Policies []string `json:"policies"`
		} `json:"data"`
	}
	if r.status != 200 {
		return nil
	}
	if err := json.Unmarshal([]byte(r.body), &look); err != nil {
		e.t.Fatalf("lookup-self: %s", r.body)
	}
	return look.Data.Policies
}

// kvValue returns data.data.v of a KV v2 read.
func kvValue(t testing.TB, r reply) string {
	t.Helper()
	var env struct {
		Data struct {
			Data map[string]string `json:"data"`
		} `json:"data"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &env) != nil {
		t.Fatalf("read: %d %s", r.status, r.body)
	}
	return env.Data.Data["v"]
}

func (e *env) putKV(path, v string) {
	e.t.Helper()
	if _, err := e.admin.KVv2("secret").Put(context.Background(), path, map[string]any{"v": v}); err != nil {
		e.t.Fatal(err)
	}
}

// waitFor polls cond every 10ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		<-tick.C
	}
	return time.Since(start)
}

func (e *env) lookupSelf(token string) *vault.Secret {
	e.t.Helper()
	c := testserver.VaultClient(e.t, e.srv.Addr, token)
	s, err := c.Auth().Token().LookupSelf()
	if err != nil {
		e.t.Fatalf("lookup-self with the sink token: %v", err)
	}
	return s
}

func (e *env) sinkToken() string {
	e.t.Helper()
	b, err := os.ReadFile(e.path("sink"))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// jwtIssuer signs JWTs with an ES256 key.
type jwtIssuer struct{ key *ecdsa.PrivateKey }

func newJWTIssuer(t testing.TB) *jwtIssuer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &jwtIssuer{key}
}

func (j *jwtIssuer) pubPEM(t testing.TB) string {
	der, err := x509.MarshalPKIXPublicKey(&j.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func (j *jwtIssuer) sign(t testing.TB, sub string) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: j.key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := josejwt.Signed(s).Claims(map[string]any{"sub": sub, "aud": "kinko", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
