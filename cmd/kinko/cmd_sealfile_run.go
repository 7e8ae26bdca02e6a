package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/internal/sealfile"
)

func newEditFileCmd(c *cli) *cobra.Command {
	var fo sealFileOpts
	cmd := &cobra.Command{
		Use:   "edit-file [flags] FILE",
		Short: "Edit a sealed file in $EDITOR and seal it again",
		Long: `Verifies and decrypts FILE into a file only you can read (mode 0600, in a
new private 0700 directory), opens it in $EDITOR (default vi), and seals
the result back over FILE. The temporary directory is removed however the
command ends, also on error or SIGTERM/SIGHUP. A file whose MAC does not
verify is refused.

The edited file is sealed under the same data key and key sources, so
neither the server nor the recipients' keys are needed again, and values
you did not change keep their exact tokens: the diff shows only what you
changed. For a fresh data key, unseal the file and seal it again.` + "\n" + sealFileIdentityHelp,
		Example: `  $ kinko edit-file -age-identity key.txt config.yaml
  $ EDITOR="code --wait" kinko edit-file .env`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			if file == "-" {
				return fail(exitLocal, "edit-file needs a file, not standard input")
			}
			o, err := c.openSealed(cmdCtx(cmd), file, &fo)
			if err != nil {
				return err
			}
			defer o.Close()
			return c.editSealed(file, o)
		},
	}
	fo.register(cmd, true)
	return cmd
}

// editSealed runs the editor on the plaintext and writes the resealed
// file; it asks to edit again when the result does not parse and stdin is
// a terminal. SIGTERM and SIGHUP end it without saving, and the private
// directory is removed in every case but SIGKILL.
func (c *cli) editSealed(file string, o *sealfile.Opened) error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	dir, err := os.MkdirTemp("", "kinko-edit-")
	if err != nil {
		return fail(exitLocal, "Error creating a private directory: %s", unwrapPathErr(err))
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(file))
	if err := writeNew(tmp, o.Plaintext()); err != nil {
		return err
	}
	for {
		if err := c.runEditor(tmp, sigs); err != nil {
			return err
		}
		edited, err := os.ReadFile(tmp)
		if err != nil {
			return fail(exitLocal, "Error reading the edited file: %s", unwrapPathErr(err))
		}
		if bytes.Equal(edited, o.Plaintext()) {
			c.warn("No changes; " + file + " is unchanged.")
			return nil
		}
		sealed, err := o.Reseal(edited, nil)
		if err == nil {
			select {
			case s := <-sigs:
				return fail(exitLocal, "Interrupted by %s; %s is unchanged", s, file)
			default:
			}
			return writeFileKeepMode(file, sealed)
		}
		if !isTerminal(c.stdin) || !c.askEditAgain(err) {
			return fail(exitLocal, "Error: %s; %s is unchanged", err, file)
		}
	}
}

// writeNew creates a new file with mode 0600 and writes data.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fail(exitLocal, "Error creating the temporary file: %s", unwrapPathErr(err))
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(exitLocal, "Error writing the temporary file: %s", unwrapPathErr(err))
	}
	return nil
}

func (c *cli) askEditAgain(err error) bool {
	fmt.Fprintf(c.stderr, "Error: %s\nPress Enter to edit the file again, or type q and Enter to discard your changes: ", err)
	line, rerr := bufio.NewReader(c.stdin).ReadString('\n')
	return rerr == nil && strings.TrimSpace(line) == ""
}

// runEditor runs $EDITOR (words split on blanks) on path. SIGINT is left
// to the editor, as git does; a signal on sigs is passed on and ends the
// edit without saving.
func (c *cli) runEditor(path string, sigs <-chan os.Signal) error {
	words := strings.Fields(c.getenv("EDITOR"))
	if len(words) == 0 {
		words = []string{"vi"}
	}
	ed := exec.Command(words[0], append(words[1:], path)...)
	ed.Stdin, ed.Stdout, ed.Stderr = c.stdin, c.stdout, c.stderr
	if err := ed.Start(); err != nil {
		return fail(exitLocal, "Error starting the editor %s: %s", words[0], unwrapPathErr(err))
	}
	done := make(chan error, 1)
	go func() { done <- ed.Wait() }()
	var got os.Signal
	for {
		select {
		case s := <-sigs:
			got = s
			_ = ed.Process.Signal(s)
		case err := <-done:
			if got != nil {
				return fail(exitLocal, "Interrupted by %s; the file is unchanged", got)
			}
			if err != nil {
				return fail(exitLocal, "The editor failed (%s); the file is unchanged", err)
			}
			return nil
		}
	}
}

func newExecFileCmd(c *cli) *cobra.Command {
	var fo sealFileOpts
	cmd := &cobra.Command{
		Use:   "exec-file [flags] FILE -- COMMAND [ARGS...]",
		Short: "Run a program with the values of a sealed file in its environment",
		Long: `Verifies and decrypts FILE and starts COMMAND with its values added to
kinko's environment; signals kinko gets are passed on, and kinko exits
with the command's exit code (128+n when signal n killed it). Values are
never printed.

Names: for .env files the names as they are; for a Kubernetes Secret the
names under data (decoded from base64) and stringData; otherwise the path
of each value with its keys and list indexes joined by "_" and
upper-cased (db.password becomes DB_PASSWORD, servers[0].host
SERVERS_0_HOST).

Exit codes: the command's; 1 when kinko cannot open the file or start
the command, 2 when the server failed.` + "\n" + sealFileIdentityHelp,
		Example: `  $ kinko exec-file -age-identity key.txt .env -- ./server
  $ kinko exec-file config.yaml -- sh -c 'psql "postgres://app:$DB_PASSWORD@db/app"'`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash != -1 && dash != 1 {
				return fail(exitLocal, "Usage: kinko exec-file [flags] FILE -- COMMAND [ARGS...]")
			}
			o, err := c.openSealed(cmdCtx(cmd), args[0], &fo)
			if err != nil {
				return err
			}
			vars, err := o.Env()
			o.Close()
			if err != nil {
				return fail(exitLocal, "Error: %s", err)
			}
			code, err := c.execWithEnv(args[1:], vars)
			if err != nil {
				return err
			}
			return exitCode(code)
		},
	}
	fo.register(cmd, true)
	return cmd
}

var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// execWithEnv runs argv with vars over this process's environment,
// passes signals on, and returns its exit code.
func (c *cli) execWithEnv(argv []string, vars []sealfile.EnvVar) (int, error) {
	set := make(map[string]bool, len(vars))
	for _, v := range vars {
		if v.Name == "" || strings.ContainsAny(v.Name, "=\x00") {
			return 1, fail(exitLocal, "Error: %q cannot be an environment variable name", v.Name)
		}
		if strings.ContainsRune(v.Value, 0) {
			return 1, fail(exitLocal, "Error: the value of %s contains a NUL byte and cannot be passed in the environment", v.Name)
		}
		set[v.Name] = true
	}
	env := make([]string, 0, len(os.Environ())+len(vars))
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !set[k] {
			env = append(env, kv)
		}
	}
	for _, v := range vars {
		env = append(env, v.Name+"="+v.Value)
	}
	child := exec.Command(argv[0], argv[1:]...)
	child.Env = env
	child.Stdin, child.Stdout, child.Stderr = c.stdin, c.stdout, c.stderr
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		return 1, fail(exitLocal, "Error: cannot start %s: %s", argv[0], unwrapPathErr(err))
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	for {
		select {
		case s := <-sigs:
			_ = child.Process.Signal(s)
		case err := <-done:
			return childExitCode(err), nil
		}
	}
}

// childExitCode is the child's exit code, 128+n when signal n killed it.
func childExitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}
