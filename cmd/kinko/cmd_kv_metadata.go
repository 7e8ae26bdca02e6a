package main

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/spf13/cobra"
)

func newKVMetadataCmd(c *cli) *cobra.Command {
	return group("metadata", "Interact with a secret's metadata (KV v2)",
		`Reads, writes and deletes the metadata of KV v2 secrets: settings such as
max-versions and cas-required, custom metadata, and the version history.`,
		`  $ kinko kv metadata get secret/app
  $ kinko kv metadata put -max-versions=10 secret/app`,
		newKVMetadataGetCmd(c),
		newKVMetadataPutCmd(c),
		newKVMetadataDeleteCmd(c),
	)
}

// kvMetadataTarget resolves arg and refuses KV v1 mounts.
func (c *cli) kvMetadataTarget(cmd *cobra.Command, k *kvCommon, arg string) (string, error) {
	client, err := c.apiClient()
	if err != nil {
		return "", err
	}
	t, err := resolveKV(cmdCtx(cmd), client, k.mount, arg)
	if err != nil {
		return "", err
	}
	if !t.v2 {
		return "", fail(exitLocal, "Metadata not supported on KV Version 1")
	}
	return t.apiPath("metadata"), nil
}

func newKVMetadataGetCmd(c *cli) *cobra.Command {
	var k kvCommon
	cmd := &cobra.Command{
		Use:   "get [flags] PATH",
		Short: "Show a secret's metadata and versions",
		Long:  `Shows the metadata of the secret at PATH and the state of each version.` + "\n" + kvPathHelp,
		Example: `  $ kinko kv metadata get secret/app
  $ kinko kv metadata get -mount=secret -field=current_version app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			full, err := c.kvMetadataTarget(cmd, &k, args[0])
			if err != nil {
				return err
			}
			secret, err := c.client.Read(cmdCtx(cmd), full, nil)
			if err != nil {
				return fail(exitAPI, "Error reading %s: %s", full, err)
			}
			if secret == nil {
				return fail(exitAPI, "No value found at %s", full)
			}
			if k.field != "" {
				return c.printField(secretField(secret, k.field), k.field)
			}
			if c.isJSON() {
				return c.outputSecret(secret)
			}
			versions, _ := secret.Data["versions"].(map[string]any)
			meta := make(map[string]any, len(secret.Data))
			for key, v := range secret.Data {
				if key != "versions" {
					meta[key] = v
				}
			}
			c.printWarnings(secret)
			c.printPath(full, "Metadata Path")
			c.println(headerForMap("Metadata", meta))
			if err := c.outputMap(meta); err != nil {
				return err
			}
			return c.printVersions(versions)
		},
	}
	k.register(cmd, true)
	return cmd
}

// printVersions prints each version's state in ascending version order.
func (c *cli) printVersions(versions map[string]any) error {
	nums := make([]int, 0, len(versions))
	for key := range versions {
		if n, err := strconv.Atoi(key); err == nil {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		v, _ := versions[strconv.Itoa(n)].(map[string]any)
		c.println()
		c.println(headerForMap(fmt.Sprintf("Version %d", n), v))
		if err := c.outputMap(v); err != nil {
			return err
		}
	}
	return nil
}

func newKVMetadataPutCmd(c *cli) *cobra.Command {
	var k kvCommon
	var maxVersions int
	var casRequired bool
	var deleteAfter durationValue
	var custom []string
	cmd := &cobra.Command{
		Use:   "put [flags] PATH",
		Short: "Create or update a secret's metadata",
		Long: `Sets the metadata of the secret at PATH. Only the flags given are changed.
-custom-metadata replaces the whole custom metadata map.` + "\n" + kvPathHelp,
		Example: `  $ kinko kv metadata put -max-versions=5 -cas-required secret/app
  $ kinko kv metadata put -delete-version-after=720h secret/app
  $ kinko kv metadata put -custom-metadata=owner=payments -custom-metadata=tier=1 secret/app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			body := map[string]any{}
			if fl.Changed("max-versions") {
				if maxVersions < 0 {
					return fail(exitLocal, "-max-versions must not be negative")
				}
				body["max_versions"] = maxVersions
			}
			if fl.Changed("cas-required") {
				body["cas_required"] = casRequired
			}
			if fl.Changed("delete-version-after") {
				body["delete_version_after"] = deleteAfter.seconds()
			}
			if fl.Changed("custom-metadata") {
				m, err := parseKVFlags("custom-metadata", custom)
				if err != nil {
					return fail(exitLocal, "Error: %s", err)
				}
				body["custom_metadata"] = m
			}
			full, err := c.kvMetadataTarget(cmd, &k, args[0])
			if err != nil {
				return err
			}
			secret, err := c.client.Write(cmdCtx(cmd), full, body)
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
	fl := cmd.Flags()
	fl.IntVar(&maxVersions, "max-versions", 0, "Number of versions to keep (0: the mount's setting)")
	fl.BoolVar(&casRequired, "cas-required", false, "Require check-and-set (-cas) on every write")
	fl.Var(&deleteAfter, "delete-version-after", "Delete versions this long after they were written (0: never)")
	fl.StringArrayVar(&custom, "custom-metadata", nil, "Custom metadata key=value; repeatable")
	return cmd
}

func newKVMetadataDeleteCmd(c *cli) *cobra.Command {
	var k kvCommon
	cmd := &cobra.Command{
		Use:   "delete [flags] PATH",
		Short: "Delete a secret with all its versions and metadata",
		Long: `Permanently deletes the secret at PATH: every version, its data and its
metadata.` + "\n" + kvPathHelp,
		Example: `  $ kinko kv metadata delete secret/app`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			full, err := c.kvMetadataTarget(cmd, &k, args[0])
			if err != nil {
				return err
			}
			if _, err := c.client.Delete(cmdCtx(cmd), full); err != nil {
				return fail(exitAPI, "Error deleting %s: %s", full, err)
			}
			c.println("Success! Data deleted (if it existed) at: " + full)
			return nil
		},
	}
	k.register(cmd, false)
	return cmd
}
