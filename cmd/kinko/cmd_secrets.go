package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
)

func newSecretsCmd(c *cli) *cobra.Command {
	return group("secrets", "Interact with secrets engines",
		`Enables, disables, lists and tunes secrets engines. Each engine is mounted
at a path, and every request below that path is served by it.`,
		`  $ kinko secrets enable -path=apps kv-v2
  $ kinko secrets list`,
		newSecretsEnableCmd(c),
		newSecretsDisableCmd(c),
		newSecretsListCmd(c),
		newSecretsTuneCmd(c),
	)
}

// mountFlags are shared by enable and tune.
type mountFlags struct {
	description     string
	defaultLeaseTTL durationValue
	maxLeaseTTL     durationValue
	options         []string
	version         int
}

func (m *mountFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&m.description, "description", "", "Human-friendly description of the mount")
	fl.Var(&m.defaultLeaseTTL, "default-lease-ttl", "Default lease TTL of secrets from this engine")
	fl.Var(&m.maxLeaseTTL, "max-lease-ttl", "Maximum lease TTL of secrets from this engine")
	fl.StringArrayVar(&m.options, "options", nil, "Engine option key=value; repeatable")
	fl.IntVar(&m.version, "version", 0, "KV engine version (1 or 2); shortcut for -options=version=N")
}

// config returns the mount configuration and options set by the flags.
func (m *mountFlags) config(cmd *cobra.Command) (api.MountConfigInput, map[string]string, error) {
	var cfg api.MountConfigInput
	fl := cmd.Flags()
	if fl.Changed("default-lease-ttl") {
		cfg.DefaultLeaseTTL = m.defaultLeaseTTL.seconds()
	}
	if fl.Changed("max-lease-ttl") {
		cfg.MaxLeaseTTL = m.maxLeaseTTL.seconds()
	}
	opts, err := parseKVFlags("options", m.options)
	if err != nil {
		return cfg, nil, fail(exitLocal, "Error: %s", err)
	}
	if m.version > 0 {
		if opts == nil {
			opts = map[string]string{}
		}
		opts["version"] = strconv.Itoa(m.version)
	}
	return cfg, opts, nil
}

func newSecretsEnableCmd(c *cli) *cobra.Command {
	var m mountFlags
	var path string
	var local, sealWrap, forceNoCache bool
	cmd := &cobra.Command{
		Use:   "enable [flags] TYPE",
		Short: "Enable a secrets engine",
		Long: `Enables the secrets engine TYPE at -path (default: the type name).
"kv-v2" is a shortcut for TYPE kv with -version=2.`,
		Example: `  $ kinko secrets enable -path=apps -version=2 kv
  $ kinko secrets enable kv-v2
  $ kinko secrets enable -path=db -description="team databases" -max-lease-ttl=24h database`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, opts, err := m.config(cmd)
			if err != nil {
				return err
			}
			engine := sanitizePath(args[0])
			mountPath := path
			if mountPath == "" {
				mountPath = engine
			}
			mountPath = ensureTrailingSlash(sanitizePath(mountPath))
			if engine == "kv-v2" {
				engine = "kv"
				if opts == nil {
					opts = map[string]string{}
				}
				opts["version"] = "2"
			}
			cfg.ForceNoCache = forceNoCache
			in := &api.MountInput{Type: engine, Description: m.description, Config: cfg,
				Options: opts, Local: local, SealWrap: sealWrap}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			if err := client.Mount(cmdCtx(cmd), mountPath, in); err != nil {
				return fail(exitAPI, "Error enabling: %s", err)
			}
			c.println(fmt.Sprintf("Success! Enabled the %s secrets engine at: %s", engine, mountPath))
			return nil
		},
	}
	m.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&path, "path", "", "Path to mount the engine at (default: TYPE)")
	fl.BoolVar(&local, "local", false, "Do not replicate the mount to other clusters")
	fl.BoolVar(&sealWrap, "seal-wrap", false, "Seal-wrap the engine's critical values")
	fl.BoolVar(&forceNoCache, "force-no-cache", false, "Disable caching of the engine's responses")
	return cmd
}

func newSecretsDisableCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "disable PATH",
		Short: "Disable a secrets engine",
		Long: `Disables the secrets engine mounted at PATH. All its secrets are deleted
and its leases revoked.`,
		Example: `  $ kinko secrets disable apps/`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := ensureTrailingSlash(sanitizePath(args[0]))
			if err := client.Unmount(cmdCtx(cmd), p); err != nil {
				return fail(exitAPI, "Error disabling secrets engine at %s: %s", p, err)
			}
			c.println("Success! Disabled the secrets engine (if it existed) at: " + p)
			return nil
		},
	}
}

func newSecretsListCmd(c *cli) *cobra.Command {
	var detailed bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List enabled secrets engines",
		Long:  `Lists the enabled secrets engines with their paths, types and descriptions.`,
		Example: `  $ kinko secrets list
  $ kinko secrets list -detailed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			mounts, err := client.Mounts(cmdCtx(cmd))
			if err != nil {
				return fail(exitAPI, "Error listing secrets engines: %s", err)
			}
			if c.isJSON() {
				return c.outputJSON(mounts)
			}
			c.println(mountsTable(mounts, detailed))
			return nil
		},
	}
	cmd.Flags().BoolVar(&detailed, "detailed", false, "Show TTLs, options, replication and UUIDs too")
	return cmd
}

func mountsTable(mounts map[string]*api.MountOutput, detailed bool) string {
	header := []string{"Path", "Type", "Accessor", "Description"}
	if detailed {
		header = []string{"Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Force No Cache",
			"Replication", "Seal Wrap", "Options", "Description", "UUID"}
	}
	rows := make([][]string, 0, len(mounts))
	for _, p := range sortedKeys(mounts) {
		m := mounts[p]
		if !detailed {
			rows = append(rows, []string{p, m.Type, m.Accessor, m.Description})
			continue
		}
		replication := "replicated"
		if m.Local {
			replication = "local"
		}
		rows = append(rows, []string{p, m.Type, m.Accessor, ttlOrSystem(m.Config.DefaultLeaseTTL),
			ttlOrSystem(m.Config.MaxLeaseTTL), fmt.Sprint(m.Config.ForceNoCache), replication,
			fmt.Sprint(m.SealWrap), fmt.Sprint(m.Options), m.Description, m.UUID})
	}
	return table(header, rows)
}

func ttlOrSystem(secs int) string {
	if secs == 0 {
		return "system"
	}
	return humanDuration(time.Duration(secs) * time.Second)
}

func newSecretsTuneCmd(c *cli) *cobra.Command {
	var m mountFlags
	cmd := &cobra.Command{
		Use:   "tune [flags] PATH",
		Short: "Tune a secrets engine's configuration",
		Long:  `Changes the configuration of the secrets engine mounted at PATH.`,
		Example: `  $ kinko secrets tune -max-lease-ttl=72h db/
  $ kinko secrets tune -version=2 kv/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, opts, err := m.config(cmd)
			if err != nil {
				return err
			}
			cfg.Options = opts
			if cmd.Flags().Changed("description") {
				cfg.Description = &m.description
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := ensureTrailingSlash(sanitizePath(args[0]))
			if err := client.TuneMount(cmdCtx(cmd), p, cfg); err != nil {
				return fail(exitAPI, "Error tuning secrets engine %s: %s", p, err)
			}
			c.println("Success! Tuned the secrets engine at: " + p)
			return nil
		},
	}
	m.register(cmd)
	return cmd
}
