package main

import (
	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
)

func newTokenCmd(c *cli) *cobra.Command {
	return group("token", "Interact with tokens",
		`Creates, inspects, renews and revokes tokens. Where a command takes a TOKEN
argument, "-" reads it from standard input so it stays out of shell history.`,
		`  $ kinko token create -policy=app -ttl=1h
  $ kinko token lookup
  $ kinko token revoke -self`,
		newTokenCreateCmd(c),
		newTokenLookupCmd(c),
		newTokenRenewCmd(c),
		newTokenRevokeCmd(c),
	)
}

type tokenCreateFlags struct {
	policies       []string
	ttl            durationValue
	explicitMaxTTL durationValue
	period         durationValue
	renewable      bool
	orphan         bool
	numUses        int
	displayName    string
	metadata       []string
	role           string
	tokenType      string
	field          string
}

func newTokenCreateCmd(c *cli) *cobra.Command {
	var f tokenCreateFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a new token",
		Long: `Creates a new token, a child of the calling token unless -orphan is
given. Its policies must be a subset of the caller's unless the caller is
root. With -role the token is created against a token role.`,
		Example: `  $ kinko token create -policy=app -ttl=1h
  $ kinko token create -policy=app -policy=metrics -period=24h -orphan
  $ kinko token create -metadata team=payments -display-name=ci -field=token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runTokenCreate(cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.policies, "policy", nil, "Policy to attach; repeat or comma-separate for several")
	fl.Var(&f.ttl, "ttl", "Initial time to live, e.g. 30m, 12h, 7d")
	fl.Var(&f.explicitMaxTTL, "explicit-max-ttl", "Hard lifetime limit the token cannot be renewed past")
	fl.Var(&f.period, "period", "Make a periodic token: each renewal resets its TTL to this period")
	fl.BoolVar(&f.renewable, "renewable", true, "Allow the token to be renewed")
	fl.BoolVar(&f.orphan, "orphan", false, "Create the token without a parent, so it survives its creator's revocation")
	fl.IntVar(&f.numUses, "num-uses", 0, "Number of uses after which the token is revoked (0: unlimited)")
	fl.StringVar(&f.displayName, "display-name", "", "Name to show for the token")
	fl.StringArrayVar(&f.metadata, "metadata", nil, "Metadata key=value to attach; repeatable")
	fl.StringVar(&f.role, "role", "", "Token role to create the token against")
	fl.StringVar(&f.tokenType, "type", "", "Token type: service or batch")
	addFieldFlag(cmd, &f.field)
	return cmd
}

func (c *cli) runTokenCreate(cmd *cobra.Command, f *tokenCreateFlags) error {
	meta, err := parseKVFlags("metadata", f.metadata)
	if err != nil {
		return fail(exitLocal, "Error: %s", err)
	}
	body := map[string]any{"renewable": f.renewable}
	if len(f.policies) > 0 {
		body["policies"] = f.policies
	}
	if meta != nil {
		body["meta"] = meta
	}
	fl := cmd.Flags()
	for name, v := range map[string]*durationValue{"ttl": &f.ttl, "explicit_max_ttl": &f.explicitMaxTTL, "period": &f.period} {
		if fl.Changed(flagFor(name)) {
			body[name] = v.seconds()
		}
	}
	if f.numUses > 0 {
		body["num_uses"] = f.numUses
	}
	if f.displayName != "" {
		body["display_name"] = f.displayName
	}
	if f.tokenType != "" {
		body["type"] = f.tokenType
	}
	path := "auth/token/create"
	switch {
	case f.role != "":
		path = "auth/token/create/" + sanitizePath(f.role)
		if f.orphan {
			body["no_parent"] = true
		}
	case f.orphan:
		path = "auth/token/create-orphan"
	}
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	secret, err := client.Write(cmdCtx(cmd), path, body)
	if err != nil {
		return fail(exitAPI, "Error creating token: %s", err)
	}
	if secret == nil {
		return fail(exitAPI, "Error creating token: empty response")
	}
	if f.field != "" {
		return c.printField(secretField(secret, f.field), f.field)
	}
	return c.outputSecret(secret)
}

// flagFor maps an API field name to its flag name (ttl → ttl,
// explicit_max_ttl → explicit-max-ttl).
func flagFor(field string) string {
	out := []byte(field)
	for i, b := range out {
		if b == '_' {
			out[i] = '-'
		}
	}
	return string(out)
}

func newTokenLookupCmd(c *cli) *cobra.Command {
	var accessor bool
	var field string
	cmd := &cobra.Command{
		Use:   "lookup [TOKEN | -]",
		Short: "Display information about a token",
		Long: `Displays information about a token: its policies, TTL, metadata and
more. Without TOKEN the calling token is looked up. With -accessor the
argument is a token accessor instead.`,
		Example: `  $ kinko token lookup
  $ kinko token lookup - < token.txt
  $ kinko token lookup -accessor 8609694a-cdbc-db9b-d345-e782dbb562ed`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			path, body, err := c.tokenTarget(args, accessor, "lookup")
			if err != nil {
				return err
			}
			var secret *api.Secret
			if body == nil {
				secret, err = client.Read(cmdCtx(cmd), path, nil)
			} else {
				secret, err = client.Write(cmdCtx(cmd), path, body)
			}
			if err != nil {
				return fail(exitAPI, "Error looking up token: %s", err)
			}
			if secret == nil {
				return fail(exitAPI, "Error looking up token: token not found")
			}
			return c.outputSecretOrField(secret, field)
		},
	}
	cmd.Flags().BoolVar(&accessor, "accessor", false, "Treat the argument as a token accessor")
	addFieldFlag(cmd, &field)
	return cmd
}

// tokenTarget picks the endpoint for a token operation on the calling token
// (no argument), a token, or an accessor. A nil body means "-self".
func (c *cli) tokenTarget(args []string, accessor bool, op string) (string, map[string]any, error) {
	if len(args) == 0 {
		if accessor {
			return "", nil, fail(exitLocal, "Not enough arguments: -accessor needs an accessor")
		}
		return "auth/token/" + op + "-self", nil, nil
	}
	val := args[0]
	if val == "-" {
		v, err := c.readSecret("")
		if err != nil {
			return "", nil, fail(exitLocal, "Error reading standard input: %s", err)
		}
		val = v
	}
	if accessor {
		return "auth/token/" + op + "-accessor", map[string]any{"accessor": val}, nil
	}
	return "auth/token/" + op, map[string]any{"token": val}, nil
}

func newTokenRenewCmd(c *cli) *cobra.Command {
	var accessor bool
	var increment durationValue
	var field string
	cmd := &cobra.Command{
		Use:   "renew [TOKEN | -]",
		Short: "Renew a token",
		Long: `Renews a token's lease, extending its TTL by -increment (or its default)
up to its maximum. Without TOKEN the calling token is renewed.`,
		Example: `  $ kinko token renew
  $ kinko token renew -increment=30m - < token.txt
  $ kinko token renew -accessor 8609694a-cdbc-db9b-d345-e782dbb562ed`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			path, body, err := c.tokenTarget(args, accessor, "renew")
			if err != nil {
				return err
			}
			if body == nil {
				body = map[string]any{}
			}
			if cmd.Flags().Changed("increment") {
				body["increment"] = int64(increment.d.Seconds())
			}
			secret, err := client.Write(cmdCtx(cmd), path, body)
			if err != nil {
				return fail(exitAPI, "Error renewing token: %s", err)
			}
			if field != "" && secret != nil {
				return c.printField(secretField(secret, field), field)
			}
			return c.outputSecret(secret)
		},
	}
	cmd.Flags().BoolVar(&accessor, "accessor", false, "Treat the argument as a token accessor")
	cmd.Flags().Var(&increment, "increment", "Requested extension of the TTL, e.g. 1h")
	addFieldFlag(cmd, &field)
	return cmd
}

func newTokenRevokeCmd(c *cli) *cobra.Command {
	var accessor, self bool
	var mode string
	cmd := &cobra.Command{
		Use:   "revoke [TOKEN | -]",
		Short: "Revoke a token and its children",
		Long: `Revokes a token, all its child tokens and their leases. With -mode=orphan
the children are kept (as orphans); with -mode=path the argument is a lease
path prefix and every token and lease below it is revoked.`,
		Example: `  $ kinko token revoke -self
  $ kinko token revoke - < token.txt
  $ kinko token revoke -accessor 8609694a-cdbc-db9b-d345-e782dbb562ed
  $ kinko token revoke -mode=path auth/userpass/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, body, err := c.revokeTarget(args, self, accessor, mode)
			if err != nil {
				return err
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			if _, err := client.Write(cmdCtx(cmd), path, body); err != nil {
				return fail(exitAPI, "Error revoking token: %s", err)
			}
			c.println("Success! Revoked token (if it existed)")
			return nil
		},
	}
	cmd.Flags().BoolVar(&self, "self", false, "Revoke the calling token")
	cmd.Flags().BoolVar(&accessor, "accessor", false, "Treat the argument as a token accessor")
	cmd.Flags().StringVar(&mode, "mode", "", `Revocation mode: "" (token and children), "orphan" or "path"`)
	return cmd
}

func (c *cli) revokeTarget(args []string, self, accessor bool, mode string) (string, map[string]any, error) {
	switch {
	case self && len(args) > 0:
		return "", nil, fail(exitLocal, "Tokens cannot be specified with -self")
	case self && (accessor || mode != ""):
		return "", nil, fail(exitLocal, "-self cannot be combined with -accessor or -mode")
	case self:
		return "auth/token/revoke-self", nil, nil
	case len(args) == 0:
		return "", nil, fail(exitLocal, "Not enough arguments (expected 1, got 0); use -self to revoke the calling token")
	case accessor && mode != "":
		return "", nil, fail(exitLocal, "-accessor cannot be combined with -mode")
	}
	switch mode {
	case "":
		return c.tokenTarget(args, accessor, "revoke")
	case "orphan":
		_, body, err := c.tokenTarget(args, false, "revoke")
		return "auth/token/revoke-orphan", body, err
	case "path":
		return "sys/leases/revoke-prefix/" + sanitizePath(args[0]), nil, nil
	}
	return "", nil, fail(exitLocal, "Invalid -mode %q: use orphan or path", mode)
}
