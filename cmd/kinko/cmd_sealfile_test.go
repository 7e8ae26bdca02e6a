package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The test key pair of testdata/sealfile.txt.
const (
	sfRecipient = "age1j4vn6cnf0tnqdpwm5acfpymml9kqzjdy5em6n27g2cpns8sdyc7qpn3crs"
	sfIdentity  = "AGE-SECRET-KEY-1WK59RYS8G35DDE0JSDFL5MGW2FMFYZ6YJQQPU04P8LEKXTU2NV3SQJUXVT"
)

// sfEnv is a directory with an identity file and a sealed YAML file; no
// server runs.
type sfEnv struct {
	dir, key, file string
	env            map[string]string
}

func newSFEnv(t *testing.T) *sfEnv {
	t.Helper()
	dir := t.TempDir()
	e := &sfEnv{dir: dir, key: filepath.Join(dir, "key.txt"), file: filepath.Join(dir, "app.yaml"),
		env: map[string]string{"KINKO_ADDR": "http://127.0.0.1:1", "HOME": dir}}
	e.env["KINKO_AGE_IDENTITY"] = e.key
	write(t, e.key, sfIdentity+"\n", 0o600)
	write(t, e.file, "db:\n  password: s3cr3t\n", 0o640)
	if code, _, stderr := e.run("seal-file", "-in-place", "-age", sfRecipient, e.file); code != 0 {
		t.Fatalf("seal: %d %s", code, stderr)
	}
	return e
}

func (e *sfEnv) run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	c := newCLI(strings.NewReader(""), &out, &errb, func(k string) string { return e.env[k] })
	code := run(context.Background(), args, c)
	return code, out.String(), errb.String()
}

// editor installs a shell script as $EDITOR; it logs the file it got.
func (e *sfEnv) editor(t *testing.T, script string) string {
	t.Helper()
	log := filepath.Join(e.dir, "editor.log")
	path := filepath.Join(e.dir, "editor.sh")
	write(t, path, `echo "$1" > `+log+"\n"+script+"\n", 0o700)
	e.env["EDITOR"] = "/bin/sh " + path
	return log
}

func write(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEditFileRemovesPlaintext checks that the private directory is gone
// after every way edit-file can end, and that the file changes only on
// success.
func TestEditFileRemovesPlaintext(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		code    int
		stderr  string
		changed bool
	}{
		{"saved", `sed -i 's/s3cr3t/n3w/' "$1"`, 0, "", true},
		{"unchanged", `true`, 0, "No changes", false},
		{"editor fails", `sed -i 's/s3cr3t/n3w/' "$1"; exit 3`, 1, "The editor failed", false},
		{"edit does not parse", `echo '- a list' > "$1"`, 1, "the top level must be a mapping", false},
		{"reserved key added", `echo 'kinko: x' >> "$1"`, 1, "reserved", false},
		{"SIGTERM", `sed -i 's/s3cr3t/n3w/' "$1"; kill -TERM $PPID; exec sleep 30`, 1, "Interrupted by terminated", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSFEnv(t)
			before := read(t, e.file)
			log := e.editor(t, tc.script)
			code, _, stderr := e.run("edit-file", e.file)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, stderr, tc.code, tc.stderr)
			}
			tmp := strings.TrimSpace(read(t, log))
			if !strings.HasPrefix(filepath.Base(filepath.Dir(tmp)), "kinko-edit-") || filepath.Base(tmp) != "app.yaml" {
				t.Errorf("editor got %q", tmp)
			}
			if _, err := os.Stat(filepath.Dir(tmp)); !os.IsNotExist(err) {
				t.Errorf("private directory %s left behind (%v)", filepath.Dir(tmp), err)
			}
			after := read(t, e.file)
			if (after != before) != tc.changed {
				t.Errorf("file changed = %v, want %v", after != before, tc.changed)
			}
			if strings.Contains(after, "n3w") || strings.Contains(after, "s3cr3t") {
				t.Errorf("plaintext in the sealed file:\n%s", after)
			}
			if fi, err := os.Stat(e.file); err != nil || fi.Mode().Perm() != 0o640 {
				t.Errorf("mode after edit = %v, %v; want 0640", fi.Mode().Perm(), err)
			}
			_, plain, _ := e.run("unseal-file", e.file)
			if want := map[bool]string{true: "n3w", false: "s3cr3t"}[tc.changed]; !strings.Contains(plain, "password: "+want) {
				t.Errorf("unsealed:\n%s", plain)
			}
		})
	}
}

func TestUnsealFileOut(t *testing.T) {
	e := newSFEnv(t)
	out := filepath.Join(e.dir, "plain.yaml")
	write(t, out, "old content that is longer than the new one\n", 0o644)
	if code, stdout, stderr := e.run("unseal-file", "-out", out, e.file); code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := read(t, out); got != "db:\n  password: s3cr3t\n" {
		t.Errorf("plaintext = %q", got)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(e.dir)
	for _, de := range entries {
		if strings.Contains(de.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", de.Name())
		}
	}
}

// TestExecFileForwardsSignals: the child asks kinko (its parent) for a
// signal, which kinko passes back to it.
func TestExecFileForwardsSignals(t *testing.T) {
	e := newSFEnv(t)
	script := `trap 'echo "got USR1 $DB_PASSWORD"; exit 5' USR1; kill -USR1 $PPID; while :; do sleep 0.05; done`
	code, stdout, stderr := e.run("exec-file", e.file, "--", "/bin/sh", "-c", script)
	if code != 5 || stdout != "got USR1 s3cr3t\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if strings.Contains(stderr, "s3cr3t") {
		t.Errorf("value on stderr: %q", stderr)
	}
	code, _, _ = e.run("exec-file", e.file, "--", "/bin/sh", "-c", "kill -KILL $$")
	if code != 128+9 {
		t.Errorf("killed child: exit %d, want 137", code)
	}
}
