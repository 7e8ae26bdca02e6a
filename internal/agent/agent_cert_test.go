package agent

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// TestCertAutoAuth logs the agent in with a TLS client certificate, from
// the method's own files or from the vault block's, and shows a
// certificate the server does not trust failing to log in.
func TestCertAutoAuth(t *testing.T) {
	dir := t.TempDir()
	srvCert, srvKey := testserver.WriteCert(t, dir, "server", true)
	srv := testserver.StartTLS(t, srvCert, srvKey)
	cfg := vault.DefaultConfig()
	cfg.Address = srv.Addr
	if err := cfg.ConfigureTLS(&vault.TLSConfig{CACert: srvCert}); err != nil {
		t.Fatal(err)
	}
	admin, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin.SetToken(srv.RootToken)
	webCert, webKey := testserver.WriteCert(t, dir, "web", false)
	strangerCert, strangerKey := testserver.WriteCert(t, dir, "stranger", false)
	if err := admin.Sys().EnableAuthWithOptions("cert", &vault.EnableAuthOptions{Type: "cert"}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Sys().PutPolicy("app", appPolicy); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Logical().Write("sys/mounts/secret", map[string]any{"type": "kv", "options": map[string]any{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Logical().Write("secret/data/app", map[string]any{"data": map[string]any{"v": "one"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Logical().Write("auth/cert/certs/web", map[string]any{"certificate": readFile(t, webCert), "token_policies": "app"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, vaultExtra, method string
		ok                       bool
	}{
		{"method files", "", fmt.Sprintf(`name = "web"
      client_cert = %q
      client_key = %q`, webCert, webKey), true},
		{"vault block files, server picks the role", fmt.Sprintf("client_cert = %q\n  client_key = %q", webCert, webKey), "", true},
		{"untrusted certificate", "", fmt.Sprintf("client_cert = %q\n      client_key = %q", strangerCert, strangerKey), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := fmt.Sprintf(`
vault {
  address = %q
  ca_cert = %q
  %s
}
auto_auth {
  method "cert" {
    config = {
      %s
    }
  }
}
listener "tcp" {
  address     = "127.0.0.1:0"
  tls_disable = true
}
agent_token { env = "AGENT_TOKEN" }
`, srv.Addr, srvCert, tc.vaultExtra, tc.method)
			c, err := ParseConfig(text)
			if err != nil {
				t.Fatal(err)
			}
			env := func(k string) string {
				if k == "AGENT_TOKEN" {
					return "agent-ssrf-token-0123456789abcdef"
				}
				return ""
			}
			a, err := Start(context.Background(), c, Options{Logger: testLogger(t), Getenv: env, LoginBackoff: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close(context.Background())
			if !tc.ok {
				waitFor(t, 10*time.Second, "a refused login", func() bool { return a.Auth.Stats().LoginFailures >= 1 })
				if a.Auth.Token() != "" {
					t.Fatal("logged in with a certificate no role trusts")
				}
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tok, err := a.Auth.WaitToken(ctx)
			if err != nil {
				t.Fatalf("no login: %v (%+v)", err, a.Auth.Stats())
			}
			self, err := admin.Auth().Token().Lookup(tok)
			if err != nil {
				t.Fatal(err)
			}
			if pols, _ := self.TokenPolicies(); !slices.Contains(pols, "app") {
				t.Fatalf("policies %v", pols)
			}
		})
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
