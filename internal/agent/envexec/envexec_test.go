package envexec_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/agent/envexec"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// TestMain makes the test binary the child program when run as one: it
// records its DB_PASSWORD and the signals it gets in KINKO_TEST_LOG, and
// exits with KINKO_TEST_EXIT if set, else at SIGTERM.
func TestMain(m *testing.M) {
	if log := os.Getenv("KINKO_TEST_LOG"); log != "" {
		os.Exit(child(log))
	}
	os.Exit(m.Run())
}

func child(log string) int {
	record := func(line string) {
		f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGHUP)
	record("start " + os.Getenv("DB_PASSWORD") + " " + os.Getenv("KEEP_ME"))
	if code := os.Getenv("KINKO_TEST_EXIT"); code != "" {
		n, _ := strconv.Atoi(code)
		return n
	}
	for s := range sigs {
		record("signal " + s.String())
		if s == syscall.SIGTERM {
			return 0
		}
	}
	return 0
}

type env struct {
	admin *vault.Client
	src   *api.Client
	log   string
	exe   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := testserver.Start(t)
	e := &env{admin: testserver.VaultClient(t, srv.Addr, srv.RootToken), log: filepath.Join(t.TempDir(), "child.log")}
	var err error
	if e.src, err = api.NewClient(&api.Config{Address: srv.Addr, Token: srv.RootToken}); err != nil {
		t.Fatal(err)
	}
	if e.exe, err = os.Executable(); err != nil {
		t.Fatal(err)
	}
	e.put(t, "pw-1")
	t.Setenv("KINKO_TEST_LOG", e.log)
	t.Setenv("KEEP_ME", "kept")
	return e
}

func (e *env) put(t *testing.T, pw string) {
	t.Helper()
	if _, err := e.admin.KVv2("secret").Put(context.Background(), "app", map[string]any{"password": pw}); err != nil {
		t.Fatal(err)
	}
}

// waitLog polls the child's log until it has line.
func (e *env) waitLog(t *testing.T, line string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(e.log)
		if strings.Contains(string(b), line+"\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child log lacks %q:\n%s", line, b)
		}
		time.Sleep(10 * time.Millisecond) // polling the child's log
	}
}

const pwTemplate = `{{ with secret "secret/data/app" }}{{ .Data.data.password }}{{ end }}`

func TestRestartOnRotationAndSignals(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := envexec.Run(ctx, envexec.Config{Vars: []envexec.Var{{Name: "DB_PASSWORD", Template: pwTemplate}},
			Command: []string{e.exe, "-test.run=^$"}, Source: e.src, Interval: 20 * time.Millisecond, Signals: sigs})
		done <- result{code, err}
	}()
	e.waitLog(t, "start pw-1 kept")
	sigs <- syscall.SIGUSR1
	e.waitLog(t, "signal user defined signal 1")
	e.put(t, "pw-2")
	e.waitLog(t, "signal terminated") // the old child is stopped...
	e.waitLog(t, "start pw-2 kept")   // ...and a new one started with the new value
	cancel()
	r := <-done
	if r.err != nil || r.code != 0 {
		t.Fatalf("Run: %d %v", r.code, r.err)
	}
}

func TestSignalInsteadOfRestart(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = envexec.Run(ctx, envexec.Config{Vars: []envexec.Var{{Name: "DB_PASSWORD", Template: pwTemplate}},
			Command: []string{e.exe, "-test.run=^$"}, Source: e.src, Interval: 20 * time.Millisecond,
			ChangeSignal: syscall.SIGHUP, Signals: make(chan os.Signal)})
	}()
	e.waitLog(t, "start pw-1 kept")
	e.put(t, "pw-2")
	e.waitLog(t, "signal hangup")
	cancel()
	<-done
	b, _ := os.ReadFile(e.log)
	if strings.Count(string(b), "start ") != 1 {
		t.Fatalf("the child was restarted:\n%s", b)
	}
}

func TestExitCodeAndErrors(t *testing.T) {
	e := newEnv(t)
	t.Setenv("KINKO_TEST_EXIT", "3")
	ctx := context.Background()
	cfg := envexec.Config{Vars: []envexec.Var{{Name: "DB_PASSWORD", Template: pwTemplate}}, Command: []string{e.exe, "-test.run=^$"},
		Source: e.src, Signals: make(chan os.Signal)}
	if code, err := envexec.Run(ctx, cfg); err != nil || code != 3 {
		t.Fatalf("child exit 3: got %d %v", code, err)
	}
	for _, tc := range []struct {
		vars    []envexec.Var
		command []string
		want    string
	}{
		{[]envexec.Var{{Name: "X", Template: `{{ with secret "secret/data/missing" }}{{ .Data }}{{ end }}`}}, cfg.Command, "secret not found"},
		{[]envexec.Var{{Name: "1X", Template: "x"}}, cfg.Command, "not valid"},
		{[]envexec.Var{{Name: "X", Template: "a"}, {Name: "X", Template: "b"}}, cfg.Command, "twice"},
		{[]envexec.Var{{Name: "X", Template: "{{ if }}"}}, cfg.Command, "missing value"},
		{nil, nil, "no command"},
		{nil, []string{"/nonexistent/program"}, "cannot start"},
	} {
		c := cfg
		c.Vars, c.Command = tc.vars, tc.command
		if code, err := envexec.Run(ctx, c); err == nil || code != 1 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %d %v, want an error about %q", tc.vars, tc.command, code, err, tc.want)
		}
	}
}
