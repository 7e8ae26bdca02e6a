package main

import (
	"strings"

	"github.com/spf13/cobra"
)

func newLeaseCmd(c *cli) *cobra.Command {
	return group("lease", "Interact with leases",
		`Looks up, renews and revokes the leases of dynamic secrets (database
credentials and the like). A lease ID is the path that created the secret
followed by a random part, e.g. database/creds/app/Xg8k2...`,
		`  $ kinko lease lookup database/creds/app/Xg8k2
  $ kinko lease renew -increment=1h database/creds/app/Xg8k2
  $ kinko lease revoke database/creds/app/Xg8k2
  $ kinko lease revoke -prefix database/creds/app
  $ kinko lease list database/creds/app`,
		newLeaseLookupCmd(c),
		newLeaseRenewCmd(c),
		newLeaseRevokeCmd(c),
		newLeaseListCmd(c),
	)
}

func newLeaseLookupCmd(c *cli) *cobra.Command {
	var field string
	cmd := &cobra.Command{
		Use:   "lookup [flags] LEASE_ID",
		Short: "Show a lease's issue and expiry time, TTL and whether it can be renewed",
		Long: `Shows a lease: when it was issued, when it expires, its TTL, when it was
last renewed and whether it can be renewed. A lease whose revocation failed
also shows the attempts so far, the last error and the next attempt.`,
		Example: `  $ kinko lease lookup -format=json database/creds/app/Xg8k2`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			secret, err := client.Write(cmdCtx(cmd), "sys/leases/lookup", map[string]any{"lease_id": strings.TrimSpace(args[0])})
			if err != nil {
				return fail(exitAPI, "Error looking up lease: %s", err)
			}
			if secret == nil {
				return fail(exitAPI, "Error looking up lease: empty response")
			}
			return c.outputSecretOrField(secret, field)
		},
	}
	addFieldFlag(cmd, &field)
	return cmd
}

func newLeaseRenewCmd(c *cli) *cobra.Command {
	var increment durationValue
	var field string
	cmd := &cobra.Command{
		Use:   "renew [flags] LEASE_ID",
		Short: "Extend a lease",
		Long: `Renews a lease: asks the engine that issued it to extend it by -increment
from now (the engine's default TTL when not given). The TTL granted may be
shorter: it is capped by the role's and the mount's max TTL.`,
		Example: `  $ kinko lease renew -increment=30m database/creds/app/Xg8k2`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			body := map[string]any{"lease_id": strings.TrimSpace(args[0])}
			if cmd.Flags().Changed("increment") {
				body["increment"] = increment.seconds()
			}
			secret, err := client.Write(cmdCtx(cmd), "sys/leases/renew", body)
			if err != nil {
				return fail(exitAPI, "Error renewing lease: %s", err)
			}
			if secret == nil {
				return fail(exitAPI, "Error renewing lease: empty response")
			}
			return c.outputSecretOrField(secret, field)
		},
	}
	cmd.Flags().Var(&increment, "increment", "How long the lease should live from now, e.g. 30m, 2h")
	addFieldFlag(cmd, &field)
	return cmd
}

type leaseRevokeFlags struct {
	prefix, force, sync bool
}

func newLeaseRevokeCmd(c *cli) *cobra.Command {
	var f leaseRevokeFlags
	cmd := &cobra.Command{
		Use:   "revoke [flags] LEASE_ID_OR_PREFIX",
		Short: "Revoke a lease, or every lease under a prefix",
		Long: `Revokes a lease: the engine that issued it undoes the secret (drops the
database user) and the lease is deleted. With -prefix every lease whose ID
starts with the argument is revoked (needs sudo). -force (with -prefix)
deletes the leases WITHOUT asking the engine, for secrets already removed by
hand; what the engine created is then left behind.

By default the command waits for the revocation (-sync); with -sync=false
the server queues it and answers at once. If the engine cannot revoke (its
database is down), the server keeps the lease and retries until it can.`,
		Example: `  $ kinko lease revoke database/creds/app/Xg8k2
  $ kinko lease revoke -prefix database/creds/app
  $ kinko lease revoke -prefix -force database/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runLeaseRevoke(cmd, &f, strings.TrimSpace(args[0]))
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.prefix, "prefix", false, "Treat the argument as a prefix and revoke every lease under it (sudo)")
	fl.BoolVar(&f.force, "force", false, "With -prefix: delete the leases without asking the engine to revoke them (sudo)")
	fl.BoolVar(&f.sync, "sync", true, "Wait for the revocation to finish")
	return cmd
}

func (c *cli) runLeaseRevoke(cmd *cobra.Command, f *leaseRevokeFlags, id string) error {
	if f.force && !f.prefix {
		return fail(exitLocal, "-force needs -prefix")
	}
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	body := map[string]any{"sync": f.sync}
	switch {
	case f.force:
		_, err = client.Write(cmdCtx(cmd), "sys/leases/revoke-force/"+sanitizePath(id), nil)
	case f.prefix:
		_, err = client.Write(cmdCtx(cmd), "sys/leases/revoke-prefix/"+sanitizePath(id), body)
	default:
		body["lease_id"] = id
		_, err = client.Write(cmdCtx(cmd), "sys/leases/revoke", body)
	}
	if err != nil {
		return fail(exitAPI, "Error revoking lease: %s", err)
	}
	switch {
	case f.force:
		c.println("Success! Force revoked any leases with prefix: " + id)
	case f.prefix && f.sync:
		c.println("Success! Revoked any leases with prefix: " + id)
	case f.prefix:
		c.println("Success! Queued revocation of any leases with prefix: " + id)
	case f.sync:
		c.println("Success! Revoked lease: " + id)
	default:
		c.println("Success! Queued revocation of lease: " + id)
	}
	return nil
}

func newLeaseListCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "list PREFIX",
		Short: "List lease IDs under a prefix (sudo)",
		Long: `Lists the leases one level below PREFIX, as "kinko list
sys/leases/lookup/PREFIX" does. Entries ending in "/" are folders.`,
		Example: `  $ kinko lease list database/creds/app`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := ensureTrailingSlash("sys/leases/lookup/" + sanitizePath(args[0]))
			secret, err := client.List(cmdCtx(cmd), p)
			if err != nil {
				return fail(exitAPI, "Error listing leases: %s", err)
			}
			if secret == nil || secret.Data["keys"] == nil {
				return fail(exitAPI, "No leases found under %s", args[0])
			}
			return c.outputList(secret)
		},
	}
}
