package scan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	fakeGHP  = "ghp_KinkoFake0123456789abcdefghijABCDEFG"
	fakeAKID = "AKIAKINKOFAKEKEY2345"
	fakePw   = "Kinko-Fake-Pa55w0rd!"
)

// gitRepo is a repository in a temporary folder.
type gitRepo struct {
	t   testing.TB
	dir string
}

func newGitRepo(t testing.TB) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Fake Dev", "GIT_AUTHOR_EMAIL=dev@kinko.test", "GIT_COMMITTER_NAME=Fake Dev",
		"GIT_COMMITTER_EMAIL=dev@kinko.test", "GIT_AUTHOR_DATE=2024-05-01T10:00:00Z", "GIT_COMMITTER_DATE=2024-05-01T10:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *gitRepo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *gitRepo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func TestGitHistory(t *testing.T) {
	r := newGitRepo(t)
	r.write("app/config.py", "import os\n\nDEBUG = False\n")
	r.commit("initial")
	r.write("app/config.py", "import os\n\nDEBUG = False\nGITHUB_TOKEN = \""+fakeGHP+"\"\n")
	r.write("weird name ü.txt", "password = \""+fakePw+"\"\n")
	added := r.commit("add token")
	r.write("app/config.py", "import os\n\nDEBUG = False\nGITHUB_TOKEN = os.environ[\"GITHUB_TOKEN\"]\n")
	r.git("rm", "-q", "weird name ü.txt")
	r.commit("remove token")
	// a branch only: --all must see it
	r.git("checkout", "-q", "-b", "feature")
	r.write("deploy.sh", "#!/bin/sh\nexport AWS_ACCESS_KEY_ID="+fakeAKID+"\n")
	branch := r.commit("deploy script")
	r.git("checkout", "-q", "main")

	if got, _ := os.ReadFile(filepath.Join(r.dir, "app/config.py")); strings.Contains(string(got), fakeGHP) {
		t.Fatal("the working tree still holds the token")
	}
	s := mustScanner(t, Options{})
	res, err := s.GitLog(context.Background(), r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 4 {
		t.Fatalf("commits %d, want 4", res.Commits)
	}
	want := map[string]struct {
		commit string
		line   int
		secret string
	}{
		"app/config.py":    {added, 4, fakeGHP},
		"weird name ü.txt": {added, 1, fakePw},
		"deploy.sh":        {branch, 2, fakeAKID},
	}
	if len(res.Findings) != len(want) {
		t.Fatalf("got %d findings, want %d: %+v", len(res.Findings), len(want), res.Findings)
	}
	for _, f := range res.Findings {
		w, ok := want[f.File]
		if !ok || f.Commit != w.commit || f.Line != w.line || f.Secret != w.secret {
			t.Errorf("finding %s:%d in %s (%s), want %+v", f.File, f.Line, f.Commit, f.RuleID, w)
		}
		if f.Author != "Fake Dev" || f.Email != "dev@kinko.test" || !strings.HasPrefix(f.Date, "2024-05-01T10:00:00") || f.Offset != -1 {
			t.Errorf("metadata %q %q %q offset %d", f.Author, f.Email, f.Date, f.Offset)
		}
	}
}

func TestGitStaged(t *testing.T) {
	r := newGitRepo(t)
	r.write("a.txt", "hello\n")
	r.commit("initial")
	r.write("a.txt", "hello\ntoken: "+fakeGHP+"\n")
	r.write("b.txt", "unstaged password = \""+fakePw+"\"\n")
	r.git("add", "a.txt")
	s := mustScanner(t, Options{})
	res, err := s.Staged(context.Background(), r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].File != "a.txt" || res.Findings[0].Line != 2 || res.Findings[0].Commit != "" {
		t.Fatalf("got %+v, want the staged token on a.txt:2", res.Findings)
	}
	if _, err := s.Staged(context.Background(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "git diff") {
		t.Fatalf("outside a repository: err %v", err)
	}
}

func TestDiffParser(t *testing.T) {
	// A multi-line key added in one hunk, a line that looks like a header
	// inside a hunk, a hunk without counts, and a deleted file.
	pem := "-----BEGIN PRIVATE KEY-----\n" + strings.Repeat("S2lua29GYWtlS2V5Qm9keTAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n", 3) + "-----END PRIVATE KEY-----\n"
	var b strings.Builder
	b.WriteString("\x00c0ffee\x00Ann\x00ann@x\x002024-01-01T00:00:00Z\n\n")
	b.WriteString("diff --git a/k.pem b/k.pem\nnew file mode 100644\n--- /dev/null\n+++ b/k.pem\n@@ -0,0 +1,6 @@\n")
	for _, l := range strings.Split(strings.TrimSuffix(pem, "\n"), "\n") {
		b.WriteString("+" + l + "\n")
	}
	b.WriteString("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -3 +3,2 @@\n-old\n+++ b/not-a-header token=" + fakeGHP + "\n+second\n")
	b.WriteString("@@ -9 +10 @@\n-a\n+key " + fakeAKID + "\n\\ No newline at end of file\n")
	b.WriteString("diff --git a/gone b/gone\ndeleted file mode 100644\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-token=" + fakeGHP + "\n")
	s := mustScanner(t, Options{Workers: 3})
	res, err := s.Diff(context.Background(), strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	type loc struct {
		file string
		line int
		rule string
	}
	var got []loc
	for _, f := range res.Findings {
		got = append(got, loc{f.File, f.Line, f.RuleID})
	}
	want := []loc{{"k.pem", 1, "private-key"}, {"x", 3, "github-token"}, {"x", 10, "aws-access-key-id"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if _, err := s.Diff(context.Background(), strings.NewReader("+++ b/x\n@@ -a +b @@\n")); err == nil {
		t.Fatal("malformed hunk header accepted")
	}
}

func mustScanner(t testing.TB, o Options) *Scanner {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGitEmptyRepo(t *testing.T) {
	r := newGitRepo(t)
	res, err := mustScanner(t, Options{}).GitLog(context.Background(), r.dir)
	if err != nil || res.Commits != 0 || len(res.Findings) != 0 {
		t.Fatalf("empty repository: %v, %+v", err, res)
	}
	if _, err := mustScanner(t, Options{}).GitLog(context.Background(), t.TempDir()); err == nil {
		t.Fatal("not a repository: no error")
	}
}

// FuzzDiff feeds arbitrary text to the diff parser: it must not panic,
// and what it reports must be consistent.
func FuzzDiff(f *testing.F) {
	f.Add("\x00c\x00a\x00e\x00d\n\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n-a\n+token=" + fakeGHP + "\n+b\n")
	f.Add("+++ \"b/q\\\"x\"\n@@ -0,0 +5 @@\n+AKIAKINKOFAKEKEY2345\n")
	f.Add("@@ -1,2 +3,4 @@\n+\n+\n\\ x\n")
	s := mustScanner(f, Options{Workers: 2})
	f.Fuzz(func(t *testing.T, in string) {
		res, err := s.Diff(context.Background(), strings.NewReader(in))
		if err != nil {
			return
		}
		for _, fd := range res.Findings {
			if fd.Line < 0 || fd.EndLine < fd.Line || fd.File == "" || !strings.Contains(in, fd.Secret) {
				t.Fatalf("bad finding %+v", fd)
			}
		}
	})
}
