package main

import (
	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
)

// secretsKind is the secrets engine table (sys/mounts) for the shared mount
// commands in cmd_mounts.go.
var secretsKind = &mountKind{
	noun:       "secrets engine",
	aNoun:      "a secrets engine",
	table:      (*api.Client).SecretsEngines,
	engine:     true,
	enabledMsg: "Success! Enabled the %[1]s secrets engine at: %[2]s",
	enableErr:  "Error enabling: %[2]s",
	listErr:    "Error listing secrets engines: %s",
	docs: map[string]cmdDoc{
		"enable": {
			long: `Enables the secrets engine TYPE at -path (default: the type name).
"kv-v2" is a shortcut for TYPE kv with -version=2.`,
			example: `  $ kinko secrets enable -path=apps -version=2 kv
  $ kinko secrets enable kv-v2
  $ kinko secrets enable -path=db -description="team databases" -max-lease-ttl=24h database`,
		},
		"disable": {
			long: `Disables the secrets engine mounted at PATH. All its secrets are deleted
and its leases revoked.`,
			example: `  $ kinko secrets disable apps/`,
		},
		"list": {
			long: `Lists the enabled secrets engines with their paths, types and descriptions.`,
			example: `  $ kinko secrets list
  $ kinko secrets list -detailed`,
		},
		"tune": {
			long: `Changes the configuration of the secrets engine mounted at PATH.`,
			example: `  $ kinko secrets tune -max-lease-ttl=72h db/
  $ kinko secrets tune -version=2 kv/`,
		},
	},
}

func newSecretsCmd(c *cli) *cobra.Command {
	return group("secrets", "Interact with secrets engines",
		`Enables, disables, lists and tunes secrets engines. Each engine is mounted
at a path, and every request below that path is served by it.`,
		`  $ kinko secrets enable -path=apps kv-v2
  $ kinko secrets list`,
		newMountEnableCmd(c, secretsKind),
		newMountDisableCmd(c, secretsKind),
		newMountListCmd(c, secretsKind),
		newMountTuneCmd(c, secretsKind),
	)
}
