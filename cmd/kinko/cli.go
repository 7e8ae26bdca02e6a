package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/atomicfile"
)

// Exit codes, as the Vault CLI uses them.
const (
	exitOK    = 0
	exitLocal = 1 // usage or local error
	exitAPI   = 2 // the server answered with an error (or, for status, is sealed)
)

// tokenFileName is the token helper file in the user's home directory.
const tokenFileName = ".kinko-token"

// cli carries what every command needs: the I/O streams, the environment,
// the global flag values and the lazily built API client. One cli serves one
// invocation; it is not shared between goroutines.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string

	address    string
	token      string
	caCert     string
	skipVerify bool
	format     string
	clientCert string
	clientKey  string
	wrapTTL    durationValue

	client        *api.Client
	hasClientCert bool // the client presents a TLS client certificate
}

func newCLI(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *cli {
	return &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
}

// exitError ends a command with an exit code; msg (if any) goes to stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// fail returns an exitError with a formatted message.
func fail(code int, format string, a ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, a...)}
}

// exitCode returns an exitError that prints nothing (the output is done).
func exitCode(code int) error { return &exitError{code: code} }

// run executes one CLI invocation and returns its exit code.
func run(ctx context.Context, args []string, c *cli) int {
	root := newRootCmd(c)
	root.SetArgs(normalizeArgs(root, args))
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(c.stderr, ee.msg)
		}
		return ee.code
	}
	// Errors from cobra itself: unknown command or flag, bad arguments.
	fmt.Fprintf(c.stderr, "Error: %s\n", err)
	fmt.Fprintln(c.stderr, "Run with --help for usage.")
	return exitLocal
}

// apiClient returns the client for this invocation, built from the global
// flags over the environment. The token comes from -token, else
// KINKO_TOKEN/VAULT_TOKEN, else the token helper file.
func (c *cli) apiClient() (*api.Client, error) {
	if c.client != nil {
		return c.client, nil
	}
	cfg := api.ConfigFromEnv(c.getenv)
	if c.address != "" {
		cfg.Address = c.address
	}
	if c.caCert != "" {
		cfg.TLS.CACert = c.caCert
	}
	if c.skipVerify {
		cfg.TLS.Insecure = true
	}
	if c.clientCert != "" || c.clientKey != "" {
		cfg.TLS.ClientCert, cfg.TLS.ClientKey = c.clientCert, c.clientKey
	}
	if c.wrapTTL.d > 0 {
		cfg.WrapTTL = c.wrapTTL.seconds()
	}
	switch {
	case c.token != "":
		cfg.Token = c.token
	case cfg.Token == "":
		tok, err := c.readTokenFile()
		if err != nil {
			return nil, fail(exitLocal, "Error reading the stored token: %s", err)
		}
		cfg.Token = tok
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fail(exitLocal, "Error creating the API client: %s", err)
	}
	c.client, c.hasClientCert = client, cfg.TLS.ClientCert != ""
	return client, nil
}

// tokenFilePath returns ~/.kinko-token.
func (c *cli) tokenFilePath() (string, error) {
	home := c.getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		home = h
	}
	return filepath.Join(home, tokenFileName), nil
}

// readTokenFile returns the stored token, or "" when none is stored.
func (c *cli) readTokenFile() (string, error) {
	p, err := c.tokenFilePath()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// storeToken writes the token helper file with mode 0600, atomically: a
// temporary file in the same directory is renamed over the old one.
func (c *cli) storeToken(token string) error {
	p, err := c.tokenFilePath()
	if err != nil {
		return err
	}
	return atomicfile.Write(p, []byte(token), 0o600)
}

// ctx returns the command's context (never nil).
func cmdCtx(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// isJSON reports whether -format=json was chosen.
func (c *cli) isJSON() bool { return c.format == "json" }

// println writes one line to stdout.
func (c *cli) println(a ...any) { fmt.Fprintln(c.stdout, a...) }

// warn writes one line to stderr.
func (c *cli) warn(a ...any) { fmt.Fprintln(c.stderr, a...) }
