package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/internal/agent"
	"github.com/kinko-dev/kinko/internal/agent/envexec"
)

type agentFlags struct {
	config, logLevel, logFormat string
	command                     []string // kinko agent exec -- COMMAND
}

// newAgentCmd builds `kinko agent`.
func newAgentCmd(c *cli) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "agent -config=FILE",
		Short: "Run the agent: auto-auth, a caching proxy and an AWS Secrets Manager Agent endpoint",
		Long: `Runs the kinko agent next to an application, so the application never holds
long-lived credentials. The agent logs in on its own (AppRole with role and
secret ID files, the secret ID optionally response-wrapped; JWT read from
a file a platform refreshes; or a TLS client certificate), renews its token,
logs in again when it must (at once when kinko refuses the token), and
writes the token to sink files (mode 0600). It serves:

  - listener "tcp": a caching proxy of kinko's Vault API. Requests go on
    with the caller's own X-Vault-Token if it sent one, else with the
    agent's (cache { use_auto_auth_token = true | "force" | false }
    changes this); reads are cached per token (ttl, LRU max_entries),
    re-read every refresh_interval so rotated secrets arrive within it,
    leased secrets kept and renewed until their lease ends, and served
    from the cache while the server is down.
  - aws_secrets_manager: the AWS Secrets Manager Agent's API (GET
    /secretsmanager/get?secretId=NAME and /v1/NAME, default port 2773)
    over kinko's aws-sm engine.

Every request must carry the agent token (agent_token { file | env }) in
X-Kinko-Agent-Token or X-Vault-Token (X-Aws-Parameters-Secrets-Token on
the AWS endpoint); forwarded requests and other hosts are refused unless
allow_forwarded = true. The config is Vault Agent's HCL; -config=- reads it
from standard input. The server address comes from the vault (or kinko)
block, else -address, KINKO_ADDR or VAULT_ADDR; -address, -ca-cert and
-tls-skip-verify override the block. With exit_after_auth = true the agent
logs in, writes its sinks and exits.

Exit codes: 0 after SIGINT/SIGTERM (or exit_after_auth), 1 on a bad
config or a listener that cannot start.`,
		Example: `  $ kinko agent -config=/etc/kinko/agent.hcl
  $ curl -H "X-Kinko-Agent-Token: $(cat /etc/kinko/agent-token)" http://127.0.0.1:8100/v1/secret/data/app
  $ curl -H "X-Aws-Parameters-Secrets-Token: $AWS_TOKEN" 'http://127.0.0.1:2773/secretsmanager/get?secretId=prod/db'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAgent(cmd, c, f) },
	}
	addAgentFlags(cmd, &f)
	cmd.AddCommand(newAgentExecCmd(c))
	return cmd
}

func addAgentFlags(cmd *cobra.Command, f *agentFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", `path to the agent's HCL configuration ("-" reads standard input)`)
	fl.StringVar(&f.logLevel, "log-level", "", "log level: debug, info, warn, error (default: the config's log_level, else info)")
	fl.StringVar(&f.logFormat, "log-format", "", "log format: standard or json (default: the config's log_format, else standard)")
}

// newAgentExecCmd builds "kinko agent exec": the agent as a process
// supervisor (Vault Agent's exec mode).
func newAgentExecCmd(c *cli) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "exec -config=FILE [-- COMMAND [ARGS...]]",
		Short: "Run a program with the agent's env_template secrets in its environment",
		Long: `Runs the agent (auto-auth and whatever else its config serves) and starts
COMMAND (or the config's exec { command = [...] }) with the variables of
its env_template "NAME" { contents = "..." } blocks in its environment,
rendered with the agent's token. Signals are passed on to the command;
every template_config static_secret_render_interval the variables are
rendered again, and when one changed the command is restarted (exec
restart_on_secret_changes = "always", the default; restart_stop_signal,
SIGTERM by default, stops it) or left alone ("never"). The agent exits
with the command's exit code. Values are never printed.`,
		Example: `  $ kinko agent exec -config=/etc/kinko/agent.hcl -- ./server --port 8080`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.command = args
			return runAgent(cmd, c, f)
		},
	}
	addAgentFlags(cmd, &f)
	return cmd
}

func runAgent(cmd *cobra.Command, c *cli, f agentFlags) error {
	cfg, err := loadAgentConfig(c, f.config)
	if err != nil {
		return err
	}
	if c.address != "" {
		cfg.Vault.Address = c.address
	}
	if c.caCert != "" {
		cfg.Vault.CACert = c.caCert
	}
	cfg.Vault.TLSSkipVerify = cfg.Vault.TLSSkipVerify || c.skipVerify
	level, format := firstNonEmpty(f.logLevel, cfg.LogLevel), firstNonEmpty(f.logFormat, cfg.LogFormat)
	logger, err := newLogger(c.stderr, level, format)
	if err != nil {
		return fail(exitLocal, "Error: %s", err)
	}
	ctx, stop := signal.NotifyContext(cmdCtx(cmd), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := agent.Start(ctx, cfg, agent.Options{Logger: logger, Getenv: c.getenv})
	if err != nil {
		return fail(exitLocal, "Error starting the agent: %s", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Close(sctx)
	}()
	if cfg.ExitAfterAuth {
		if _, err := a.Auth.WaitToken(ctx); err != nil {
			return fail(exitLocal, "Error: stopped before logging in")
		}
		return nil
	}
	if cfg.Exec != nil || len(f.command) > 0 {
		return superviseChild(cmd, c, cfg, a, f.command)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-a.Err():
		return fail(exitLocal, "Error: %s", err)
	}
}

// loadAgentConfig reads the config file, or standard input for "-".
func loadAgentConfig(c *cli, path string) (*agent.Config, error) {
	if path == "" {
		return nil, fail(exitLocal, "Error: -config is required (see kinko agent --help)")
	}
	var text []byte
	var err error
	if path == "-" {
		text, err = io.ReadAll(io.LimitReader(c.stdin, 1<<20+1))
	} else {
		text, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fail(exitLocal, "Error reading the config: %s", err)
	}
	cfg, err := agent.ParseConfig(string(text))
	if err != nil {
		return nil, fail(exitLocal, "Error in %s: %s", displayName(path), err)
	}
	return cfg, nil
}

func displayName(path string) string {
	if path == "-" {
		return "the config on standard input"
	}
	return path
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// superviseChild runs the exec command (or command) with the
// env_template variables and returns its exit code.
func superviseChild(cmd *cobra.Command, c *cli, cfg *agent.Config, a *agent.Agent, command []string) error {
	x := cfg.Exec
	if x == nil {
		x = &agent.ExecConfig{RestartOnSecretChanges: "always"}
	}
	if len(command) == 0 {
		command = x.Command
	}
	if len(command) == 0 {
		return fail(exitLocal, "Error: no command: give one after -- or in exec { command = [...] }")
	}
	ec := envexec.Config{Vars: cfg.EnvTemplates, Command: command, Source: a.Source(), Interval: cfg.TemplateInterval,
		Stdin: c.stdin, Stdout: c.stdout, Stderr: c.stderr}
	if x.RestartStopSignal != "" {
		s, ok := signalByName(x.RestartStopSignal)
		if !ok {
			return fail(exitLocal, "Error: restart_stop_signal %q: use a name such as SIGTERM", x.RestartStopSignal)
		}
		ec.StopSignal = s
	}
	if x.RestartOnSecretChanges == "never" {
		ec.ChangeSignal = syscall.Signal(0) // a no-op: the child keeps running untouched
	}
	// signals reach the child, which decides when to end
	code, err := envexec.Run(context.WithoutCancel(cmdCtx(cmd)), ec)
	if err != nil {
		return fail(exitLocal, "Error: %s", err)
	}
	return exitCode(code)
}
