package server

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// render is a stable text form of a Config for golden files.
func render(c *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "storage=%s", c.Storage.Type)
	keys := make([]string, 0, len(c.Storage.Options))
	for k := range c.Storage.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, c.Storage.Options[k])
	}
	b.WriteString("\n")
	for _, l := range c.Listeners {
		tls := "disabled"
		if !l.TLSDisable {
			tls = l.TLSCertFile + "," + l.TLSKeyFile
		}
		fmt.Fprintf(&b, "listener %s %s tls=%s max_request_size=%d rate=%g/%d\n", l.Type, l.Address, tls, l.MaxRequestSize, l.RateLimit, l.RateBurst)
	}
	fmt.Fprintf(&b, "api_addr=%s ui=%t log=%s/%s ttl=%s/%s\n", c.APIAddr, c.UI, c.LogLevel, c.LogFormat, c.DefaultLeaseTTL, c.MaxLeaseTTL)
	return b.String()
}

func TestConfigGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/config/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no config fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := LoadConfig(f)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".hcl") + ".golden"
			got := render(c)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("config %s:\n got: %s\nwant: %s", f, got, want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	const lis = `listener "tcp" { address = "127.0.0.1:0" tls_disable = true }`
	const sto = `storage "inmem" {}`
	cases := []struct{ name, text, want string }{
		{"no storage", lis, "exactly one storage block"},
		{"two storages", sto + sto + lis, "exactly one storage block"},
		{"no listener", sto, "at least one listener"},
		{"tls required", sto + `listener "tcp" { address = "0.0.0.0:8200" }`, "TLS is required"},
		{"unknown key", sto + lis + `colour = "blue"`, `unknown key "colour"`},
		{"bad listener type", sto + `listener "unix" { tls_disable = true }`, "not supported"},
		{"bad ttl", sto + lis + `max_lease_ttl = "forever"`, "max_lease_ttl"},
		{"syntax", `storage "bolt" {`, "config:"},
		{"storage without type", `storage { path = "x" }` + lis, "needs a type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestOpenStorageErrors(t *testing.T) {
	if _, _, err := OpenStorage(StorageConfig{Type: "bolt"}); err == nil || !strings.Contains(err.Error(), "path is required") {
		t.Fatalf("bolt without path: %v", err)
	}
	if _, _, err := OpenStorage(StorageConfig{Type: "etcd"}); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("unknown storage: %v", err)
	}
}
