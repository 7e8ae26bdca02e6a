package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/audit"
	"github.com/kinko-dev/kinko/internal/server"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// auditEnv is a real server with an audit directory, and the CLI
// environment to reach it as root.
type auditEnv struct {
	env map[string]string
	dir string // the server's audit directory
	log string // dir/audit.log, for the device at file/
}

func newAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	dir := t.TempDir()
	ts := testserver.StartWith(t, server.DevOptions{AuditDir: dir})
	return &auditEnv{dir: dir, log: filepath.Join(dir, "audit.log"),
		env: map[string]string{"KINKO_ADDR": ts.Addr, "KINKO_TOKEN": ts.RootToken, "HOME": t.TempDir()}}
}

// run runs the CLI with stdin and returns its exit code and outputs.
func (e *auditEnv) run(stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	c := newCLI(strings.NewReader(stdin), &out, &errOut, func(k string) string { return e.env[k] })
	return run(context.Background(), args, c), out.String(), errOut.String()
}

// must runs the CLI and fails the test unless it exits 0.
func (e *auditEnv) must(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := e.run("", args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
	}
	return out
}

// enable enables the file device at file/ and makes it write a few lines.
func (e *auditEnv) enable(t *testing.T) {
	t.Helper()
	e.must(t, "audit", "enable", "file", "file_path="+e.log)
	for i := range 4 {
		e.must(t, "kv", "put", "secret/app", "n="+strconv.Itoa(i))
	}
}

// chainKey returns the device's chain key, read with the Go client.
func (e *auditEnv) chainKey(t *testing.T) []byte {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: e.env["KINKO_ADDR"], Token: e.env["KINKO_TOKEN"]})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.AuditChain(context.Background(), "file")
	if err != nil {
		t.Fatal(err)
	}
	key, err := hex.DecodeString(ch.ChainKey)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// keyFile writes the device's chain key to a file, in hex.
func (e *auditEnv) keyFile(t *testing.T) ([]byte, string) {
	t.Helper()
	key := e.chainKey(t)
	name := filepath.Join(t.TempDir(), "chain.key")
	if err := os.WriteFile(name, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, name
}

// editLine returns a copy of lines with line i (0-based) changed.
func editLine(lines [][]byte, i int) [][]byte {
	out := cat(lines)
	out[i] = bytes.Replace(out[i], []byte(`"operation":"`), []byte(`"operation":"x`), 1)
	return out
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	b := append(bytes.Join(lines, []byte("\n")), '\n')
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// cat joins line slices (and single lines) into one new slice.
func cat(parts ...any) [][]byte {
	var out [][]byte
	for _, p := range parts {
		switch v := p.(type) {
		case [][]byte:
			out = append(out, v...)
		case []byte:
			out = append(out, v)
		}
	}
	return out
}

func TestAuditCommands(t *testing.T) {
	e := newAuditEnv(t)
	second := filepath.Join(e.dir, "second.log")
	steps := []struct {
		args   []string
		stdin  string
		code   int
		stdout string // regexp
		stderr string // regexp
	}{
		{args: []string{"audit", "list"}, stdout: `^No audit devices are enabled.\n$`},
		{args: []string{"audit", "enable", "-description=main log", "file", "file_path=" + e.log},
			stdout: `^Success! Enabled the file audit device at: file/\n$`},
		{args: []string{"audit", "enable", "-path=/second/", "-local", "file", "file_path=" + second, "mode=0600"},
			stdout: `^Success! Enabled the file audit device at: second/\n$`},
		{args: []string{"audit", "list"}, stdout: `(?m)^Path +Type +Description\n-+ +-+ +-+\nfile/ +file +main log\nsecond/ +file +n/a$`},
		{args: []string{"audit", "list", "-detailed"},
			stdout: `(?m)^Path +Type +Description +Replication +Declared +Options\n.*\nfile/ +file +main log +replicated +false +file_path=` +
				regexp.QuoteMeta(e.log) + `\nsecond/ +file +n/a +local +false +file_path=` + regexp.QuoteMeta(second) + ` mode=0600$`},
		{args: []string{"audit", "enable", "-path=other", "file", "file_path=/etc/kinko-audit.log"}, code: exitAPI,
			stderr: `^Error enabling audit device: .*`},
		{args: []string{"audit", "enable", "-path=second", "file", "file_path=" + second}, code: exitAPI,
			stderr: `^Error enabling audit device: `},
		{args: []string{"audit", "enable", "file", "nonsense"}, code: exitLocal, stderr: `option "nonsense": format must be key=value`},
		{args: []string{"audit", "enable"}, code: exitLocal, stderr: `requires at least 1 arg`},
		{args: []string{"audit", "hash", "file", "s3cret"}, stdout: `^hmac-sha256:[0-9a-f]{64}\n$`},
		{args: []string{"audit", "hash", "file/", "-"}, stdin: "s3cret\n", stdout: `^hmac-sha256:[0-9a-f]{64}\n$`},
		{args: []string{"audit", "hash", "-format=json", "file", "s3cret"}, stdout: `^\{\n  "hash": "hmac-sha256:[0-9a-f]{64}"\n\}\n$`},
		{args: []string{"audit", "hash", "nosuch", "s3cret"}, code: exitAPI, stderr: `(?s)^Error hashing with audit device nosuch/: .*no audit device at "nosuch/"`},
		{args: []string{"audit", "hash", "file"}, code: exitLocal, stderr: `accepts 2 arg`},
		{args: []string{"audit", "disable", "second"}, stdout: `^Success! Disabled audit device \(if it was enabled\) at: second/\n$`},
		{args: []string{"audit", "disable"}, code: exitLocal, stderr: `accepts 1 arg`},
	}
	for _, s := range steps {
		code, out, errOut := e.run(s.stdin, s.args...)
		if code != s.code || !regexp.MustCompile(s.stdout).MatchString(out) || !regexp.MustCompile(s.stderr).MatchString(errOut) {
			t.Fatalf("%q: exit %d\n--- stdout\n%s--- stderr\n%s--- want exit %d, stdout %s, stderr %s",
				s.args, code, out, errOut, s.code, s.stdout, s.stderr)
		}
	}

	var devs map[string]api.Audit
	if err := json.Unmarshal([]byte(e.must(t, "audit", "list", "-format=json")), &devs); err != nil {
		t.Fatal(err)
	}
	if d := devs["file/"]; len(devs) != 1 || d.Type != "file" || d.Description != "main log" || d.Options["file_path"] != e.log {
		t.Fatalf("json list: %+v", devs)
	}
	e.must(t, "audit", "disable", "file/")
	if out := e.must(t, "audit", "list", "-format=json"); strings.TrimSpace(out) != "{}" {
		t.Fatalf("json list of none: %q", out)
	}
}

// TestAuditHashFindsValue checks that "audit hash" gives what the device
// wrote for a value, so the log can be searched for it.
func TestAuditHashFindsValue(t *testing.T) {
	e := newAuditEnv(t)
	e.must(t, "audit", "enable", "file", "file_path="+e.log)
	e.must(t, "kv", "put", "secret/app", "password=hunter2-kinko")
	hash := strings.TrimSpace(e.must(t, "audit", "hash", "file", "hunter2-kinko"))
	b, err := os.ReadFile(e.log)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"`+hash+`"`)) || bytes.Contains(b, []byte("hunter2-kinko")) {
		t.Fatalf("log does not hold %s (or holds the value in clear):\n%s", hash, b)
	}
}

var (
	prevHMACField = regexp.MustCompile(`"prev_hmac":"[^"]*"}$`)
	seqField      = regexp.MustCompile(`"seq":\d+,"prev_hmac"`)
)

// forge rewrites lines as someone holding the chain key could: the lines
// are relinked under key, and extra lines continue the chain to seq upTo.
func forge(key []byte, lines [][]byte, upTo int) [][]byte {
	out := cat(lines)
	for seq := len(lines) + 1; seq <= upTo; seq++ {
		next := fmt.Appendf(nil, `"seq":%d,"prev_hmac"`, seq)
		out = append(out, seqField.ReplaceAllLiteral(out[len(out)-1], next))
	}
	for i := 1; i < len(out); i++ {
		prev := fmt.Appendf(nil, `"prev_hmac":"%s"}`, audit.LineMAC(key, out[i-1]))
		out[i] = prevHMACField.ReplaceAllLiteral(out[i], prev)
	}
	return out
}

// TestAuditVerify tampers with copies of a real device's log, one way per
// case, and checks that verify finds each at the right line.
func TestAuditVerify(t *testing.T) {
	e := newAuditEnv(t)
	e.enable(t)
	key, keyFile := e.keyFile(t)
	lines := readLines(t, e.log) // line i holds seq i+1
	n := len(lines)
	if n < 8 {
		t.Fatalf("only %d audit lines", n)
	}
	edited, rewritten := editLine(lines, 3), editLine(lines, 1)
	offline, device := "-key-file="+keyFile, "-device=file/"
	cases := []struct {
		name   string
		files  [][][]byte // written to 0.log, 1.log, ...
		flags  []string
		code   int
		stdout string // regexp; $0, $1 stand for the files' paths
	}{
		{"intact", [][][]byte{lines}, []string{offline}, 0,
			fmt.Sprintf(`^OK: \$0: %d lines, seq 1..%d, chain intact\n$`, n, n)},
		{"edited line", [][][]byte{edited}, []string{offline}, exitLocal,
			`(?m)^BROKEN: \$0 line 5: prev_hmac does not match the line before \(seq 4\)`},
		{"deleted line", [][][]byte{cat(lines[:2], lines[3:])}, []string{offline}, exitLocal,
			`(?m)^BROKEN: \$0 line 3: seq 4 follows seq 2: 1 line\(s\) missing or reordered$`},
		{"reordered pair", [][][]byte{cat(lines[:2], lines[3], lines[2], lines[4:])}, []string{offline}, exitLocal,
			`(?m)^BROKEN: \$0 line 3: seq 4 follows seq 2`},
		{"inserted copy", [][][]byte{cat(lines[:3], lines[2], lines[3:])}, []string{offline}, exitLocal,
			`(?m)^BROKEN: \$0 line 4: seq 3 follows seq 3`},
		{"garbage line", [][][]byte{cat(lines[:1], []byte("not json"), lines[1:])}, []string{offline}, exitLocal,
			`(?m)^BROKEN: \$0 line 2: not an audit entry`},
		{"truncated tail", [][][]byte{lines[:n-3]}, []string{device}, exitLocal,
			fmt.Sprintf(`(?m)^TRUNCATED: the device has written up to seq \d+ but \$0 ends at seq %d$`, n-3)},
		{"rewritten with the key", [][][]byte{forge(key, rewritten, n+20)}, []string{device}, exitLocal,
			`(?m)^BROKEN: \$0 line \d+: not the line the device wrote as seq \d+ \(the log was rewritten from there\)$`},
		{"rotated", [][][]byte{lines[:4], lines[4:]}, []string{offline}, 0,
			fmt.Sprintf(`^OK: \$0: 4 lines, seq 1..4, chain intact\nOK: \$1: %d lines, seq 5..%d, chain intact\n$`, n-4, n)},
		{"rotated, a line lost between files", [][][]byte{lines[:4], lines[5:]}, []string{offline}, exitLocal,
			`(?m)^OK: \$0: .*\nBROKEN: \$1 line 1: seq 6 follows seq 4: 1 line\(s\) missing`},
		{"rotated, then a new chain", [][][]byte{lines, lines[:3]}, []string{offline}, 0,
			`(?m)^OK: \$1: 3 lines, seq 1..3, chain intact \(restarts at line 1\)$`},
		{"rotated, then a new chain, strict", [][][]byte{lines, lines[:3]}, []string{offline, "-strict"}, exitLocal,
			`(?m)^BROKEN: \$1 line 1: the chain restarts at seq 1 \(-strict\)$`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"audit", "verify"}, tc.flags...)
			want := tc.stdout
			for i, f := range tc.files {
				p := filepath.Join(dir, strconv.Itoa(i)+".log")
				writeLines(t, p, f)
				args = append(args, p)
				want = strings.ReplaceAll(want, fmt.Sprintf(`\$%d`, i), regexp.QuoteMeta(p))
			}
			code, out, errOut := e.run("", args...)
			if code != tc.code || !regexp.MustCompile(want).MatchString(out) {
				t.Fatalf("exit %d\n--- stdout\n%s--- stderr\n%s--- want exit %d, stdout %s", code, out, errOut, tc.code, want)
			}
		})
	}
}

// TestAuditVerifyLive verifies the device's own log against its head, also
// after a rotation, and checks the JSON report.
func TestAuditVerifyLive(t *testing.T) {
	e := newAuditEnv(t)
	e.enable(t)
	if out := e.must(t, "audit", "verify", "-device=file", e.log); !strings.Contains(out, "chain intact") {
		t.Fatalf("live log: %s", out)
	}
	var rep verifyReport
	if err := json.Unmarshal([]byte(e.must(t, "audit", "verify", "-format=json", "-device=file", e.log)), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Status != verifyOK || rep.HeadSeq == 0 || len(rep.Files) != 1 || rep.Files[0].LastSeq < rep.HeadSeq {
		t.Fatalf("json report: %+v", rep)
	}

	// Rotate: the older lines move to audit.log.1, and audit.log keeps the
	// rest in place (the device appends to the same file).
	lines := readLines(t, e.log)
	old := e.log + ".1"
	writeLines(t, old, lines[:5])
	writeLines(t, e.log, lines[5:])
	code, out, errOut := e.run("", "audit", "verify", "-device=file", old, e.log)
	if code != 0 || strings.Count(out, "chain intact") != 2 || errOut != "" {
		t.Fatalf("rotated: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = e.run("", "audit", "verify", "-device=file", e.log)
	if code != 0 || !strings.Contains(errOut, "starts at seq 6: its first line is taken on trust") {
		t.Fatalf("newest file alone: exit %d\n%s%s", code, out, errOut)
	}

	// Verifying with the server needs sudo on sys/audit-chain.
	tok := strings.TrimSpace(e.must(t, "token", "create", "-policy=default", "-field=token"))
	e.env["KINKO_TOKEN"] = tok
	code, _, errOut = e.run("", "audit", "verify", "-device=file", e.log)
	if code != exitAPI || !strings.Contains(errOut, "Error reading the hash chain of audit device file/") {
		t.Fatalf("without sudo: exit %d, %s", code, errOut)
	}
}

// FuzzAuditVerify feeds arbitrary logs to verify (they are untrusted
// input), twice in a row as if rotated: it must not fail or panic, must
// never accept a head it cannot match, and the head finder must see the
// same lines however the bytes are split.
func FuzzAuditVerify(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	first := []byte(`{"type":"request","request":{"path":"sys/health"},"seq":1,"prev_hmac":""}`)
	chain := forge(key, [][]byte{first}, 4)
	f.Add(append(bytes.Join(chain, []byte("\n")), '\n'), uint8(3), uint16(40))
	f.Add(bytes.Join(chain, []byte("\r\n")), uint8(4), uint16(7))
	f.Add([]byte("{\"seq\":2,\"prev_hmac\":\"\"}\n\n"), uint8(2), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, seq uint8, split uint16) {
		head := audit.Head{Seq: uint64(seq%8) + 1, HMAC: "hmac-sha256:none"}
		find := newHeadFinder(key, head.Seq)
		var prev *audit.Head
		for _, name := range []string{"a.log", "b.log"} {
			r, err := verifyOne(name, bytes.NewReader(data), key, prev, find)
			if err != nil {
				t.Fatal(err)
			}
			if r.Broken != 0 {
				return
			}
			if r.Lines > 0 {
				prev = &r.Last
			}
		}
		rep := &verifyReport{Status: verifyOK, OK: true}
		rep.checkHead(find, head, "b.log", prev)
		if rep.OK {
			t.Fatalf("accepted a head no line can match: %+v", rep)
		}
		whole, parts := newHeadFinder(key, head.Seq), newHeadFinder(key, head.Seq)
		whole.start("a.log")
		_, _ = whole.Write(data)
		whole.end()
		cut := int(split) % (len(data) + 1)
		parts.start("a.log")
		_, _ = parts.Write(data[:cut])
		_, _ = parts.Write(data[cut:])
		parts.end()
		if whole.found != parts.found || whole.at != parts.at || whole.mac != parts.mac || whole.line != parts.line {
			t.Fatalf("split at %d: %+v vs %+v", cut, whole, parts)
		}
	})
}
