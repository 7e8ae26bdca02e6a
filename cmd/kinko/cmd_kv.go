package main

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
)

const kvDataHelp = `
Data is given as K=V arguments: key=value, key=@file (the file's contents),
key=- (all of standard input), or a lone "-" to read a JSON object from
standard input, so secret values need not appear in shell history or ps.`

const kvPathHelp = `
The path is either "mount/path" (secret/app) or, with -mount=secret, just
"path" (app). Whether the mount runs KV version 1 or 2 is detected.`

func newKVCmd(c *cli) *cobra.Command {
	return group("kv", "Interact with the key/value secrets engine",
		`Reads and writes secrets in key/value (KV) secrets engines, version 1 or 2.
Version 2 keeps a history of versions; delete, undelete and destroy act on
versions, and metadata manages a secret's settings and history.`+"\n"+kvPathHelp,
		`  $ kinko kv put secret/app password=@password.txt
  $ kinko kv get -field=password secret/app
  $ kinko kv metadata get secret/app`,
		newKVPutCmd(c),
		newKVGetCmd(c),
		newKVPatchCmd(c),
		newKVListCmd(c),
		newKVDeleteCmd(c),
		newKVUndeleteCmd(c),
		newKVDestroyCmd(c),
		newKVMetadataCmd(c),
	)
}

// kvCommon holds the flags most kv commands share.
type kvCommon struct {
	mount string
	field string
}

func (k *kvCommon) register(cmd *cobra.Command, withField bool) {
	cmd.Flags().StringVar(&k.mount, "mount", "", `Mount path of the KV engine; the argument is then the path below it`)
	if withField {
		addFieldFlag(cmd, &k.field)
	}
}

func newKVPutCmd(c *cli) *cobra.Command {
	var k kvCommon
	var cas int
	cmd := &cobra.Command{
		Use:   "put [flags] PATH K=V...",
		Short: "Create or update a secret",
		Long: `Writes the data to PATH, replacing what was there. On KV v2 this creates a
new version; -cas makes the write conditional on the current version
(0: only if the secret does not exist yet).` + "\n" + kvDataHelp + "\n" + kvPathHelp,
		Example: `  $ kinko kv put secret/app user=admin password=@password.txt
  $ kinko kv put -mount=secret app token=-  < token.txt
  $ echo '{"user":"admin","port":5432}' | kinko kv put secret/db -
  $ kinko kv put -cas=0 secret/app user=admin`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fail(exitLocal, "Not enough arguments (expected >1, got 0)")
			}
			if len(args) == 1 {
				return fail(exitLocal, "Must supply data")
			}
			data, err := newDataParser(c.stdin).parse(args[1:])
			if err != nil {
				return fail(exitLocal, "Failed to parse K=V data: %s", err)
			}
			casSet := cmd.Flags().Changed("cas") && cas >= 0
			return c.kvWrite(cmd, &k, args[0], data, casSet, cas)
		},
	}
	k.register(cmd, true)
	cmd.Flags().IntVar(&cas, "cas", -1, "Check-and-set: write only if the current version is this (KV v2)")
	return cmd
}

// kvWrite writes data (put) and prints the result like Vault.
func (c *cli) kvWrite(cmd *cobra.Command, k *kvCommon, arg string, data map[string]any, casSet bool, cas int) error {
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	t, err := resolveKV(cmdCtx(cmd), client, k.mount, arg)
	if err != nil {
		return err
	}
	full := t.apiPath("data")
	body := data
	if t.v2 {
		opts := map[string]any{}
		if casSet {
			opts["cas"] = cas
		}
		body = map[string]any{"data": data, "options": opts}
	}
	secret, err := client.Write(cmdCtx(cmd), full, body)
	if err != nil {
		return fail(exitAPI, "Error writing data to %s: %s", full, err)
	}
	return c.kvPrintWritten(full, secret, k.field)
}

func (c *cli) kvPrintWritten(full string, secret *api.Secret, field string) error {
	if wrapped, err := c.outputWrapped(secret, field); wrapped {
		return err
	}
	if secret == nil {
		if !c.isJSON() {
			c.println("Success! Data written to: " + full)
		}
		return nil
	}
	if field != "" {
		return c.printField(secretField(secret, field), field)
	}
	if c.isJSON() {
		return c.outputSecret(secret)
	}
	c.printWarnings(secret)
	c.printPath(full, "Secret Path")
	c.println(headerForMap("Metadata", secret.Data))
	return c.outputMap(secret.Data)
}

// printPath prints a path under a centred title, as Vault's kv commands do.
func (c *cli) printPath(p, title string) {
	c.println(padEqualSigns(title, len(p)))
	c.println(p)
	c.println()
}

func newKVGetCmd(c *cli) *cobra.Command {
	var k kvCommon
	var version int
	cmd := &cobra.Command{
		Use:   "get [flags] PATH",
		Short: "Read a secret",
		Long: `Reads the secret at PATH: on KV v2 the latest version (or -version) with
its metadata.` + "\n" + kvPathHelp,
		Example: `  $ kinko kv get secret/app
  $ kinko kv get -mount=secret -version=2 app
  $ kinko kv get -field=password secret/app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			t, err := resolveKV(cmdCtx(cmd), client, k.mount, args[0])
			if err != nil {
				return err
			}
			full := t.apiPath("data")
			var q url.Values
			if t.v2 && version > 0 {
				q = url.Values{"version": {strconv.Itoa(version)}}
			}
			secret, err := client.Read(cmdCtx(cmd), full, q)
			if err != nil {
				return fail(exitAPI, "Error reading %s: %s", full, err)
			}
			if secret == nil {
				return fail(exitAPI, "No value found at %s", full)
			}
			return c.kvPrintSecret(t, full, secret, k.field)
		},
	}
	k.register(cmd, true)
	cmd.Flags().IntVar(&version, "version", 0, "Version to read (KV v2; default: latest)")
	return cmd
}

func (c *cli) kvPrintSecret(t *kvTarget, full string, secret *api.Secret, field string) error {
	if wrapped, err := c.outputWrapped(secret, field); wrapped {
		return err
	}
	if field != "" {
		data := kvSecretData(secret, t.v2)
		if t.v2 && data == nil {
			return fail(exitAPI, "No data found at %s", full)
		}
		if t.v2 && field == "data" {
			if _, ok := data["data"]; !ok {
				return c.printField(data, field)
			}
		}
		if !t.v2 {
			return c.printField(secretField(secret, field), field)
		}
		return c.printField(data[field], field)
	}
	if c.isJSON() {
		return c.outputSecret(secret)
	}
	c.printWarnings(secret)
	if t.v2 {
		c.printPath(full, "Secret Path")
	}
	if md, ok := secret.Data["metadata"].(map[string]any); ok && t.v2 {
		c.println(headerForMap("Metadata", md))
		if err := c.outputMap(md); err != nil {
			return err
		}
		c.println()
	}
	data := kvSecretData(secret, t.v2)
	if data != nil {
		c.println(headerForMap("Data", data))
		return c.outputMap(data)
	}
	return nil
}

func newKVListCmd(c *cli) *cobra.Command {
	var k kvCommon
	cmd := &cobra.Command{
		Use:   "list [flags] PATH",
		Short: "List secrets under a path",
		Long:  `Lists the keys under PATH. Keys ending in "/" are folders.` + "\n" + kvPathHelp,
		Example: `  $ kinko kv list secret/
  $ kinko kv list -mount=secret apps/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			t, err := resolveKV(cmdCtx(cmd), client, k.mount, args[0])
			if err != nil {
				return err
			}
			full := ensureTrailingSlash(t.apiPath("metadata"))
			secret, err := client.List(cmdCtx(cmd), full)
			if err != nil {
				return fail(exitAPI, "Error listing %s: %s", full, err)
			}
			if wrapped, err := c.outputWrapped(secret, ""); wrapped {
				return err
			}
			if secret == nil || secret.Data["keys"] == nil {
				return fail(exitAPI, "No value found at %s", full)
			}
			return c.outputList(secret)
		},
	}
	k.register(cmd, false)
	return cmd
}

func newKVPatchCmd(c *cli) *cobra.Command {
	var k kvCommon
	var cas int
	var method string
	var remove []string
	cmd := &cobra.Command{
		Use:   "patch [flags] PATH [K=V...]",
		Short: "Update some keys of a secret (KV v2)",
		Long: `Changes only the given keys of the secret at PATH, keeping the others, and
writes the result as a new version. -method=patch sends a JSON merge patch;
-method=rw reads the secret, merges locally and writes it back with
check-and-set on the version read. -remove-data deletes keys.` + "\n" + kvDataHelp + "\n" + kvPathHelp,
		Example: `  $ kinko kv patch secret/app password=@new-password.txt
  $ kinko kv patch -cas=3 secret/app port=5433
  $ kinko kv patch -remove-data=old_key secret/app`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fail(exitLocal, "Not enough arguments (expected >1, got 0)")
			}
			if len(args) == 1 && len(remove) == 0 {
				return fail(exitLocal, "Must supply data")
			}
			data, err := newDataParser(c.stdin).parse(args[1:])
			if err != nil {
				return fail(exitLocal, "Failed to parse K=V data: %s", err)
			}
			p := kvPatch{k: &k, data: data, remove: remove, method: method, cas: cas,
				casSet: cmd.Flags().Changed("cas") && cas >= 0}
			return c.runKVPatch(cmd, &p, args[0])
		},
	}
	k.register(cmd, true)
	cmd.Flags().IntVar(&cas, "cas", -1, "Check-and-set: patch only if the current version is this")
	cmd.Flags().StringVar(&method, "method", "patch", "How to patch: patch (server-side merge) or rw (read, merge, write)")
	cmd.Flags().StringArrayVar(&remove, "remove-data", nil, "Key to remove from the secret; repeatable")
	return cmd
}

type kvPatch struct {
	k      *kvCommon
	data   map[string]any
	remove []string
	method string
	cas    int
	casSet bool
}

func (c *cli) runKVPatch(cmd *cobra.Command, p *kvPatch, arg string) error {
	if p.method != "patch" && p.method != "rw" {
		return fail(exitLocal, "Invalid -method %q: use patch or rw", p.method)
	}
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	t, err := resolveKV(cmdCtx(cmd), client, p.k.mount, arg)
	if err != nil {
		return err
	}
	if !t.v2 {
		return fail(exitAPI, "K/V engine mount must be version 2 for patch support")
	}
	full := t.apiPath("data")
	var secret *api.Secret
	if p.method == "rw" {
		secret, err = c.kvReadMergeWrite(cmd, client, full, p)
	} else {
		data := p.data
		for _, key := range p.remove {
			data[key] = nil // null deletes the key in a JSON merge patch
		}
		opts := map[string]any{}
		if p.casSet {
			opts["cas"] = p.cas
		}
		secret, err = client.Patch(cmdCtx(cmd), full, map[string]any{"data": data, "options": opts})
		if err != nil {
			err = fail(exitAPI, "Error writing data to %s: %s", full, err)
		}
	}
	if err != nil {
		return err
	}
	return c.kvPrintWritten(full, secret, p.k.field)
}

func (c *cli) kvReadMergeWrite(cmd *cobra.Command, client *api.Client, full string, p *kvPatch) (*api.Secret, error) {
	cur, err := client.WithoutWrapping().Read(cmdCtx(cmd), full, nil)
	if err != nil {
		return nil, fail(exitAPI, "Error doing pre-read at %s: %s", full, err)
	}
	existing := map[string]any{}
	if cur != nil {
		if d := kvSecretData(cur, true); d != nil {
			existing = d
		}
	}
	if cur == nil || len(existing) == 0 {
		return nil, fail(exitAPI, "No value found at %s", full)
	}
	for k, v := range p.data {
		existing[k] = v
	}
	for _, k := range p.remove {
		delete(existing, k)
	}
	cas := p.cas
	if !p.casSet {
		md, _ := cur.Data["metadata"].(map[string]any)
		n, err := strconv.Atoi(fmt.Sprint(md["version"]))
		if err != nil {
			return nil, fail(exitAPI, "Error: the secret's metadata holds no version for check-and-set")
		}
		cas = n
	}
	body := map[string]any{"data": existing, "options": map[string]any{"cas": cas}}
	secret, err := client.Write(cmdCtx(cmd), full, body)
	if err != nil {
		return nil, fail(exitAPI, "Error writing data to %s: %s", full, err)
	}
	return secret, nil
}
