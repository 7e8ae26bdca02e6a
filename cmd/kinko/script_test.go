package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/secrets/database/dbtest"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// TestScripts runs the CLI scripts in testdata/*.txt. A script is a list of
// commands, one per line, followed by optional file sections:
//
//	# comment
//	server              start a real dev server (KV v2 at secret/); sets
//	                    $ADDR, $ROOT_TOKEN, $UNSEAL_KEY, KINKO_ADDR, KINKO_TOKEN
//	env NAME=VALUE      set an environment variable for later commands
//	kinko ARGS...       run the CLI; it must exit 0
//	! kinko ARGS...     run the CLI; it must exit non-zero
//	exit N              the last run exited with N
//	[!] stdout REGEX    the last run's stdout matches (or not) REGEX
//	[!] stderr REGEX    likewise for stderr
//	cmp stdout|stderr FILE  the output equals section FILE, after $VAR
//	                    expansion and with RFC 3339 times replaced by <time>
//	stdin FILE          the next run reads section FILE ($VAR-expanded) on stdin
//	capture NAME        $NAME = the last run's stdout, trimmed
//	skip REASON         skip the rest of the script (a known server gap)
//	require SERVER      postgres, mysql or redis must be reachable (else
//	                    skip; fail under CI=true); sets $PG_ADDR, ...
//	-- FILE --          starts a file section; sections are also written
//	                    to $WORK/FILE so commands can use key=@$WORK/FILE
//
// Arguments are split on blanks; single quotes group words; $NAME and
// ${NAME} expand. Without "server", KINKO_ADDR points at a closed port.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			runScript(t, f)
		})
	}
}

type scriptState struct {
	t        *testing.T
	env      map[string]string
	files    map[string]string
	stdin    string
	hasStdin bool
	ran      bool
	code     int
	stdout   string
	stderr   string
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	script, files := splitSections(string(data))
	work := t.TempDir()
	st := &scriptState{t: t, files: files, env: map[string]string{
		"WORK":       work,
		"HOME":       filepath.Join(work, "home"),
		"KINKO_ADDR": "http://127.0.0.1:1",
	}}
	if err := os.MkdirAll(st.env["HOME"], 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for i, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := st.exec(line); err != nil {
			t.Fatalf("%s:%d: %s\n> %s\n--- exit %d\n--- stdout:\n%s--- stderr:\n%s",
				file, i+1, err, line, st.code, st.stdout, st.stderr)
		}
	}
}

// splitSections separates the script from its "-- name --" file sections.
func splitSections(s string) (string, map[string]string) {
	files := map[string]string{}
	header := regexp.MustCompile(`(?m)^-- (\S+) --\n`)
	locs := header.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return s, files
	}
	for i, loc := range locs {
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		files[s[loc[2]:loc[3]]] = s[loc[1]:end]
	}
	return s[:locs[0][0]], files
}

func (st *scriptState) exec(line string) error {
	neg := false
	if rest, ok := strings.CutPrefix(line, "! "); ok {
		neg, line = true, rest
	}
	words := st.split(line)
	cmd, args := words[0], words[1:]
	switch cmd {
	case "server":
		st.startServer()
	case "env":
		k, v, _ := strings.Cut(strings.Join(args, " "), "=")
		st.env[k] = v
	case "kinko":
		st.run(args)
		if neg != (st.code != 0) {
			return fmt.Errorf("unexpected exit code %d", st.code)
		}
	case "exit":
		want, err := strconv.Atoi(args[0])
		if err != nil || !st.ran || st.code != want {
			return fmt.Errorf("exit code %d, want %s", st.code, args[0])
		}
	case "stdout", "stderr":
		return st.match(cmd, strings.Join(args, " "), neg)
	case "cmp":
		return st.cmp(args[0], args[1])
	case "stdin":
		content, ok := st.files[args[0]]
		if !ok {
			return fmt.Errorf("no file section %q", args[0])
		}
		st.stdin, st.hasStdin = os.Expand(content, func(k string) string { return st.env[k] }), true
	case "skip":
		st.t.Skip(strings.Join(args, " "))
	case "require":
		st.require(args[0])
	case "capture":
		st.env[args[0]] = strings.TrimSpace(st.stdout)
	default:
		return fmt.Errorf("unknown script command %q", cmd)
	}
	return nil
}

// require skips the script (fails it under CI=true) unless the named
// database server is reachable, and sets $PG_ADDR, $MYSQL_ADDR or
// $REDIS_ADDR.
func (st *scriptState) require(what string) {
	switch what {
	case "postgres":
		dbtest.Require(st.t, "PostgreSQL", dbtest.PostgresAddr)
		st.env["PG_ADDR"] = dbtest.PostgresAddr
	case "mysql":
		dbtest.Require(st.t, "MariaDB", dbtest.MySQLAddr)
		st.env["MYSQL_ADDR"] = dbtest.MySQLAddr
	case "redis":
		dbtest.Require(st.t, "Redis", dbtest.RedisAddr)
		st.env["REDIS_ADDR"] = dbtest.RedisAddr
	default:
		st.t.Fatalf("require: unknown server %q", what)
	}
}

func (st *scriptState) startServer() {
	srv := testserver.Start(st.t)
	st.env["ADDR"], st.env["KINKO_ADDR"] = srv.Addr, srv.Addr
	st.env["ROOT_TOKEN"], st.env["KINKO_TOKEN"] = srv.RootToken, srv.RootToken
	st.env["UNSEAL_KEY"] = srv.UnsealKey
}

func (st *scriptState) run(args []string) {
	var stdout, stderr bytes.Buffer
	var stdin *strings.Reader
	if st.hasStdin {
		stdin = strings.NewReader(st.stdin)
	} else {
		stdin = strings.NewReader("")
	}
	st.hasStdin = false
	c := newCLI(stdin, &stdout, &stderr, func(k string) string { return st.env[k] })
	st.code = run(context.Background(), args, c)
	st.stdout, st.stderr, st.ran = stdout.String(), stderr.String(), true
}

func (st *scriptState) match(stream, pattern string, neg bool) error {
	re, err := regexp.Compile("(?m)" + pattern)
	if err != nil {
		return err
	}
	out := st.stdout
	if stream == "stderr" {
		out = st.stderr
	}
	if re.MatchString(out) == neg {
		if neg {
			return fmt.Errorf("%s matches %q", stream, pattern)
		}
		return fmt.Errorf("%s does not match %q", stream, pattern)
	}
	return nil
}

var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

func (st *scriptState) cmp(stream, name string) error {
	want, ok := st.files[name]
	if !ok {
		return fmt.Errorf("no file section %q", name)
	}
	got := st.stdout
	if stream == "stderr" {
		got = st.stderr
	}
	got = rfc3339.ReplaceAllString(got, "<time>")
	want = os.Expand(want, func(k string) string { return st.env[k] })
	if got != want {
		return fmt.Errorf("%s differs from %s\n--- want:\n%s--- got:\n%s", stream, name, want, got)
	}
	return nil
}

// split splits a script line into words, honouring single quotes and
// expanding $NAME / ${NAME}.
func (st *scriptState) split(line string) []string {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			inQuote, inWord = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	for i, w := range words {
		words[i] = os.Expand(w, func(k string) string { return st.env[k] })
	}
	return words
}
