package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// TestAgentProcess runs `kinko agent` as an operating-system process of its
// own, as it is deployed, against a real server: AppRole login, token sink,
// the caching proxy, the AWS Secrets Manager endpoint, a template that is
// re-rendered when the secret rotates, cached reads served while the
// server is down, and a clean exit on SIGTERM.
func TestAgentProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	srv := testserver.Start(t)
	admin := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	must := func(_ *vault.Secret, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := admin.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Sys().Mount("aws-sm", &vault.MountInput{Type: "aws-sm"}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Sys().PutPolicy("app", `path "secret/*" { capabilities = ["read"] }
path "aws-sm/secrets/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	must(admin.Logical().Write("auth/approle/role/app", map[string]any{"token_policies": "app", "token_ttl": "1h"}))
	must(admin.Logical().Write("auth/approle/role/app/role-id", map[string]any{"role_id": "process-role"}))
	sid, err := admin.Logical().Write("auth/approle/role/app/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	must(admin.Logical().Write("secret/data/app", map[string]any{"data": map[string]any{"password": "first"}}))
	must(admin.Logical().Write("aws-sm/secrets/prod/db", map[string]any{"Name": "prod/db", "SecretString": "s3cret-one"}))

	const agentTok = "process-agent-token-0123456789"
	cfg := write("agent.hcl", fmt.Sprintf(`
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
cache { refresh_interval = "1s" }
listener "tcp" {
  address     = "127.0.0.1:0"
  tls_disable = true
}
aws_secrets_manager { address = "127.0.0.1:0" }
agent_token { env = "KINKO_TEST_AGENT_TOKEN" }
template {
  contents    = "password={{ with secret \"secret/data/app\" }}{{ .Data.data.password }}{{ end }}\n"
  destination = %q
}
template_config { static_secret_render_interval = "1s" }
`, srv.Addr, write("role-id", "process-role"), write("secret-id", sid.Data["secret_id"].(string)),
		filepath.Join(dir, "sink"), filepath.Join(dir, "app.conf")))

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "agent", "-config="+cfg)
	cmd.Env = append(os.Environ(), "KINKO_TEST_MAIN=1", "KINKO_TEST_AGENT_TOKEN="+agentTok, "HOME="+dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	stopped := false
	proxyAddr, awsAddr, logs := agentAddrs(t, stderr, cmd.Process.Kill)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(url string, hdr ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("http://"+proxyAddr+"/v1/secret/data/app", "X-Kinko-Agent-Token", agentTok); st != 200 || !strings.Contains(body, `"first"`) {
		t.Fatalf("proxy read: %d %s", st, body)
	}
	if st, _ := get("http://" + proxyAddr + "/v1/secret/data/app"); st != 403 {
		t.Fatalf("proxy read without the agent token: %d", st)
	}
	st, body := get("http://"+awsAddr+"/secretsmanager/get?secretId=prod/db", "X-Aws-Parameters-Secrets-Token", agentTok)
	var out struct{ SecretString, Name string }
	if st != 200 || json.Unmarshal([]byte(body), &out) != nil || out.SecretString != "s3cret-one" || out.Name != "prod/db" {
		t.Fatalf("AWS endpoint: %d %s", st, body)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sink")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("sink: %v %v", fi, err)
	}
	waitFile(t, filepath.Join(dir, "app.conf"), "password=first\n")

	// rotation: the template and the proxy follow
	must(admin.Logical().Write("secret/data/app", map[string]any{"data": map[string]any{"password": "second"}}))
	waitFile(t, filepath.Join(dir, "app.conf"), "password=second\n")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get("http://"+proxyAddr+"/v1/secret/data/app", "X-Kinko-Agent-Token", agentTok)
		if strings.Contains(body, `"second"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy still serves the old secret: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// the server stops: the agent serves what it has cached
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Close(ctx)
	cancel()
	req, _ := http.NewRequest("GET", "http://"+proxyAddr+"/v1/secret/data/app", nil)
	req.Header.Set("X-Kinko-Agent-Token", agentTok)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT" || !strings.Contains(string(b), `"second"`) {
		t.Fatalf("with the server down: %d %s %s", resp.StatusCode, resp.Header.Get("X-Cache"), b)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("the agent exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop on SIGTERM")
	}
	for _, secret := range []string{"first", "second", "s3cret-one", sid.Data["secret_id"].(string), agentTok} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the agent's log shows a secret value")
		}
	}
}

// agentAddrs reads the agent's log until it says where it listens; the
// rest of the log is collected in the returned builder.
func agentAddrs(t *testing.T, stderr io.Reader, kill func() error) (proxy, aws string, logs *lockedBuilder) {
	t.Helper()
	started := regexp.MustCompile(`agent started.*proxy=\[([0-9.:]+)\].*aws_secrets_manager=([0-9.:]+)`)
	logs = &lockedBuilder{}
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := started.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m:
				default:
				}
			}
		}
	}()
	select {
	case m := <-found:
		return m[1], m[2], logs
	case <-time.After(20 * time.Second):
		t.Errorf("the agent did not start; log:\n%s", logs.String())
		_ = kill()
		t.FailNow()
	}
	return "", "", nil
}

// waitFile polls path until it holds want.
func waitFile(t *testing.T, path, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s holds %q, want %q", path, b, want)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// lockedBuilder is a strings.Builder safe for one writer and readers.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) WriteString(s string) {
	l.mu.Lock()
	l.b.WriteString(s)
	l.mu.Unlock()
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
