package template_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/agent/template"
	"github.com/kinko-dev/kinko/internal/testserver"
)

type env struct {
	admin *vault.Client
	src   *api.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := testserver.Start(t)
	admin := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	src, err := api.NewClient(&api.Config{Address: srv.Addr, Token: srv.RootToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.KVv2("secret").Put(context.Background(), "app", map[string]any{"password": "pw-1", "user": "app"}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Sys().Mount("aws-sm", &vault.MountInput{Type: "aws-sm"}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Logical().Write("aws-sm/secrets/prod/db", map[string]any{"Name": "prod/db", "SecretString": `{"password":"db-pw"}`}); err != nil {
		t.Fatal(err)
	}
	return &env{admin: admin, src: src}
}

func TestRender(t *testing.T) {
	e := newEnv(t)
	t.Setenv("KINKO_TEST_REGION", "eu")
	for _, tc := range []struct {
		name, text, want, err string
	}{
		{"kv v2", `{{ with secret "secret/data/app" }}{{ .Data.data.user }}:{{ .Data.data.password }}{{ end }}`, "app:pw-1", ""},
		{"aws-sm JSON", `{{ with secret "aws-sm/secrets/prod/db" }}{{ (parseJSON .Data.SecretString).password }}{{ end }}`, "db-pw", ""},
		{"same path twice", `{{ (secret "secret/data/app").Data.data.user }}{{ (secret "/secret/data/app/").Data.data.user }}`, "appapp", ""},
		{"env", `{{ env "KINKO_TEST_REGION" }}`, "eu", ""},
		{"write with args", `{{ with secret "aws-sm/random-password" "PasswordLength=12" }}{{ len .Data.RandomPassword }}{{ end }}`, "12", ""},
		{"base64", `{{ base64Encode "x" }}{{ base64Decode "eQ==" }}`, "eA==y", ""},
		{"missing secret", `{{ with secret "secret/data/nope" }}{{ .Data }}{{ end }}`, "", "secret secret/data/nope: secret not found"},
		{"missing key", `{{ with secret "secret/data/app" }}{{ .Data.data.nokey }}{{ end }}`, "", `no entry for key "nokey"`},
		{"bad arg", `{{ secret "secret/data/app" "novalue" }}`, "", `is not key=value`},
		{"no permission", `{{ secret "sys/raw/x" }}`, "", "secret sys/raw/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := template.Parse(tc.name, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			out, err := tmpl.Render(context.Background(), e.src)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "pw-1") {
					t.Fatalf("error shows a secret: %v", err)
				}
				return
			}
			if err != nil || string(out) != tc.want {
				t.Fatalf("got %q %v, want %q", out, err, tc.want)
			}
		})
	}
	if _, err := template.Parse("bad", `{{ nosuchfunc }}`); err == nil {
		t.Fatal("unknown function parsed")
	}
}

func TestFileRenderAtomicAndCommand(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.conf")
	marker := filepath.Join(dir, "reloaded")
	f, err := template.NewFile(template.FileConfig{
		Contents:    `password = {{ with secret "secret/data/app" }}{{ .Data.data.password }}{{ end }}` + "\n",
		Destination: dest,
		Command:     []string{"/bin/sh", "-c", `echo reload >> "$0"`, marker},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &template.Runner{Files: []*template.File{f}, Source: e.src}
	ctx := context.Background()
	if n, err := r.RenderAll(ctx); err != nil || n != 1 {
		t.Fatalf("first render: %d %v", n, err)
	}
	check := func(want string, reloads int) {
		t.Helper()
		b, err := os.ReadFile(dest)
		if err != nil || string(b) != want {
			t.Fatalf("file %q %v, want %q", b, err, want)
		}
		st, _ := os.Stat(dest)
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", st.Mode())
		}
		m, _ := os.ReadFile(marker)
		if got := strings.Count(string(m), "reload"); got != reloads {
			t.Fatalf("command ran %d times, want %d", got, reloads)
		}
		leftovers, _ := filepath.Glob(filepath.Join(dir, ".app.conf.tmp-*"))
		if len(leftovers) != 0 {
			t.Fatalf("temporary files left: %v", leftovers)
		}
	}
	check("password = pw-1\n", 1)
	// unchanged: no write, no command
	if n, err := r.RenderAll(ctx); err != nil || n != 0 {
		t.Fatalf("unchanged render: %d %v", n, err)
	}
	check("password = pw-1\n", 1)
	// rotated: the file changes (a new inode: renamed over) and the command runs
	before, _ := os.Stat(dest)
	if _, err := e.admin.KVv2("secret").Put(ctx, "app", map[string]any{"password": "pw-2", "user": "app"}); err != nil {
		t.Fatal(err)
	}
	if n, err := r.RenderAll(ctx); err != nil || n != 1 {
		t.Fatalf("render after rotation: %d %v", n, err)
	}
	check("password = pw-2\n", 2)
	after, _ := os.Stat(dest)
	if os.SameFile(before, after) {
		t.Fatal("the file was rewritten in place, not replaced atomically")
	}
	// a failing render keeps the old file
	if err := e.admin.KVv2("secret").DeleteMetadata(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RenderAll(ctx); !errors.Is(err, template.ErrMissing) {
		t.Fatalf("render of a deleted secret: %v", err)
	}
	check("password = pw-2\n", 2)
}

func TestNewFileErrors(t *testing.T) {
	for _, tc := range []struct {
		c    template.FileConfig
		want string
	}{
		{template.FileConfig{Contents: "x"}, "destination is required"},
		{template.FileConfig{Destination: "/tmp/x"}, "exactly one of source and contents"},
		{template.FileConfig{Destination: "/tmp/x", Contents: "{{ if }}"}, "missing value for if"},
		{template.FileConfig{Destination: "/tmp/x", Source: "/nonexistent/t.tmpl"}, "no such file"},
		{template.FileConfig{Destination: "/tmp/x", Contents: "x", User: "no-such-user-kinko"}, "user"},
	} {
		if _, err := template.NewFile(tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{{ with secret "secret/data/app" }}{{ .Data.data.password }}{{ end }}`)
	f.Add(`{{ env "HOME" }}{{ parseJSON "{}" }}`)
	f.Add(`{{ template "x" }}{{ define "x" }}y{{ end }}`)
	f.Fuzz(func(t *testing.T, text string) {
		tmpl, err := template.Parse("fuzz", text)
		if err != nil {
			return
		}
		// rendering without a server must fail cleanly or succeed, never panic
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _ = tmpl.Render(ctx, noSource{})
	})
}

type noSource struct{}

func (noSource) Read(context.Context, string, url.Values) (*api.Secret, error) {
	return nil, errors.New("no server")
}

func (noSource) Write(context.Context, string, map[string]any) (*api.Secret, error) {
	return nil, errors.New("no server")
}

// TestPKICertWithTheEngine issues through a real PKI mount: the rendered
// certificate and key form a pair, and a second render reuses them.
func TestPKICertWithTheEngine(t *testing.T) {
	e := newEnv(t)
	if err := e.admin.Sys().Mount("pki", &vault.MountInput{Type: "pki"}); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]map[string]any{
		"pki/root/generate/internal": {"common_name": "Agent Test Root", "key_type": "ec"},
		"pki/roles/web":              {"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec", "ttl": "1h"},
	} {
		if _, err := e.admin.Logical().Write(path, data); err != nil {
			t.Fatal(err)
		}
	}
	tmpl, err := template.Parse("tls", `{{ with pkiCert "pki/issue/web" "common_name=www.example.com" }}{{ .Cert }}
{{ .Key }}{{ end }}`)
	if err != nil {
		t.Fatal(err)
	}
	first, err := tmpl.Render(context.Background(), e.src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(first, first); err != nil {
		t.Fatalf("the rendered certificate and key are not a pair: %v\n%q", err, first)
	}
	second, err := tmpl.Render(context.Background(), e.src)
	if err != nil || string(second) != string(first) {
		t.Fatalf("second render issued anew (%v)", err)
	}
}
