package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
)

// This file builds the enable, disable, list and tune commands once for both
// mount tables: "kinko secrets" manages secrets engines (sys/mounts) and
// "kinko auth" auth methods (sys/auth). A mountKind says which table a
// command works on, what it calls the things it mounts and how it words its
// help and messages, which follow the Vault CLI for each group.

// mountKind describes one mount table for the shared commands.
type mountKind struct {
	noun  string // "secrets engine", "auth method"
	aNoun string // with its article: "a secrets engine", "an auth method"
	table func(*api.Client) *api.MountTable
	// engine enables the secrets-only flags (-version, -force-no-cache)
	// and the kv-v2 shortcut.
	engine bool
	// enabledMsg and enableErr are formats taking the type (%[1]s) and
	// the path or the error (%[2]s).
	enabledMsg string
	enableErr  string
	listErr    string // format taking the error
	docs       map[string]cmdDoc
}

// cmdDoc is the help of one command.
type cmdDoc struct {
	long, example string
}

// mountFlags are shared by enable and tune.
type mountFlags struct {
	description     string
	defaultLeaseTTL durationValue
	maxLeaseTTL     durationValue
	options         []string
	version         int
}

func (m *mountFlags) register(cmd *cobra.Command, k *mountKind) {
	fl := cmd.Flags()
	fl.StringVar(&m.description, "description", "", "Human-friendly description of the mount")
	fl.Var(&m.defaultLeaseTTL, "default-lease-ttl", "Default lease TTL of secrets and tokens from this mount")
	fl.Var(&m.maxLeaseTTL, "max-lease-ttl", "Maximum lease TTL of secrets and tokens from this mount")
	fl.StringArrayVar(&m.options, "options", nil, "Mount option key=value; repeatable")
	if k.engine {
		fl.IntVar(&m.version, "version", 0, "KV engine version (1 or 2); shortcut for -options=version=N")
	}
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
		opts = setOption(opts, "version", strconv.Itoa(m.version))
	}
	return cfg, opts, nil
}

func setOption(opts map[string]string, k, v string) map[string]string {
	if opts == nil {
		opts = map[string]string{}
	}
	opts[k] = v
	return opts
}

// enableFlags are the flags of enable beyond mountFlags.
type enableFlags struct {
	mountFlags
	path                          string
	local, sealWrap, forceNoCache bool
}

func newMountEnableCmd(c *cli, k *mountKind) *cobra.Command {
	var f enableFlags
	doc := k.docs["enable"]
	cmd := &cobra.Command{
		Use:     "enable [flags] TYPE",
		Short:   "Enable " + k.aNoun,
		Long:    doc.long,
		Example: doc.example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runMountEnable(cmd, k, &f, args[0])
		},
	}
	f.register(cmd, k)
	fl := cmd.Flags()
	fl.StringVar(&f.path, "path", "", "Path to mount at (default: TYPE)")
	fl.BoolVar(&f.local, "local", false, "Do not replicate the mount to other clusters")
	fl.BoolVar(&f.sealWrap, "seal-wrap", false, "Seal-wrap the mount's critical values")
	if k.engine {
		fl.BoolVar(&f.forceNoCache, "force-no-cache", false, "Disable caching of the engine's responses")
	}
	return cmd
}

func (c *cli) runMountEnable(cmd *cobra.Command, k *mountKind, f *enableFlags, typeArg string) error {
	cfg, opts, err := f.config(cmd)
	if err != nil {
		return err
	}
	typ := sanitizePath(typeArg)
	mountPath := f.path
	if mountPath == "" {
		mountPath = typ
	}
	mountPath = ensureTrailingSlash(sanitizePath(mountPath))
	if k.engine && typ == "kv-v2" {
		typ = "kv"
		opts = setOption(opts, "version", "2")
	}
	cfg.ForceNoCache = f.forceNoCache
	in := &api.MountInput{Type: typ, Description: f.description, Config: cfg,
		Options: opts, Local: f.local, SealWrap: f.sealWrap}
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	if err := k.table(client).Enable(cmdCtx(cmd), mountPath, in); err != nil {
		return fail(exitAPI, k.enableErr, typ, err)
	}
	c.println(fmt.Sprintf(k.enabledMsg, typ, mountPath))
	return nil
}

func newMountDisableCmd(c *cli, k *mountKind) *cobra.Command {
	doc := k.docs["disable"]
	return &cobra.Command{
		Use:     "disable PATH",
		Short:   "Disable " + k.aNoun,
		Long:    doc.long,
		Example: doc.example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := ensureTrailingSlash(sanitizePath(args[0]))
			if err := k.table(client).Disable(cmdCtx(cmd), p); err != nil {
				return fail(exitAPI, "Error disabling %s at %s: %s", k.noun, p, err)
			}
			c.println(fmt.Sprintf("Success! Disabled the %s (if it existed) at: %s", k.noun, p))
			return nil
		},
	}
}

func newMountListCmd(c *cli, k *mountKind) *cobra.Command {
	var detailed bool
	doc := k.docs["list"]
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List enabled " + k.noun + "s",
		Long:    doc.long,
		Example: doc.example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			mounts, err := k.table(client).List(cmdCtx(cmd))
			if err != nil {
				return fail(exitAPI, k.listErr, err)
			}
			if c.isJSON() {
				return c.outputJSON(mounts)
			}
			c.println(mountsTable(mounts, detailed, k.engine))
			return nil
		},
	}
	cmd.Flags().BoolVar(&detailed, "detailed", false, "Show TTLs, options, replication and UUIDs too")
	return cmd
}

// mountsTable renders a mount list as Vault does; engine adds the
// secrets-only "Force No Cache" column to the detailed table.
func mountsTable(mounts map[string]*api.MountOutput, detailed, engine bool) string {
	header := []string{"Path", "Type", "Accessor", "Description"}
	if detailed {
		header = []string{"Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Force No Cache",
			"Replication", "Seal Wrap", "Options", "Description", "UUID"}
		if !engine {
			header = append(header[:5], header[6:]...)
		}
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
		row := []string{p, m.Type, m.Accessor, ttlOrSystem(m.Config.DefaultLeaseTTL),
			ttlOrSystem(m.Config.MaxLeaseTTL)}
		if engine {
			row = append(row, fmt.Sprint(m.Config.ForceNoCache))
		}
		rows = append(rows, append(row, replication, fmt.Sprint(m.SealWrap), fmt.Sprint(m.Options),
			m.Description, m.UUID))
	}
	return table(header, rows)
}

func ttlOrSystem(secs int) string {
	if secs == 0 {
		return "system"
	}
	return humanDuration(time.Duration(secs) * time.Second)
}

func newMountTuneCmd(c *cli, k *mountKind) *cobra.Command {
	var m mountFlags
	doc := k.docs["tune"]
	cmd := &cobra.Command{
		Use:     "tune [flags] PATH",
		Short:   "Tune " + k.aNoun + "'s configuration",
		Long:    doc.long,
		Example: doc.example,
		Args:    cobra.ExactArgs(1),
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
			if err := k.table(client).Tune(cmdCtx(cmd), p, cfg); err != nil {
				return fail(exitAPI, "Error tuning %s %s: %s", k.noun, p, err)
			}
			c.println(fmt.Sprintf("Success! Tuned the %s at: %s", k.noun, p))
			return nil
		},
	}
	m.register(cmd, k)
	return cmd
}
