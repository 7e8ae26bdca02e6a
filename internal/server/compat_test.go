package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// buildBinary compiles cmd/kinko once per test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "kinko-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kinko")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kinko").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// proc is a kinko server running as a child process.
type proc struct {
	cmd  *exec.Cmd
	addr string
}

// startProcess runs `kinko server -config` and waits for its listen address.
func startProcess(t *testing.T, configPath string) *proc {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "server", "-config", configPath, "-log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg   string   `json:"msg"`
				Addrs []string `json:"addresses"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "kinko server started" && len(line.Addrs) > 0 {
				addrc <- line.Addrs[0]
			}
		}
		close(addrc)
	}()
	select {
	case a, ok := <-addrc:
		if !ok {
			t.Fatal("server exited before listening")
		}
		p.addr = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start within 30s")
	}
	return p
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Kill() // SIGKILL: nothing acknowledged may be lost
	_ = p.cmd.Wait()
}

func newClient(t *testing.T, addr, token string) *vault.Client {
	t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

func statusOf(err error) int {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

func unsealAll(t *testing.T, c *vault.Client, keys []string) {
	t.Helper()
	for i, k := range keys {
		st, err := c.Sys().Unseal(k)
		if err != nil {
			t.Fatalf("unseal with key %d: %v", i+1, err)
		}
		if i < len(keys)-1 && (!st.Sealed || st.Progress != i+1) {
			t.Fatalf("after key %d: sealed=%v progress=%d", i+1, st.Sealed, st.Progress)
		}
		if i == len(keys)-1 && st.Sealed {
			t.Fatal("still sealed after threshold keys")
		}
	}
}

func writeConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`
storage "bolt" { path = %q }
listener "tcp" {
  address     = "127.0.0.1:0"
  tls_disable = true
}
`, filepath.Join(dir, "data", "kinko.db"))
	path := filepath.Join(dir, "kinko.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVaultClientLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kinko binary")
	}
	ctx := context.Background()
	cfgPath := writeConfig(t)
	p := startProcess(t, cfgPath)
	c := newClient(t, p.addr, "")

	init, err := c.Sys().Init(&vault.InitRequest{SecretShares: 5, SecretThreshold: 3})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	if len(init.Keys) != 5 || len(init.KeysB64) != 5 || init.RootToken == "" {
		t.Fatalf("init returned %d keys, %d base64 keys, root token %q", len(init.Keys), len(init.KeysB64), init.RootToken)
	}
	if _, err := c.Sys().Init(&vault.InitRequest{SecretShares: 1, SecretThreshold: 1}); statusOf(err) != 400 {
		t.Fatalf("second init: want 400, got %v", err)
	}
	if _, err := c.Logical().Read("sys/mounts"); statusOf(err) != 503 {
		t.Fatalf("read while sealed: want 503, got %v", err)
	}
	unsealAll(t, c, init.Keys[:3])
	c.SetToken(init.RootToken)

	if err := c.Sys().Mount("secret", &vault.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("mount kv v2: %v", err)
	}
	kv := c.KVv2("secret")
	if _, err := kv.Put(ctx, "app/db", map[string]any{"password": "hunter2-v1"}); err != nil {
		t.Fatalf("put v1: %v", err)
	}
	if _, err := kv.Put(ctx, "app/db", map[string]any{"password": "hunter2-v2"}, vault.WithCheckAndSet(1)); err != nil {
		t.Fatalf("put v2 with cas=1: %v", err)
	}
	if _, err := kv.Put(ctx, "app/db", map[string]any{"password": "lost"}, vault.WithCheckAndSet(1)); statusOf(err) != 400 {
		t.Fatalf("cas conflict: want 400, got %v", err)
	}
	testKVVersions(t, ctx, kv)
	testLimitedToken(t, ctx, c)

	// seal → 503 → unseal → data intact
	if err := c.Sys().Seal(); err != nil {
		t.Fatalf("seal: %v", err)
	}
	if _, err := kv.Get(ctx, "app/db"); statusOf(err) != 503 {
		t.Fatalf("read after seal: want 503, got %v", err)
	}
	unsealAll(t, c, init.KeysB64[2:5])
	assertSecret(t, ctx, kv, "app/db", "hunter2-v2")

	// crash (SIGKILL) and restart → still initialised, sealed, data intact
	p.kill(t)
	p = startProcess(t, cfgPath)
	c2 := newClient(t, p.addr, init.RootToken)
	st, err := c2.Sys().SealStatus()
	if err != nil || !st.Initialized || !st.Sealed || st.T != 3 || st.N != 5 {
		t.Fatalf("after restart: %+v, %v", st, err)
	}
	unsealAll(t, c2, []string{init.Keys[4], init.Keys[0], init.Keys[3]})
	assertSecret(t, ctx, c2.KVv2("secret"), "app/db", "hunter2-v2")
}

func assertSecret(t *testing.T, ctx context.Context, kv *vault.KVv2, path, want string) {
	t.Helper()
	s, err := kv.Get(ctx, path)
	if err != nil {
		t.Fatalf("get %s: %v", path, err)
	}
	if got := s.Data["password"]; got != want {
		t.Fatalf("get %s: password = %v, want %q", path, got, want)
	}
}

func testKVVersions(t *testing.T, ctx context.Context, kv *vault.KVv2) {
	t.Helper()
	assertSecret(t, ctx, kv, "app/db", "hunter2-v2")
	v1, err := kv.GetVersion(ctx, "app/db", 1)
	if err != nil || v1.Data["password"] != "hunter2-v1" || v1.VersionMetadata.Version != 1 {
		t.Fatalf("get version 1: %+v, %v", v1, err)
	}
	versions, err := kv.GetVersionsAsList(ctx, "app/db")
	if err != nil || len(versions) != 2 {
		t.Fatalf("versions: %+v, %v", versions, err)
	}
	if err := kv.Delete(ctx, "app/db"); err != nil {
		t.Fatalf("delete latest: %v", err)
	}
	// Vault answers a deleted version with 404 and its metadata: the
	// client returns the secret with nil Data and a deletion time.
	if s, err := kv.Get(ctx, "app/db"); err != nil || s.Data != nil || s.VersionMetadata.DeletionTime.IsZero() {
		t.Fatalf("get after delete: %+v, %v", s, err)
	}
	if err := kv.Undelete(ctx, "app/db", []int{2}); err != nil {
		t.Fatalf("undelete: %v", err)
	}
	assertSecret(t, ctx, kv, "app/db", "hunter2-v2")
	if err := kv.Destroy(ctx, "app/db", []int{1}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if s, err := kv.GetVersion(ctx, "app/db", 1); err != nil || s.Data != nil || !s.VersionMetadata.Destroyed {
		t.Fatalf("get destroyed version: %+v, %v", s, err)
	}
	meta, err := kv.GetMetadata(ctx, "app/db")
	if err != nil || meta.CurrentVersion != 2 || !meta.Versions["1"].Destroyed {
		t.Fatalf("metadata: %+v, %v", meta, err)
	}
}

func testLimitedToken(t *testing.T, ctx context.Context, root *vault.Client) {
	t.Helper()
	policy := `
path "secret/data/app/*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/app/*" { capabilities = ["list", "read"] }
path "secret/data/app/admin" { capabilities = ["deny"] }
`
	if err := root.Sys().PutPolicy("app-reader", policy); err != nil {
		t.Fatalf("put policy: %v", err)
	}
	if got, err := root.Sys().GetPolicy("app-reader"); err != nil || !strings.Contains(got, "secret/data/app/*") {
		t.Fatalf("get policy: %q, %v", got, err)
	}
	if err := root.Sys().PutPolicy("broken", `path "x" { capabilities = ["fly"] }`); statusOf(err) != 400 {
		t.Fatalf("invalid policy: want 400, got %v", err)
	}
	sec, err := root.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"app-reader"}, TTL: "1h"})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	limited, err := root.Clone()
	if err != nil {
		t.Fatal(err)
	}
	limited.SetToken(sec.Auth.ClientToken)
	kv := limited.KVv2("secret")
	assertSecret(t, ctx, kv, "app/db", "hunter2-v2")
	if _, err := kv.Put(ctx, "app/new", map[string]any{"password": "ok"}); err != nil {
		t.Fatalf("limited create: %v", err)
	}
	denied := []struct {
		name string
		call func() error
	}{
		{"read outside policy", func() error { _, err := limited.Logical().Read("secret/data/other"); return err }},
		{"explicit deny", func() error { _, err := kv.Put(ctx, "app/admin", map[string]any{"a": "b"}); return err }},
		{"delete not granted", func() error { return kv.Delete(ctx, "app/db") }},
		{"sys not granted", func() error { _, err := limited.Logical().Read("sys/mounts"); return err }},
	}
	for _, d := range denied {
		if err := d.call(); statusOf(err) != http.StatusForbidden {
			t.Errorf("%s: want 403, got %v", d.name, err)
		}
	}
	bogus, _ := root.Clone()
	bogus.SetToken("hvs.not-a-real-token")
	if _, err := bogus.Logical().Read("secret/data/app/db"); statusOf(err) != http.StatusForbidden {
		t.Errorf("bogus token: want 403, got %v", err)
	}
}
