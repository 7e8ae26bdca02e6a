package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/internal/agent/envexec"
)

func newRunCmd(c *cli) *cobra.Command {
	var (
		envs        []string
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

Every -interval the templates are rendered again; when a value changed
(a rotated secret), the command is stopped (SIGTERM, SIGKILL after
-stop-timeout) and started again with the new values, or, with -signal,
only sent that signal. Values are never printed; the rest of kinko's
environment is passed on unchanged.

Exit codes: the command's; 1 when kinko cannot render or start it.`,
		Example: `  $ kinko run -env 'DB_PASSWORD={{ with secret "secret/data/app" }}{{ .Data.data.password }}{{ end }}' -- ./server
  $ kinko run -env 'API_KEY={{ (secret "aws-sm/secrets/prod/api").Data.SecretString }}' -signal SIGHUP -- nginx -g 'daemon off;'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var vars []envexec.Var
			for _, e := range envs {
				name, tmpl, ok := strings.Cut(e, "=")
				if !ok {
					return fail(exitLocal, "-env %q: want NAME=TEMPLATE", name)
				}
				vars = append(vars, envexec.Var{Name: name, Template: tmpl})
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
