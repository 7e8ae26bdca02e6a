package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
)

// authKind is the auth method table (sys/auth) for the shared mount
// commands in cmd_mounts.go.
var authKind = &mountKind{
	noun:       "auth method",
	aNoun:      "an auth method",
	table:      (*api.Client).AuthMethods,
	enabledMsg: "Success! Enabled %[1]s auth method at: %[2]s",
	enableErr:  "Error enabling %[1]s auth: %[2]s",
	listErr:    "Error listing enabled authentications: %s",
	docs: map[string]cmdDoc{
		"enable": {
			long: `Enables the auth method TYPE (userpass, approle, jwt, oidc, cert, ...) at
-path (default: the type name). Its API is then served at auth/<path>, and
users log in with "kinko login -method=TYPE -path=<path>".`,
			example: `  $ kinko auth enable userpass
  $ kinko auth enable -path=people -description="staff logins" -max-lease-ttl=12h userpass
  $ kinko auth enable -options=foo=bar approle`,
		},
		"disable": {
			long: `Disables the auth method mounted at PATH. Its configuration is deleted and
every token it issued is revoked.`,
			example: `  $ kinko auth disable userpass/`,
		},
		"list": {
			long: `Lists the enabled auth methods with their paths, types, accessors and
descriptions. -detailed adds TTLs, options, replication and UUIDs.`,
			example: `  $ kinko auth list
  $ kinko auth list -detailed
  $ kinko auth list -format=json`,
		},
		"tune": {
			long: `Changes the configuration of the auth method mounted at PATH: the default
and maximum TTL of the tokens it issues, its description and its options.`,
			example: `  $ kinko auth tune -default-lease-ttl=1h -max-lease-ttl=24h userpass/
  $ kinko auth tune -description="staff logins" people/`,
		},
	},
}

func newAuthCmd(c *cli) *cobra.Command {
	return group("auth", "Interact with auth methods",
		`Enables, disables, lists and tunes auth methods, and shows how to log in
with one. Each method is mounted at a path below auth/; "kinko login"
authenticates against it.`,
		`  $ kinko auth enable userpass
  $ kinko auth list
  $ kinko auth help userpass`,
		newMountEnableCmd(c, authKind),
		newMountDisableCmd(c, authKind),
		newMountListCmd(c, authKind),
		newMountTuneCmd(c, authKind),
		newAuthHelpCmd(c),
	)
}

func newAuthHelpCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "help TYPE | PATH",
		Short: "Show how to log in with an auth method",
		Long: `Prints how to log in with an auth method: the K=V parameters that
"kinko login -method=TYPE" takes. The argument is a method type (userpass,
approle, jwt, oidc, cert, token) or the path of an enabled method; for an
enabled method the server's help for auth/<path> follows.`,
		Example: `  $ kinko auth help userpass
  $ kinko auth help people/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runAuthHelp(cmdCtx(cmd), args[0])
		},
	}
}

func (c *cli) runAuthHelp(ctx context.Context, arg string) error {
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	path := ensureTrailingSlash(sanitizePath(arg))
	typ := sanitizePath(arg)
	mounts, listErr := client.AuthMethods().List(ctx)
	if m, ok := mounts[path]; ok {
		typ = m.Type
	} else {
		path = "" // a type without a mount of that name
	}
	method := loginMethods[typ]
	if method == nil && path == "" {
		if listErr != nil {
			return fail(exitAPI, "Error listing auth methods: %s", listErr)
		}
		return fail(exitLocal, "No auth method available on the server at %q", ensureTrailingSlash(sanitizePath(arg)))
	}
	if method != nil {
		c.println(method.help)
	} else {
		c.println(fmt.Sprintf("Usage: kinko login -method=%s -path=%s [K=V...]\n\n  The K=V parameters are "+
			"posted unchanged to auth/%slogin.", typ, strings.TrimSuffix(path, "/"), path))
	}
	if path == "" {
		return nil
	}
	help, err := client.Help(ctx, "auth/"+path)
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fail(exitAPI, "Error reading the help of auth/%s: %s", path, err)
	}
	if text := strings.TrimSpace(help.Help); text != "" {
		c.println()
		c.println(padEqualSigns("Server help for auth/"+path, maxLineLength))
		c.println()
		c.println(text)
	}
	return nil
}
