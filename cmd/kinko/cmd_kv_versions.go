package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// parseVersions turns -versions values ("1,2" or repeated) into integers.
func parseVersions(values []string) ([]int, error) {
	var out []int
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := strconv.Atoi(part)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("invalid version %q: versions are positive integers", part)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

func newKVDeleteCmd(c *cli) *cobra.Command {
	var k kvCommon
	var versions []string
	cmd := &cobra.Command{
		Use:   "delete [flags] PATH",
		Short: "Delete a secret (its latest version on KV v2)",
		Long: `Deletes the secret at PATH. On KV v2 this soft-deletes the latest version
(or the -versions given); "kv undelete" restores them, "kv destroy" removes
their data for good.` + "\n" + kvPathHelp,
		Example: `  $ kinko kv delete secret/app
  $ kinko kv delete -versions=1,2 secret/app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := parseVersions(versions)
			if err != nil {
				return fail(exitLocal, "Error: %s", err)
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			t, err := resolveKV(cmdCtx(cmd), client, k.mount, args[0])
			if err != nil {
				return err
			}
			full := t.apiPath("data")
			switch {
			case len(vs) > 0 && !t.v2:
				return fail(exitLocal, "-versions is only supported on KV version 2")
			case len(vs) > 0:
				full = t.apiPath("delete")
				_, err = client.Write(cmdCtx(cmd), full, map[string]any{"versions": vs})
			default:
				_, err = client.Delete(cmdCtx(cmd), full)
			}
			if err != nil {
				return fail(exitAPI, "Error deleting %s: %s", full, err)
			}
			c.println("Success! Data deleted (if it existed) at: " + full)
			return nil
		},
	}
	k.register(cmd, false)
	cmd.Flags().StringSliceVar(&versions, "versions", nil, "Versions to delete, comma-separated (KV v2)")
	return cmd
}

func newKVUndeleteCmd(c *cli) *cobra.Command {
	return newKVVersionsCmd(c, "undelete", "Restore deleted versions of a secret (KV v2)",
		`Restores the -versions of the secret at PATH that were soft-deleted.`,
		`  $ kinko kv undelete -versions=3 secret/app`)
}

func newKVDestroyCmd(c *cli) *cobra.Command {
	return newKVVersionsCmd(c, "destroy", "Permanently remove versions of a secret (KV v2)",
		`Permanently removes the data of the -versions of the secret at PATH. The
versions' metadata is kept and marked destroyed; the data cannot be restored.`,
		`  $ kinko kv destroy -versions=1,2 secret/app`)
}

// newKVVersionsCmd builds undelete and destroy, which share their shape:
// PUT <mount>/<op>/<path> {"versions": [...]}.
func newKVVersionsCmd(c *cli, op, short, long, example string) *cobra.Command {
	var k kvCommon
	var versions []string
	cmd := &cobra.Command{
		Use:     op + " [flags] PATH",
		Short:   short,
		Long:    long + "\n" + kvPathHelp,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := parseVersions(versions)
			if err != nil {
				return fail(exitLocal, "Error: %s", err)
			}
			if len(vs) == 0 {
				return fail(exitLocal, "No versions provided, use the \"-versions\" flag to specify the version to %s.", op)
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			t, err := resolveKV(cmdCtx(cmd), client, k.mount, args[0])
			if err != nil {
				return err
			}
			if !t.v2 {
				return fail(exitLocal, "%s is only supported on KV version 2", op)
			}
			full := t.apiPath(op)
			secret, err := client.Write(cmdCtx(cmd), full, map[string]any{"versions": vs})
			if err != nil {
				return fail(exitAPI, "Error writing data to %s: %s", full, err)
			}
			if secret != nil {
				return c.outputSecret(secret)
			}
			c.println("Success! Data written to: " + full)
			return nil
		},
	}
	k.register(cmd, false)
	cmd.Flags().StringSliceVar(&versions, "versions", nil, "Versions to "+op+", comma-separated")
	return cmd
}
