package main

import (
	"net/url"

	"github.com/spf13/cobra"
)

func newReadCmd(c *cli) *cobra.Command {
	var field string
	cmd := &cobra.Command{
		Use:   "read [flags] PATH [K=V...]",
		Short: "Read data at any path",
		Long: `Reads the data at PATH (GET /v1/PATH) and prints it. K=V arguments are sent
as query parameters.`,
		Example: `  $ kinko read sys/mounts
  $ kinko read -field=policy sys/policies/acl/default
  $ kinko read secret/data/app version=2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			params, err := newDataParser(c.stdin).parseStrings(args[1:])
			if err != nil {
				return fail(exitLocal, "Failed to parse K=V data: %s", err)
			}
			q := url.Values{}
			for k, v := range params {
				q.Set(k, v)
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := sanitizePath(args[0])
			secret, err := client.Read(cmdCtx(cmd), p, q)
			if err != nil {
				return fail(exitAPI, "Error reading %s: %s", p, err)
			}
			if secret == nil {
				return fail(exitAPI, "No value found at %s", p)
			}
			return c.outputSecretOrField(secret, field)
		},
	}
	addFieldFlag(cmd, &field)
	return cmd
}

func newWriteCmd(c *cli) *cobra.Command {
	var field string
	var force bool
	cmd := &cobra.Command{
		Use:   "write [flags] PATH [K=V...]",
		Short: "Write data to any path",
		Long: `Writes the data to PATH (PUT /v1/PATH) and prints the response, if any.
-force allows a write without data.` + "\n" + kvDataHelp,
		Example: `  $ kinko write auth/token/create policies=app ttl=1h
  $ kinko write -force sys/rotate
  $ kinko write secret/app password=@password.txt`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && !force {
				return fail(exitLocal, "Must supply data or use -force")
			}
			data, err := newDataParser(c.stdin).parse(args[1:])
			if err != nil {
				return fail(exitLocal, "Failed to parse K=V data: %s", err)
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := sanitizePath(args[0])
			secret, err := client.Write(cmdCtx(cmd), p, data)
			if err != nil {
				return fail(exitAPI, "Error writing data to %s: %s", p, err)
			}
			if secret == nil {
				if !c.isJSON() {
					c.println("Success! Data written to: " + p)
				}
				return nil
			}
			return c.outputSecretOrField(secret, field)
		},
	}
	addFieldFlag(cmd, &field)
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Allow the write without data")
	return cmd
}

func newDeleteCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "delete PATH",
		Short:   "Delete data at any path",
		Long:    `Deletes the data at PATH (DELETE /v1/PATH).`,
		Example: `  $ kinko delete secret/app`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := sanitizePath(args[0])
			secret, err := client.Delete(cmdCtx(cmd), p)
			if err != nil {
				return fail(exitAPI, "Error deleting %s: %s", p, err)
			}
			if secret != nil && len(secret.Data) > 0 {
				return c.outputSecret(secret)
			}
			c.println("Success! Data deleted (if it existed) at: " + p)
			return nil
		},
	}
}

func newListCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "list PATH",
		Short: "List data or secrets at any path",
		Long:  `Lists the keys under PATH (LIST /v1/PATH/). Keys ending in "/" are folders.`,
		Example: `  $ kinko list secret/metadata/
  $ kinko list auth/token/accessors`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := ensureTrailingSlash(sanitizePath(args[0]))
			secret, err := client.List(cmdCtx(cmd), p)
			if err != nil {
				return fail(exitAPI, "Error listing %s: %s", p, err)
			}
			if wrapped, err := c.outputWrapped(secret, ""); wrapped {
				return err
			}
			if secret == nil || secret.Data["keys"] == nil {
				return fail(exitAPI, "No value found at %s", p)
			}
			return c.outputList(secret)
		},
	}
}
