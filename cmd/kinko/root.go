package main

import (
	"time"

	"github.com/spf13/cobra"
)

// newRootCmd builds the whole command tree for one invocation.
func newRootCmd(c *cli) *cobra.Command {
	root := &cobra.Command{
		Use:   "kinko",
		Short: "kinko is a self-hosted secrets server that speaks Vault's API",
		Long: `kinko is a self-hosted secrets server that speaks HashiCorp Vault's HTTP API.
This command runs the server and is its command-line client; the client
commands and flags follow the Vault CLI, and accept -flag as well as --flag.

The server address comes from -address, KINKO_ADDR or VAULT_ADDR
(default https://127.0.0.1:8200). The token comes from -token, KINKO_TOKEN
or VAULT_TOKEN, or the file ~/.kinko-token written by "kinko login".
-wrap-ttl asks the server to wrap any response in a single-use token that
"kinko unwrap" opens.

Exit codes: 0 success, 1 local or usage error, 2 error from the server.`,
		Example: `  $ kinko status
  $ kinko login
  $ kinko kv put secret/app password=@password.txt
  $ kinko kv get -field=password secret/app`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: c.validateGlobals,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&c.address, "address", "", "Address of the server (env KINKO_ADDR, VAULT_ADDR)")
	pf.StringVar(&c.token, "token", "", "Token to authenticate with; prefer KINKO_TOKEN or \"kinko login\", as flags are visible to other local users")
	pf.StringVar(&c.caCert, "ca-cert", "", "PEM file of the CA that signed the server certificate (env KINKO_CACERT, VAULT_CACERT)")
	pf.BoolVar(&c.skipVerify, "tls-skip-verify", false, "Do not verify the server certificate (insecure; env KINKO_SKIP_VERIFY)")
	pf.StringVar(&c.format, "format", "", "Output format: table or json (env KINKO_FORMAT, VAULT_FORMAT)")
	pf.StringVar(&c.clientCert, "client-cert", "", "PEM file of a TLS client certificate to present, for cert auth (env KINKO_CLIENT_CERT, VAULT_CLIENT_CERT)")
	pf.StringVar(&c.clientKey, "client-key", "", "PEM file of the private key of -client-cert (env KINKO_CLIENT_KEY, VAULT_CLIENT_KEY)")
	pf.Var(&c.wrapTTL, "wrap-ttl", "Wrap the response in a single-use token living this long, e.g. 5m; read it with \"kinko unwrap\" (env KINKO_WRAP_TTL, VAULT_WRAP_TTL)")

	root.AddCommand(
		newServerCmd(c),
		newOperatorCmd(c),
		newStatusCmd(c),
		newLoginCmd(c),
		newAuthCmd(c),
		newTokenCmd(c),
		newPolicyCmd(c),
		newSecretsCmd(c),
		newKVCmd(c),
		newReadCmd(c),
		newWriteCmd(c),
		newDeleteCmd(c),
		newListCmd(c),
		newUnwrapCmd(c),
		newAuditCmd(c),
		newLeaseCmd(c),
		newRunCmd(c),
		newAgentCmd(c),
		newSealFileCmd(c),
		newUnsealFileCmd(c),
		newEditFileCmd(c),
		newExecFileCmd(c),
		newTransitCmd(c),
		newSSHCmd(c),
		newScanCmd(c),
		newPKICmd(c),
	)
	return root
}

// validateGlobals resolves -format against the environment and rejects
// unknown formats.
func (c *cli) validateGlobals(cmd *cobra.Command, _ []string) error {
	if c.format == "" {
		c.format = c.getenv("KINKO_FORMAT")
	}
	if c.format == "" {
		c.format = c.getenv("VAULT_FORMAT")
	}
	if c.format == "" {
		c.format = "table"
	}
	if c.format != "table" && c.format != "json" {
		return fail(exitLocal, "Invalid output format: %s (use table or json)", c.format)
	}
	if c.wrapTTL.d > 0 && c.wrapTTL.d < time.Second {
		return fail(exitLocal, "Invalid -wrap-ttl: use a duration of at least 1s, e.g. 5m")
	}
	return nil
}

// addFieldFlag adds -field to a command that prints one response.
func addFieldFlag(cmd *cobra.Command, target *string) {
	cmd.Flags().StringVar(target, "field", "", "Print only the named field, without a trailing newline when piped")
}

// group builds a parent command that only holds subcommands.
func group(use, short, long, example string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}
