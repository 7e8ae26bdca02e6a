// Package envexec runs a program with secrets in its environment, as
// envconsul and "berglas exec" do: each variable is a template
// (internal/agent/template) rendered from kinko; the child is started with
// them added to this process's environment, signals sent to this process
// are passed on to it, and when a re-render (every Interval) changes a
// value the child is restarted with the new environment (or only
// signalled, when Restart is false). Run returns the child's exit code.
// Values are never printed.
package envexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kinko-dev/kinko/internal/agent/template"
)

// Var is one environment variable and its template.
type Var struct {
	Name     string
	Template string
}

// Config configures Run.
type Config struct {
	Vars    []Var
	Command []string
	Source  template.Source
	// Interval between re-renders (default 1m).
	Interval time.Duration
	// Restart (default when ChangeSignal is nil): on a change, stop the
	// child with StopSignal (default SIGTERM; SIGKILL after StopTimeout,
	// default 10s) and start it again with the new values. Otherwise
	// ChangeSignal is sent and the child keeps its environment (it is
	// expected to re-read its secrets some other way).
	ChangeSignal os.Signal
	StopSignal   os.Signal
	StopTimeout  time.Duration
	// Signals to pass on to the child; signal.Notify for the usual ones
	// when nil.
	Signals <-chan os.Signal
	Stdin   io.Reader // os.Stdin when nil
	Stdout  io.Writer // os.Stdout when nil
	Stderr  io.Writer // os.Stderr when nil
	Logger  *slog.Logger
}

var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

type runner struct {
	c     Config
	tmpls []*template.Template
	log   *slog.Logger
}

// Run renders the variables, starts the command and supervises it until
// it exits (its exit code is returned; 128+n when killed by signal n) or
// ctx ends (the child is stopped; the code is then the child's).
func Run(ctx context.Context, c Config) (int, error) {
	if len(c.Command) == 0 {
		return 1, errors.New("no command to run")
	}
	r := &runner{c: c, log: c.Logger}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.c.Interval <= 0 {
		r.c.Interval = time.Minute
	}
	if r.c.StopSignal == nil {
		r.c.StopSignal = syscall.SIGTERM
	}
	if r.c.StopTimeout <= 0 {
		r.c.StopTimeout = 10 * time.Second
	}
	seen := map[string]bool{}
	for _, v := range c.Vars {
		if !validName(v.Name) {
			return 1, fmt.Errorf("environment variable name %q is not valid (letters, digits and _, not starting with a digit)", v.Name)
		}
		if seen[v.Name] {
			return 1, fmt.Errorf("environment variable %s is given twice", v.Name)
		}
		seen[v.Name] = true
		t, err := template.Parse(v.Name, v.Template)
		if err != nil {
			return 1, err
		}
		r.tmpls = append(r.tmpls, t)
	}
	sigs := c.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 8)
		signal.Notify(ch, forwarded...)
		defer signal.Stop(ch)
		sigs = ch
	}
	values, err := r.render(ctx)
	if err != nil {
		return 1, err
	}
	child, err := r.start(values)
	if err != nil {
		return 1, err
	}
	tick := time.NewTicker(r.c.Interval)
	defer tick.Stop()
	for {
		select {
		case <-child.done:
			return child.code(), nil
		case s := <-sigs:
			_ = child.cmd.Process.Signal(s)
		case <-ctx.Done():
			r.stop(child)
			return child.code(), nil
		case <-tick.C:
			next, err := r.render(ctx)
			if err != nil {
				r.log.Warn("run: re-rendering the environment failed; the child keeps running with its values", "error", err)
				continue
			}
			if maps.Equal(next, values) {
				continue
			}
			changed := changedNames(values, next)
			values = next
			if r.c.ChangeSignal != nil {
				r.log.Info("run: secrets changed; signalling the child", "variables", changed, "signal", r.c.ChangeSignal.String())
				_ = child.cmd.Process.Signal(r.c.ChangeSignal)
				continue
			}
			r.log.Info("run: secrets changed; restarting the child", "variables", changed)
			r.stop(child)
			if child, err = r.start(values); err != nil {
				return 1, err
			}
		}
	}
}

func (r *runner) render(ctx context.Context) (map[string]string, error) {
	out := make(map[string]string, len(r.tmpls))
	for i, t := range r.tmpls {
		b, err := t.Render(ctx, r.c.Source)
		if err != nil {
			return nil, err
		}
		out[r.c.Vars[i].Name] = string(b)
	}
	return out, nil
}

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (c *child) code() int {
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if c.err != nil {
		return 1
	}
	return 0
}

func (r *runner) start(values map[string]string) (*child, error) {
	cmd := exec.Command(r.c.Command[0], r.c.Command[1:]...)
	env := make([]string, 0, len(os.Environ())+len(values))
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, set := values[k]; !set {
			env = append(env, kv)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		env = append(env, name+"="+values[name])
	}
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r.c.Stdin, r.c.Stdout, r.c.Stderr
	if cmd.Stdin == nil {
		cmd.Stdin = os.Stdin
	}
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", r.c.Command[0], err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// stop sends StopSignal, then SIGKILL after StopTimeout, and waits.
func (r *runner) stop(c *child) {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(r.c.StopSignal)
	t := time.NewTimer(r.c.StopTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		r.log.Warn("run: the child did not stop in time; killing it", "timeout", r.c.StopTimeout)
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func changedNames(a, b map[string]string) []string {
	var out []string
	for k, v := range b {
		if a[k] != v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func validName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
