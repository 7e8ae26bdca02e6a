package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/internal/agent/envexec"
	"github.com/kinko-dev/kinko/internal/scan/refs"
)

func newRunCmd(c *cli) *cobra.Command {
	var (
		envs        []string
		envFiles    []string
		interval    time.Duration
		sig         string
		stopTimeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARGS...]",
		Short: "Run a program with secrets in its environment",
		Long: `Starts COMMAND with environment variables rendered from secrets, passes
on the signals kinko gets, and exits with the command's exit code (128+n
when a signal n killed it). Each -env NAME=TEMPLATE is a Go template with
the agent's template functions: secret "path" [key=value...] (a read, or
a write with arguments), env "NAME", parseJSON, toJSON, base64Encode,
base64Decode, trimSpace.

-env-file FILE adds the variables of a dotenv file (NAME=value lines).
References ${kinko:PATH#KEY} (as "kinko scan -vault" writes them) in -env
values, in -env-file values and in kinko's own environment are replaced by
the value KEY of the secret at PATH (e.g. secret/data/app); -env wins over
-env-file, which wins over the environment.

Every -interval the templates are rendered again; when a value changed
(a rotated secret), the command is stopped (SIGTERM, SIGKILL after
-stop-timeout) and started again with the new values, or, with -signal,
only sent that signal. Values are never printed; the rest of kinko's
environment is passed on unchanged.

Exit codes: the command's; 1 when kinko cannot render or start it.`,
		Example: `  $ kinko run -env 'DB_PASSWORD={{ with secret "secret/data/app" }}{{ .Data.data.password }}{{ end }}' -- ./server
  $ kinko run -env-file .env -- ./server   # .env: DB_PASSWORD=${kinko:secret/data/app#db_password}
  $ kinko run -env 'API_KEY={{ (secret "aws-sm/secrets/prod/api").Data.SecretString }}' -signal SIGHUP -- nginx -g 'daemon off;'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars, err := runVars(envs, envFiles, os.Environ())
			if err != nil {
				return err
			}
			cfg := envexec.Config{Vars: vars, Command: args, Interval: interval, StopTimeout: stopTimeout,
				Stdin: c.stdin, Stdout: c.stdout, Stderr: c.stderr}
			if sig != "" {
				s, ok := signalByName(sig)
				if !ok {
					return fail(exitLocal, "-signal %q: use a name such as SIGHUP, SIGUSR1, SIGTERM", sig)
				}
				cfg.ChangeSignal = s
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			cfg.Source = client
			// an interrupt is passed on to the command, which decides when to end
			code, err := envexec.Run(context.WithoutCancel(cmdCtx(cmd)), cfg)
			if err != nil {
				return fail(exitLocal, "Error: %s", err)
			}
			return exitCode(code)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&envs, "env", nil, "NAME=TEMPLATE: an environment variable rendered from secrets; repeatable")
	fl.StringArrayVar(&envFiles, "env-file", nil, "A dotenv FILE of variables to add, ${kinko:PATH#KEY} references resolved; repeatable")
	fl.DurationVar(&interval, "interval", time.Minute, "How often to render the templates again")
	fl.StringVar(&sig, "signal", "", "On a change, send this signal instead of restarting the command")
	fl.DurationVar(&stopTimeout, "stop-timeout", 10*time.Second, "How long a stopping command may take before SIGKILL")
	return cmd
}

func signalByName(name string) (os.Signal, bool) {
	s, ok := map[string]syscall.Signal{"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
		"TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2}[strings.TrimPrefix(strings.ToUpper(name), "SIG")]
	return s, ok
}

// runVars builds the variables of "kinko run": -env templates (with
// ${kinko:PATH#KEY} references turned into template actions), then the
// variables of each -env-file and those of environ holding references,
// as literal text around their references. A name set earlier wins.
func runVars(envs, envFiles, environ []string) ([]envexec.Var, error) {
	var vars []envexec.Var
	seen := map[string]bool{}
	add := func(name, tmpl string) {
		if !seen[name] {
			seen[name] = true
			vars = append(vars, envexec.Var{Name: name, Template: tmpl})
		}
	}
	for _, e := range envs {
		name, tmpl, ok := strings.Cut(e, "=")
		if !ok {
			return nil, fail(exitLocal, "-env %q: want NAME=TEMPLATE", name)
		}
		if seen[name] {
			return nil, fail(exitLocal, "-env %s is given twice", name)
		}
		add(name, refs.Template(tmpl, false))
	}
	for _, f := range envFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fail(exitLocal, "-env-file: %s", err)
		}
		list, err := refs.ParseDotenv(data)
		if err != nil {
			return nil, fail(exitLocal, "-env-file %s: %s", f, err)
		}
		for _, v := range list {
			add(v.Name, refs.Template(v.Value, true))
		}
	}
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if refs.Contains(val) {
			add(name, refs.Template(val, true))
		}
	}
	return vars, nil
}
