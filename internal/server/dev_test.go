package server_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// TestDevModeBinary runs `kinko server -dev` as a user would and checks the
// banner, the stored token and a KV v2 write through the official client.
func TestDevModeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kinko binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(bin, "server", "-dev", "-dev-root-token-id=dev-root", "-dev-listen-address=127.0.0.1:0")
	cmd.Env = append(os.Environ(), "HOME="+home)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addrRe := regexp.MustCompile(`export KINKO_ADDR='(http://[^']+)'`)
	found := make(chan [2]string, 1)
	go func() {
		var addr string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
				addr = m[1]
			}
			if m := regexp.MustCompile(`^Root Token: (\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				found <- [2]string{addr, m[1]}
				return
			}
		}
		close(found)
	}()
	var got [2]string
	select {
	case v, ok := <-found:
		if !ok {
			t.Fatal("dev server exited without printing its banner")
		}
		got = v
	case <-time.After(30 * time.Second):
		t.Fatal("no banner within 30s")
	}
	if got[1] != "dev-root" {
		t.Fatalf("root token %q, want dev-root", got[1])
	}
	stored, err := os.ReadFile(filepath.Join(home, ".kinko-token"))
	if err != nil || string(stored) != "dev-root" {
		t.Fatalf("token file: %q, %v", stored, err)
	}
	if fi, _ := os.Stat(filepath.Join(home, ".kinko-token")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", fi.Mode().Perm())
	}
	c := newClient(t, got[0], "dev-root")
	ctx := context.Background()
	if _, err := c.KVv2("secret").Put(ctx, "hello", map[string]any{"who": "world"}); err != nil {
		t.Fatalf("kv put on dev server: %v", err)
	}
	assertField(t, ctx, c, "secret/data/hello", "who", "world")
}

func assertField(t *testing.T, ctx context.Context, c *vault.Client, path, field, want string) {
	t.Helper()
	s, err := c.Logical().ReadWithContext(ctx, path)
	if err != nil || s == nil {
		t.Fatalf("read %s: %v", path, err)
	}
	data, _ := s.Data["data"].(map[string]any)
	if data[field] != want {
		t.Fatalf("read %s: %s = %v, want %q", path, field, data[field], want)
	}
}
