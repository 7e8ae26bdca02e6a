package main

import (
	"github.com/spf13/cobra"
)

func newUnwrapCmd(c *cli) *cobra.Command {
	var field string
	cmd := &cobra.Command{
		Use:   "unwrap [flags] [TOKEN | -]",
		Short: "Unwrap a wrapped secret",
		Long: `Returns the response guarded by a wrapping token and spends the token, so
a wrapped secret can be read exactly once (PUT sys/wrapping/unwrap).

Without TOKEN the calling token (from -token, KINKO_TOKEN or the stored
token) is the wrapping token; "-" reads the wrapping token from standard
input so it stays out of shell history. Wrapped responses come from any
command run with -wrap-ttl.`,
		Example: `  $ kinko -wrap-ttl=5m kv get -field=wrapping_token secret/app > wrapped.txt
  $ kinko unwrap - < wrapped.txt
  $ KINKO_TOKEN=$WRAPPING_TOKEN kinko unwrap
  $ kinko unwrap -field=password hvs.CAESI...`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			token := ""
			if len(args) == 1 {
				t, err := c.secretArg(args, "")
				if err != nil {
					return fail(exitLocal, "Error reading the wrapping token: %s", err)
				}
				token = t
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			secret, err := client.Unwrap(cmdCtx(cmd), token)
			if err != nil {
				return fail(exitAPI, "Error unwrapping: %s", err)
			}
			if secret == nil {
				return fail(exitAPI, "Could not find wrapped response")
			}
			if field != "" {
				return c.printField(secretField(secret, field), field)
			}
			if _, ok := secret.Data["keys"].([]any); ok && len(secret.Data) == 1 && secret.WrapInfo == nil {
				return c.outputList(secret)
			}
			return c.outputSecret(secret)
		},
	}
	addFieldFlag(cmd, &field)
	return cmd
}
