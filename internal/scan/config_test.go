package scan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const sampleConfig = `
rules:
  - id: internal-token
    description: Internal service token
    regex: '(?P<secret>itk_[A-Za-z0-9]{24})'
    keywords: [itk_]
    entropy: 3
    key: internal_token
disabled_rules: [high-entropy-string]
allow:
  paths: ["fixtures/", "**/*_test.go"]
  regexes: ['^ghp_Kinko']
  stopwords: [sample]
max_file_size: 2048
`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(sampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 1 || cfg.Rules[0].Key != "internal_token" || cfg.MaxFileSize != 2048 ||
		!reflect.DeepEqual(cfg.Allow.Paths, []string{"fixtures/", "**/*_test.go"}) {
		t.Fatalf("parsed %+v", cfg)
	}
	if _, err := ParseConfig(nil); err != nil {
		t.Fatalf("empty file: %v", err)
	}
	bad := map[string]string{
		"unknown field":   "rulez: []",
		"bad regex":       "rules: [{id: x, regex: '('}]",
		"bad id":          "rules: [{id: 'A B', regex: x}]",
		"unknown disable": "disabled_rules: [nope]",
		"bad allow regex": "allow: {regexes: ['(']}",
		"bad glob":        "allow: {paths: ['[abc']}",
		"empty stopword":  "allow: {stopwords: ['']}",
		"negative size":   "max_file_size: -1",
		"two documents":   "max_file_size: 1\n---\nmax_file_size: 2",
		"not yaml":        "rules: [",
		"all disabled":    "disabled_rules: [" + allBuiltinIDs() + "]",
	}
	for name, text := range bad {
		if _, err := ParseConfig([]byte(text)); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err %v, want ErrInvalidConfig", name, err)
		}
	}
}

func allBuiltinIDs() string {
	s, _ := New(Options{})
	var ids []string
	for _, r := range s.Rules() {
		ids = append(ids, r.ID())
	}
	return strings.Join(ids, ", ")
}

func TestConfigApplied(t *testing.T) {
	cfg, err := ParseConfig([]byte(sampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"a.txt":             "tok = itk_Kf4k3Int3rn4lT0k3n0123456\nx = " + fakeGHP + "\n",
		"b.txt":             "password = \"sample-Pa55w0rd-1x\"\ntoken: ghp_OtherFake0123456789abcdefghijABCDEFG\n",
		"fixtures/c.txt":    "token: ghp_OtherFake0123456789abcdefghijABCDEFG\n",
		"pkg/x_test.go":     "token: ghp_OtherFake0123456789abcdefghijABCDEFG\n",
		"big.txt":           strings.Repeat("#", 3000) + "\ntoken: ghp_OtherFake0123456789abcdefghijABCDEFG\n",
		"bin.dat":           "\x00\x01token: ghp_OtherFake0123456789abcdefghijABCDEFG\n",
		"img.png":           "token: ghp_OtherFake0123456789abcdefghijABCDEFG\n",
		".git/config":       "token: ghp_OtherFake0123456789abcdefghijABCDEFG\n",
		"yarn.lock":         "token: ghp_OtherFake0123456789abcdefghijABCDEFG\n",
		"d.txt":             "curl -H \"X-Key: Kf4k3Zq9Xw7Vb5Nm3Lk1Jh8Gf6Ds4Ap2\"\n", // high-entropy-string is disabled
		"nested/deep/e.env": "API_TOKEN=ghp_OtherFake0123456789abcdefghijABCDEFG\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := mustScanner(t, Options{Config: cfg, Base: dir, Workers: 2})
	res, err := s.Paths(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		rel, _ := filepath.Rel(dir, f.File)
		got = append(got, rel+":"+f.RuleID)
	}
	want := []string{"a.txt:internal-token", "b.txt:github-token", "nested/deep/e.env:github-token"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if res.Skipped < 5 {
		t.Fatalf("skipped %d, want big, binary, png, lockfile, allow-listed files", res.Skipped)
	}
	if _, err := s.Paths(context.Background(), []string{filepath.Join(dir, "nope")}); err == nil {
		t.Fatal("missing root: no error")
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{"*.pem", []string{"a.pem", "x/y/a.pem", "a.pem/inner"}, []string{"a.pem.txt", "apem"}},
		{"docs/*.md", []string{"docs/a.md", "/docs/a.md"[1:]}, []string{"x/docs/a.md", "docs/sub/a.md"}},
		{"**/testdata/", []string{"testdata/x", "a/b/testdata/c.txt", "testdata/"}, []string{"testdatax/y"}},
		{"/vendor/**", []string{"vendor/x/y.go"}, []string{"a/vendor/x.go"}},
		{"file?.[ch]", []string{"file1.c", "a/fileX.h"}, []string{"file10.c", "file1.go"}},
		{"[!a]*.txt", []string{"b.txt"}, []string{"a.txt"}},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		for _, p := range tt.yes {
			if !g.match(p) {
				t.Errorf("%s does not match %s", tt.pattern, p)
			}
		}
		for _, p := range tt.no {
			if g.match(p) {
				t.Errorf("%s matches %s", tt.pattern, p)
			}
		}
	}
	for _, bad := range []string{"", "/", "[", "a[]b", `[\]`} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

// FuzzParseConfig checks that any rules file either fails with
// ErrInvalidConfig or survives a YAML round trip unchanged.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(sampleConfig))
	f.Add([]byte("rules: [{id: a, regex: 'a(?P<secret>b+)', keywords: [a], secret_group: 0}]"))
	f.Add([]byte("allow: {paths: ['**/x/[ab]?.go']}"))
	f.Add([]byte("disabled_rules: [jwt]\nmax_file_size: 10"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
			return
		}
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if !reflect.DeepEqual(normalize(cfg), normalize(again)) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", cfg, again)
		}
	})
}

// normalize makes empty and nil slices equal.
func normalize(c *Config) *Config {
	n := *c
	if len(n.Rules) == 0 {
		n.Rules = nil
	}
	for i := range n.Rules {
		if len(n.Rules[i].Keywords) == 0 {
			n.Rules[i].Keywords = nil
		}
	}
	if len(n.DisabledRules) == 0 {
		n.DisabledRules = nil
	}
	if len(n.Allow.Paths) == 0 {
		n.Allow.Paths = nil
	}
	if len(n.Allow.Regexes) == 0 {
		n.Allow.Regexes = nil
	}
	if len(n.Allow.Stopwords) == 0 {
		n.Allow.Stopwords = nil
	}
	return &n
}
