package scan

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/scan/refs"
)

func TestKeyNames(t *testing.T) {
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{Name: "DB_PASSWORD"}, "db_password"},
		{Finding{Name: "dbPassword"}, "db_password"},
		{Finding{Name: "APIKey"}, "api_key"},
		{Finding{Name: "spring.datasource.password"}, "spring_datasource_password"},
		{Finding{Name: `"api-token"`}, "api_token"},
		{Finding{Name: "2fa_secret"}, "k_2fa_secret"},
		{Finding{Key: "github_token", RuleID: "github-token"}, "github_token"},
		{Finding{RuleID: "my-rule"}, "my_rule"},
		{Finding{Name: "--"}, "secret"},
	}
	for _, tt := range tests {
		if got := KeyName(&tt.f); got != tt.want || !refs.ValidKey(got) {
			t.Errorf("KeyName(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
	n := NewKeyNamer(map[string]string{"db_password": "stored-1", "token": "stored-2"})
	steps := []struct {
		name, secret, key string
		isNew             bool
	}{
		{"DB_PASSWORD", "stored-1", "db_password", false}, // already in kinko
		{"DB_PASSWORD", "other", "db_password_2", true},
		{"db_password", "other", "db_password_2", false}, // same value, same key
		{"DB_PASSWORD", "third", "db_password_3", true},
		{"API_TOKEN", "stored-2", "token", false}, // the value is stored under another key
	}
	for _, s := range steps {
		key, isNew := n.Key(&Finding{Name: s.name, Secret: s.secret})
		if key != s.key || isNew != s.isNew {
			t.Errorf("%s=%s: key %q new %v, want %q %v", s.name, s.secret, key, isNew, s.key, s.isNew)
		}
	}
}

func TestRewrite(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, ".env")
	content := "DEBUG=1\nDB_PASSWORD=" + fakePw + "\nDATABASE_URL=postgres://app:Kf4k3-Pg-Pa55@db/app\nGITHUB_TOKEN=" + fakeGHP + "\n"
	if err := os.WriteFile(env, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	s := mustScanner(t, Options{})
	res, err := s.Paths(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 3 {
		t.Fatalf("found %d, want 3", len(res.Findings))
	}
	namer := NewKeyNamer(nil)
	var reps []Replacement
	for i := range res.Findings {
		f := &res.Findings[i]
		key, _ := namer.Key(f)
		reps = append(reps, Replacement{Finding: f, Text: refs.Format("secret/data/app", key)})
	}
	edits, err := PlanRewrites(reps)
	if err != nil || len(edits) != 1 {
		t.Fatalf("plan: %v (%d edits)", err, len(edits))
	}
	var preview bytes.Buffer
	if err := edits[0].Preview(&preview, false); err != nil {
		t.Fatal(err)
	}
	want := "--- " + env + "\n+++ " + env + "\n" +
		"@@ -2 +2 @@\n-DB_PASSWORD=Kink…\n+DB_PASSWORD=${kinko:secret/data/app#db_password}\n" +
		"@@ -3 +3 @@\n-DATABASE_URL=postgres://app:Kf4k…@db/app\n+DATABASE_URL=postgres://app:${kinko:secret/data/app#db_password_2}@db/app\n" +
		"@@ -4 +4 @@\n-GITHUB_TOKEN=ghp_…\n+GITHUB_TOKEN=${kinko:secret/data/app#github_token}\n"
	if preview.String() != want {
		t.Fatalf("preview:\n%s\nwant:\n%s", preview.String(), want)
	}
	for _, secret := range []string{fakePw, "Kf4k3-Pg-Pa55", fakeGHP} {
		if strings.Contains(preview.String(), secret) {
			t.Fatalf("preview shows %q", secret)
		}
	}
	if err := edits[0].Apply(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(env)
	st, _ := os.Stat(env)
	if st.Mode().Perm() != 0o640 || strings.Contains(string(got), fakePw) || !strings.Contains(string(got), "DEBUG=1\n") {
		t.Fatalf("rewritten (%v):\n%s", st.Mode(), got)
	}
	// A second scan finds nothing: references are placeholders.
	if res, _ := s.Paths(context.Background(), []string{dir}); len(res.Findings) != 0 {
		t.Fatalf("after rewrite: %+v", res.Findings)
	}
	// The plan was made for the old content: applying again must refuse.
	if err := edits[0].Apply(); !errors.Is(err, ErrChanged) {
		t.Fatalf("stale apply: %v", err)
	}
	if _, err := PlanRewrites(reps); !errors.Is(err, ErrChanged) {
		t.Fatalf("stale plan: %v", err)
	}
	git := Finding{File: env, Offset: -1, Secret: "x"}
	if _, err := PlanRewrites([]Replacement{{Finding: &git, Text: "y"}}); err == nil {
		t.Fatal("a git finding was planned")
	}
}

func TestRewriteMultiline(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k.tf")
	pem := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + strings.Repeat("S2lua29GYWtlS2V5Qm9keTAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n", 3) + "-----END OPENSSH PRIVATE KEY-----"
	if err := os.WriteFile(p, []byte("a = 1\nkey = <<EOF\n"+pem+"\nEOF\nb = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := mustScanner(t, Options{}).Paths(context.Background(), []string{p})
	if err != nil || len(res.Findings) != 1 {
		t.Fatalf("scan: %v, %d findings", err, len(res.Findings))
	}
	f := &res.Findings[0]
	if f.Line != 3 || f.EndLine != 7 || f.File != p {
		t.Fatalf("finding %s:%d-%d", f.File, f.Line, f.EndLine)
	}
	edits, err := PlanRewrites([]Replacement{{Finding: f, Text: "${kinko:secret/data/infra#private_key}"}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = edits[0].Preview(&b, false)
	want := "--- " + p + "\n+++ " + p + "\n@@ -3,5 +3 @@\n-----…\n+${kinko:secret/data/infra#private_key}\n"
	if b.String() != want {
		t.Fatalf("preview:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := edits[0].Apply(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "a = 1\nkey = <<EOF\n${kinko:secret/data/infra#private_key}\nEOF\nb = 2\n" {
		t.Fatalf("rewritten:\n%s", got)
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		fakeGHP:         "ghp_…",
		"abc":           "a…",
		"ab":            "…",
		"Kf4k3-Pg-Pa55": "Kf4k…",
		"ünïcødé!!":     "ünï…",
		"":              "…",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBaseline(t *testing.T) {
	fs := []Finding{
		{RuleID: "github-token", File: "a.go", Line: 3, Secret: fakeGHP},
		{RuleID: "github-token", File: "a.go", Line: 9, Secret: fakeGHP}, // same secret, other line
		{RuleID: "generic-secret", File: "b.py", Line: 1, Secret: fakePw},
	}
	for i := range fs {
		fs[i].Fingerprint = Fingerprint(fs[i].RuleID, fs[i].File, fs[i].Secret)
	}
	path := filepath.Join(t.TempDir(), "baseline.json")
	if err := NewBaseline(fs[:1]).Write(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(fakeGHP)) || bytes.Contains(raw, []byte("ghp_Kinko")) {
		t.Fatal("the baseline holds the secret")
	}
	b, err := LoadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	left := b.Filter(append([]Finding(nil), fs...))
	if len(left) != 1 || left[0].File != "b.py" {
		t.Fatalf("left %+v, want b.py only", left)
	}
	moved := Finding{RuleID: "github-token", File: "a.go", Line: 40, Fingerprint: Fingerprint("github-token", "a.go", fakeGHP)}
	if !b.Contains(&moved) {
		t.Fatal("a moved secret is not in the baseline")
	}
	for _, bad := range []string{"{", `{"version":2}`, `{"version":1,"findings":[{"rule":"x"}]}`} {
		if _, err := ParseBaseline([]byte(bad)); !errors.Is(err, ErrInvalidBaseline) {
			t.Errorf("%s: err %v", bad, err)
		}
	}
}
