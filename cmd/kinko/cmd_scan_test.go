package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/scan/refs"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// Fake credentials: the shape of the real thing, nothing else.
const (
	scanFakeGHP = "ghp_KinkoFake0123456789abcdefghijABCDEFG"
	scanFakePw  = "Kinko-Fake-Pa55w0rd!"
	scanFakePg  = "Kf4k3-Pg-Pa55"
)

type scanRun struct {
	code           int
	stdout, stderr string
}

// runScanCLI runs the CLI like run does, with "scan" added to the command
// tree when root.go does not register it yet.
func runScanCLI(t *testing.T, env map[string]string, stdin string, args ...string) scanRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	c := newCLI(strings.NewReader(stdin), &stdout, &stderr, getenv)
	root := newRootCmd(c)
	if sub := subcommand(root, "scan"); sub == nil {
		root.AddCommand(newScanCmd(c))
	}
	root.SetArgs(normalizeArgs(root, args))
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	code := exitOK
	if err := root.ExecuteContext(context.Background()); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				stderr.WriteString(ee.msg + "\n")
			}
			code = ee.code
		} else {
			stderr.WriteString("Error: " + err.Error() + "\n")
			code = exitLocal
		}
	}
	return scanRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

func scanEnv(t *testing.T) map[string]string {
	return map[string]string{"HOME": t.TempDir(), "KINKO_ADDR": "http://127.0.0.1:1"}
}

func TestScanCommand(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"app/config.py": "import os\nGITHUB_TOKEN = \"" + scanFakeGHP + "\"\npassword = os.environ['PW']\n",
		".env":          "DB_PASSWORD=" + scanFakePw + "\n",
		"clean/readme":  "nothing to see\n",
	})
	env := scanEnv(t)
	r := runScanCLI(t, env, "", "scan", dir)
	if r.code != scanFindings || !strings.Contains(r.stdout, "github-token") || !strings.Contains(r.stdout, "ghp_…") ||
		!strings.Contains(r.stdout, "config.py:2:17") || !strings.Contains(r.stderr, "2 secrets found in 3 files") {
		t.Fatalf("table: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, scanFakeGHP) || strings.Contains(r.stdout+r.stderr, scanFakePw) {
		t.Fatal("a secret was printed without -show-secrets")
	}
	if r := runScanCLI(t, env, "", "scan", "-show-secrets", dir); !strings.Contains(r.stdout, scanFakeGHP) {
		t.Fatalf("-show-secrets: %s", r.stdout)
	}
	if r := runScanCLI(t, env, "", "scan", filepath.Join(dir, "clean")); r.code != scanClean || !strings.Contains(r.stderr, "No secrets found in 1 files") {
		t.Fatalf("clean: %+v", r)
	}

	r = runScanCLI(t, env, "", "scan", "-format", "json", dir)
	var found []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &found); err != nil || r.code != scanFindings || len(found) != 2 {
		t.Fatalf("json (%v): %+v", err, r)
	}
	if found[0]["secret"] != "Kink…" || found[1]["line"] != 2.0 || found[1]["fingerprint"] == "" {
		t.Fatalf("json findings: %v", found)
	}
	r = runScanCLI(t, map[string]string{"KINKO_FORMAT": "json", "HOME": env["HOME"]}, "", "scan", dir)
	if !strings.HasPrefix(r.stdout, "[") {
		t.Fatalf("KINKO_FORMAT=json: %+v", r)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "-format", "xml", dir}, "Invalid output format"},
		{[]string{"scan", filepath.Join(dir, "missing")}, "cannot scan"},
		{[]string{"scan", "-nope"}, "unknown flag"},
		{[]string{"scan", "-git", "-staged"}, "not both"},
		{[]string{"scan", "-rewrite", dir}, "go with -vault"},
		{[]string{"scan", "-vault", "secret/app", "-git", dir}, "-vault works on files"},
		{[]string{"scan", "-max-size", "ten", dir}, "Invalid -max-size"},
		{[]string{"scan", "-config", filepath.Join(dir, ".env"), dir}, "rules file"},
		{[]string{"scan", "-baseline", filepath.Join(dir, ".env"), dir}, "baseline"},
	} {
		if r := runScanCLI(t, env, "", tt.args...); r.code != scanError || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

func TestScanSARIF(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"k/.env": "TOKEN=" + scanFakeGHP + "\n"})
	r := runScanCLI(t, scanEnv(t), "", "scan", "-format", "sarif", dir)
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn int }
					}
				}
				PartialFingerprints map[string]string
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil || r.code != scanFindings {
		t.Fatalf("sarif (%v): %+v", err, r)
	}
	run := log.Runs[0]
	if log.Version != "2.1.0" || len(run.Results) != 1 || len(run.Tool.Driver.Rules) < 10 {
		t.Fatalf("sarif: %+v", log)
	}
	res := run.Results[0]
	loc := res.Locations[0].PhysicalLocation
	if res.RuleID != "github-token" || run.Tool.Driver.Rules[res.RuleIndex].ID != "github-token" ||
		loc.ArtifactLocation.URI != "k/.env" || loc.Region.StartLine != 1 || loc.Region.StartColumn != 7 ||
		res.PartialFingerprints["kinkoSecretFingerprint/v1"] == "" || strings.Contains(r.stdout, scanFakeGHP) {
		t.Fatalf("result: %+v", res)
	}
}

func TestScanBaselineAndConfig(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.py":                "TOKEN = \"" + scanFakeGHP + "\"\n",
		"b.txt":               "itk_Kf4k3Int3rn4lT0k3n0123456\n",
		"fixtures/c.py":       "TOKEN = \"" + scanFakeGHP + "\"\n",
		".kinko-scan.yaml":    "rules:\n  - id: internal-token\n    regex: 'itk_[A-Za-z0-9]{24}'\n    keywords: [itk_]\nallow:\n  paths: [fixtures/]\n",
		"nested/.placeholder": "",
	})
	env := scanEnv(t)
	r := runScanCLI(t, env, "", "scan", "-format", "json", dir)
	if !strings.Contains(r.stdout, "internal-token") || strings.Contains(r.stdout, "fixtures") || r.code != scanFindings {
		t.Fatalf("rules file at the root not used: %+v", r)
	}
	base := filepath.Join(t.TempDir(), "baseline.json")
	if r := runScanCLI(t, env, "", "scan", "-write-baseline", base, dir); r.code != scanClean || !strings.Contains(r.stderr, "Baseline of 2 findings") {
		t.Fatalf("write baseline: %+v", r)
	}
	if r := runScanCLI(t, env, "", "scan", "-baseline", base, dir); r.code != scanClean {
		t.Fatalf("with baseline: %+v", r)
	}
	// Moving the secret to another line keeps it suppressed; a new one is reported.
	writeFiles(t, dir, map[string]string{"a.py": "\n\nTOKEN = \"" + scanFakeGHP + "\"\npassword = \"" + scanFakePw + "\"\n"})
	r = runScanCLI(t, env, "", "scan", "-baseline", base, "-format", "json", dir)
	if r.code != scanFindings || strings.Count(r.stdout, "\"rule\"") != 1 || !strings.Contains(r.stdout, "generic-secret") {
		t.Fatalf("after edit: %+v", r)
	}
}

func TestScanGitAndHook(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Fake Dev", "GIT_AUTHOR_EMAIL=dev@kinko.test", "GIT_COMMITTER_NAME=Fake Dev", "GIT_COMMITTER_EMAIL=dev@kinko.test")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	writeFiles(t, dir, map[string]string{"app.env": "GITHUB_TOKEN=" + scanFakeGHP + "\n"})
	git("add", "-A")
	git("commit", "-q", "-m", "add")
	added := git("rev-parse", "HEAD")
	writeFiles(t, dir, map[string]string{"app.env": "GITHUB_TOKEN=${kinko:secret/data/app#github_token}\n"})
	git("commit", "-q", "-am", "remove")
	env := scanEnv(t)
	if r := runScanCLI(t, env, "", "scan", dir); r.code != scanClean {
		t.Fatalf("working tree: %+v", r)
	}
	r := runScanCLI(t, env, "", "scan", "-git", dir)
	if r.code != scanFindings || !strings.Contains(r.stdout, added[:10]) || !strings.Contains(r.stdout, "app.env:1:14") ||
		!strings.Contains(r.stdout, "Fake Dev") || !strings.Contains(r.stderr, "2 commits") {
		t.Fatalf("-git: %+v", r)
	}
	writeFiles(t, dir, map[string]string{"new.py": "password = \"" + scanFakePw + "\"\n"})
	git("add", "new.py")
	if r := runScanCLI(t, env, "", "scan", "-staged", dir); r.code != scanFindings || !strings.Contains(r.stdout, "new.py:1") {
		t.Fatalf("-staged: %+v", r)
	}

	hook := filepath.Join(dir, ".git", "hooks", "pre-commit")
	if r := runScanCLI(t, env, "", "scan", "install-hook", dir); r.code != 0 {
		t.Fatalf("install-hook: %+v", r)
	}
	if b, err := os.ReadFile(hook); err != nil || string(b) != hookScript {
		t.Fatalf("hook: %q %v", b, err)
	}
	if st, _ := os.Stat(hook); st.Mode().Perm()&0o100 == 0 {
		t.Fatal("hook not executable")
	}
	if r := runScanCLI(t, env, "", "scan", "install-hook", dir); r.code != 0 || !strings.Contains(r.stderr, "already installed") {
		t.Fatalf("again: %+v", r)
	}
	if err := os.WriteFile(hook, []byte("#!/bin/sh\nmake lint\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := runScanCLI(t, env, "", "scan", "install-hook", dir); r.code != scanError || !strings.Contains(r.stderr, "-force") {
		t.Fatalf("other hook: %+v", r)
	}
	if r := runScanCLI(t, env, "", "scan", "install-hook", "-force", dir); r.code != 0 {
		t.Fatalf("-force: %+v", r)
	}
	if r := runScanCLI(t, env, "", "scan", "install-hook", t.TempDir()); r.code != scanError {
		t.Fatalf("not a repository: %+v", r)
	}
}

// TestScanVaultRoundTrip: scan, store in a real server, rewrite the files
// (no secret left), resolve the references back, and run a program with
// them resolved by "kinko run -env-file".
func TestScanVaultRoundTrip(t *testing.T) {
	srv := testserver.Start(t)
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	writeFiles(t, dir, map[string]string{
		".env":      "DB_PASSWORD=" + scanFakePw + "\nDATABASE_URL=postgres://app:" + scanFakePg + "@db:5432/app\n",
		"app/gh.py": "GITHUB_TOKEN = \"" + scanFakeGHP + "\"\nSAME_PASSWORD = \"" + scanFakePw + "\"\n",
	})
	vc := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	if _, err := vc.Logical().Write("secret/data/app", map[string]any{"data": map[string]any{"existing": "keep-me", "db_password": "taken"}}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": t.TempDir(), "KINKO_ADDR": srv.Addr, "KINKO_TOKEN": srv.RootToken}

	if r := runScanCLI(t, env, "y\n", "scan", "-vault", "secret/app", dir); r.code != scanError || !strings.Contains(r.stderr, "-yes") {
		t.Fatalf("without a terminal or -yes: %+v", r)
	}
	r := runScanCLI(t, env, "", "scan", "-vault", "secret/app", "-yes", dir)
	if r.code != scanFindings || !strings.Contains(r.stdout, "+DB_PASSWORD=${kinko:secret/data/app#db_password_2}") ||
		!strings.Contains(r.stderr, "-rewrite") || strings.Contains(r.stdout, scanFakePw) {
		t.Fatalf("preview: %+v", r)
	}
	r = runScanCLI(t, env, "", "scan", "-vault", "secret/data/app", "-yes", "-rewrite", dir)
	if r.code != scanClean || !strings.Contains(r.stderr, "Stored 0 secrets") {
		t.Fatalf("rewrite: %+v", r)
	}
	s, err := vc.Logical().Read("secret/data/app")
	if err != nil {
		t.Fatal(err)
	}
	data := s.Data["data"].(map[string]any)
	want := map[string]string{"existing": "keep-me", "db_password": "taken", "db_password_2": scanFakePw, "db_password_3": scanFakePg, "github_token": scanFakeGHP}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("stored %s = %v, want %s", k, data[k], v)
		}
	}
	for _, name := range []string{".env", "app/gh.py"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		for _, secret := range []string{scanFakePw, scanFakePg, scanFakeGHP} {
			if strings.Contains(string(b), secret) {
				t.Fatalf("%s still holds a secret:\n%s", name, b)
			}
		}
	}
	if r := runScanCLI(t, env, "", "scan", dir); r.code != scanClean {
		t.Fatalf("rescan: %+v", r)
	}
	rewritten, _ := os.ReadFile(envFile)
	read := func(p string) (map[string]any, error) {
		s, err := vc.Logical().Read(p)
		if err != nil || s == nil {
			return nil, err
		}
		return s.Data, nil
	}
	got, err := refs.ResolveRefs(context.Background(), read, string(rewritten))
	if err != nil || got != "DB_PASSWORD="+scanFakePw+"\nDATABASE_URL=postgres://app:"+scanFakePg+"@db:5432/app\n" {
		t.Fatalf("resolved %q, %v", got, err)
	}
	r = runScanCLI(t, env, "", "run", "-env-file", envFile, "--", "/bin/sh", "-c", `printf '%s|%s' "$DB_PASSWORD" "$DATABASE_URL"`)
	if r.code != 0 || r.stdout != scanFakePw+"|postgres://app:"+scanFakePg+"@db:5432/app" {
		t.Fatalf("kinko run -env-file: %+v", r)
	}
}

func TestRunResolvesEnvironment(t *testing.T) {
	srv := testserver.Start(t)
	vc := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	if _, err := vc.Logical().Write("secret/data/svc", map[string]any{"data": map[string]any{"api_token": "tok-1"}}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SVC_TOKEN", "Bearer ${kinko:secret/data/svc#api_token}")
	env := map[string]string{"HOME": t.TempDir(), "KINKO_ADDR": srv.Addr, "KINKO_TOKEN": srv.RootToken}
	r := runScanCLI(t, env, "", "run", "-env", "X=${kinko:secret/data/svc#api_token}!", "--", "/bin/sh", "-c", `printf '%s|%s' "$SVC_TOKEN" "$X"`)
	if r.code != 0 || r.stdout != "Bearer tok-1|tok-1!" {
		t.Fatalf("run: %+v", r)
	}
	t.Setenv("SVC_TOKEN", "${kinko:secret/data/svc#missing}")
	if r := runScanCLI(t, env, "", "run", "--", "/bin/true"); r.code != exitLocal || strings.Contains(r.stderr, "tok-1") {
		t.Fatalf("missing key: %+v", r)
	}
	bad := filepath.Join(t.TempDir(), "bad.env")
	if err := os.WriteFile(bad, []byte("A=\"unterminated\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runScanCLI(t, env, "", "run", "-env-file", bad, "--", "/bin/true"); r.code != exitLocal || !strings.Contains(r.stderr, "line 1") {
		t.Fatalf("bad env file: %+v", r)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "10MiB": 10 << 20, "512 KiB": 512 << 10, "2M": 2 << 20, "1GB": 1 << 30} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "ten", "1TiB", "99999999999GiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}
