package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
)

func newOperatorCmd(c *cli) *cobra.Command {
	return group("operator", "Perform operator-specific tasks",
		`Groups the commands operators use to manage the server's lifecycle:
initialising it, unsealing and sealing it, and rotating its encryption key.`,
		`  $ kinko operator init -key-shares=5 -key-threshold=3
  $ kinko operator unseal
  $ kinko operator rotate`,
		newOperatorInitCmd(c),
		newOperatorUnsealCmd(c),
		newOperatorSealCmd(c),
		newOperatorRotateCmd(c),
		newOperatorKeyStatusCmd(c),
	)
}

func newOperatorInitCmd(c *cli) *cobra.Command {
	var shares, threshold int
	var statusOnly bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Initialise a server",
		Long: `Initialises a new server: generates the root key, splits it into
-key-shares unseal keys of which -key-threshold are needed to unseal, and
creates the initial root token. This happens once per server; the unseal
keys and root token are printed only now and are not stored by the server.`,
		Example: `  $ kinko operator init
  $ kinko operator init -key-shares=3 -key-threshold=2
  $ kinko operator init -status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			if statusOnly {
				return c.initStatus(cmd, client)
			}
			if shares < 1 || threshold < 1 || threshold > shares {
				return fail(exitLocal, "Invalid -key-shares=%d / -key-threshold=%d: need 1 <= threshold <= shares", shares, threshold)
			}
			c.warn(fmt.Sprintf("Initialising with %d key shares and a key threshold of %d...", shares, threshold))
			req := &api.InitRequest{SecretShares: shares, SecretThreshold: threshold}
			resp, err := client.Init(cmdCtx(cmd), req)
			if err != nil {
				return fail(exitAPI, "Error initializing: %s", err)
			}
			return c.printInit(req, resp)
		},
	}
	cmd.Flags().IntVar(&shares, "key-shares", 5, "Number of unseal key shares to split the root key into")
	cmd.Flags().IntVar(&threshold, "key-threshold", 3, "Number of key shares required to unseal")
	cmd.Flags().BoolVar(&statusOnly, "status", false, "Only report whether the server is initialised (exit 0 yes, 2 no)")
	return cmd
}

func (c *cli) initStatus(cmd *cobra.Command, client *api.Client) error {
	inited, err := client.InitStatus(cmdCtx(cmd))
	if err != nil {
		// 1, not 2: exit code 2 means "not initialised" here.
		return fail(exitLocal, "Error checking init status: %s", err)
	}
	if c.isJSON() {
		if err := c.outputJSON(map[string]bool{"initialized": inited}); err != nil {
			return err
		}
	} else if inited {
		c.println("Kinko is initialized")
	} else {
		c.println("Kinko is not initialized")
	}
	if !inited {
		return exitCode(exitAPI)
	}
	return nil
}

func (c *cli) printInit(req *api.InitRequest, resp *api.InitResponse) error {
	if c.isJSON() {
		return c.outputJSON(map[string]any{
			"unseal_keys_b64":  nonNil(resp.KeysB64),
			"unseal_keys_hex":  nonNil(resp.Keys),
			"unseal_shares":    req.SecretShares,
			"unseal_threshold": req.SecretThreshold,
			"root_token":       resp.RootToken,
		})
	}
	for i, key := range resp.Keys {
		if len(resp.KeysB64) == len(resp.Keys) {
			key = resp.KeysB64[i]
		}
		c.println(fmt.Sprintf("Unseal Key %d: %s", i+1, key))
	}
	c.println()
	c.println("Initial Root Token: " + resp.RootToken)
	c.println()
	c.println(wrapAtLength(fmt.Sprintf("Kinko initialized with %d key shares and a key threshold of %d. "+
		"Please securely distribute the key shares printed above. When the server is re-sealed, "+
		"restarted, or stopped, you must supply at least %d of these keys to unseal it before it "+
		"can start servicing requests.", req.SecretShares, req.SecretThreshold, req.SecretThreshold), 0))
	c.println()
	c.println(wrapAtLength(fmt.Sprintf("Kinko does not store the generated root key. Without at least %d "+
		"keys to reconstruct the root key, the server will remain permanently sealed!", req.SecretThreshold), 0))
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func newOperatorUnsealCmd(c *cli) *cobra.Command {
	var reset bool
	cmd := &cobra.Command{
		Use:   "unseal [KEY]",
		Short: "Submit an unseal key share",
		Long: `Submits one unseal key share. Once -key-threshold shares have been
submitted the server unseals. When KEY is omitted it is read without echo
from the terminal, or as one line from standard input when that is not a
terminal, so the key never needs to appear in shell history.`,
		Example: `  $ kinko operator unseal
  $ kinko operator unseal < key1.txt
  $ kinko operator unseal -reset`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			var status *api.SealStatusResponse
			if reset {
				status, err = client.UnsealReset(cmdCtx(cmd))
			} else {
				key := ""
				if len(args) == 1 {
					key = args[0]
				} else if key, err = c.readSecret("Unseal Key (will be hidden): "); err != nil {
					return fail(exitLocal, "Error reading the unseal key: %s", err)
				}
				status, err = client.Unseal(cmdCtx(cmd), key)
			}
			if err != nil {
				return fail(exitAPI, "Error unsealing: %s", err)
			}
			return c.outputSealStatus(cmd, client, status)
		},
	}
	cmd.Flags().BoolVar(&reset, "reset", false, "Discard the key shares submitted so far")
	return cmd
}

func newOperatorSealCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "seal",
		Short: "Seal the server",
		Long: `Seals the server: it forgets its root key and refuses every request
until it is unsealed again with the threshold of unseal keys.`,
		Example: `  $ kinko operator seal`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			if err := client.Seal(cmdCtx(cmd)); err != nil {
				return fail(exitAPI, "Error sealing: %s", err)
			}
			c.println("Success! Kinko is sealed.")
			return nil
		},
	}
}

func newOperatorRotateCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Rotate the barrier encryption key",
		Long: `Adds a new encryption key term to the keyring. New writes are encrypted
with the new key; data written earlier stays readable with the older terms.`,
		Example: `  $ kinko operator rotate`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			c.warn("Rotating the encryption key...")
			if err := client.Rotate(cmdCtx(cmd)); err != nil {
				return fail(exitAPI, "Error rotating key: %s", err)
			}
			status, err := client.KeyStatus(cmdCtx(cmd))
			if err != nil {
				return fail(exitAPI, "Error reading key status: %s", err)
			}
			if c.isJSON() {
				return c.outputJSON(status)
			}
			c.println("Success! Rotated key")
			c.println()
			c.println(keyStatusText(status))
			return nil
		},
	}
}

func newOperatorKeyStatusCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "key-status",
		Short:   "Show the current encryption key term",
		Long:    `Shows the term of the active encryption key and when it was installed.`,
		Example: `  $ kinko operator key-status`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			status, err := client.KeyStatus(cmdCtx(cmd))
			if err != nil {
				return fail(exitAPI, "Error reading key status: %s", err)
			}
			if c.isJSON() {
				return c.outputJSON(status)
			}
			c.println(keyStatusText(status))
			return nil
		},
	}
}

func keyStatusText(ks *api.KeyStatus) string {
	rows := [][]string{
		{"Key Term", fmt.Sprint(ks.Term)},
		{"Install Time", ks.InstallTime.UTC().Format(time.RFC822)},
	}
	if ks.Encryptions > 0 {
		rows = append(rows, []string{"Encryption Count", fmt.Sprint(ks.Encryptions)})
	}
	return columns(rows)
}

func newStatusCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Print seal and HA status",
		Long: `Prints whether the server is initialised and sealed, its key share
threshold and version. Exit code 0 means unsealed, 2 sealed, 1 an error
(for example, the server cannot be reached).`,
		Example: `  $ kinko status
  $ kinko status -format=json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			status, err := client.SealStatus(cmdCtx(cmd))
			if err != nil {
				return fail(exitLocal, "Error checking seal status: %s", err)
			}
			if err := c.outputSealStatus(cmd, client, status); err != nil {
				return err
			}
			if status.Sealed {
				return exitCode(exitAPI)
			}
			return nil
		},
	}
}

// sealStatusOutput is the JSON shape of status and unseal: the seal status
// plus the HA fields from sys/leader.
type sealStatusOutput struct {
	api.SealStatusResponse
	HAEnabled     bool       `json:"ha_enabled"`
	IsSelf        bool       `json:"is_self,omitempty"`
	ActiveTime    *time.Time `json:"active_time,omitempty"`
	LeaderAddress string     `json:"leader_address,omitempty"`
}

func (c *cli) outputSealStatus(cmd *cobra.Command, client *api.Client, s *api.SealStatusResponse) error {
	out := sealStatusOutput{SealStatusResponse: *s}
	if !s.Sealed {
		// Best effort: a server without HA may not serve sys/leader.
		if l, err := client.Leader(cmdCtx(cmd)); err == nil {
			out.HAEnabled, out.IsSelf, out.LeaderAddress = l.HAEnabled, l.IsSelf, l.LeaderAddress
			if !l.ActiveTime.IsZero() {
				out.ActiveTime = &l.ActiveTime
			}
		}
	}
	if c.isJSON() {
		return c.outputJSON(out)
	}
	c.println(table([]string{"Key", "Value"}, sealStatusRows(out)))
	return nil
}

func sealStatusRows(s sealStatusOutput) [][]string {
	rows := [][]string{
		{"Seal Type", s.Type},
		{"Initialized", fmt.Sprint(s.Initialized)},
		{"Sealed", fmt.Sprint(s.Sealed)},
		{"Total Shares", fmt.Sprint(s.N)},
		{"Threshold", fmt.Sprint(s.T)},
	}
	if s.Sealed {
		rows = append(rows, []string{"Unseal Progress", fmt.Sprintf("%d/%d", s.Progress, s.T)},
			[]string{"Unseal Nonce", s.Nonce})
	}
	rows = append(rows, []string{"Version", s.Version}, []string{"Build Date", s.BuildDate},
		[]string{"Storage Type", s.StorageType})
	if s.ClusterName != "" && s.ClusterID != "" {
		rows = append(rows, []string{"Cluster Name", s.ClusterName}, []string{"Cluster ID", s.ClusterID})
	}
	rows = append(rows, []string{"HA Enabled", fmt.Sprint(s.HAEnabled)})
	if s.HAEnabled && !s.Sealed {
		mode := "standby"
		if s.IsSelf {
			mode = "active"
		}
		rows = append(rows, []string{"HA Mode", mode})
		if s.ActiveTime != nil && s.IsSelf {
			rows = append(rows, []string{"Active Since", s.ActiveTime.Format(time.RFC3339Nano)})
		}
		if !s.IsSelf {
			rows = append(rows, []string{"Active Node Address", s.LeaderAddress})
		}
	}
	return rows
}
