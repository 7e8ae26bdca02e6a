package main

import (
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// maxPolicyBytes bounds a policy file read from disk or stdin.
const maxPolicyBytes = 1 << 20

func newPolicyCmd(c *cli) *cobra.Command {
	return group("policy", "Interact with policies",
		`Writes, reads, lists and deletes ACL policies. Policies are written in HCL
and grant capabilities (create, read, update, delete, list, sudo, deny) on
paths.`,
		`  $ kinko policy write app app.hcl
  $ kinko policy list`,
		newPolicyWriteCmd(c),
		newPolicyReadCmd(c),
		newPolicyListCmd(c),
		newPolicyDeleteCmd(c),
	)
}

func newPolicyWriteCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "write NAME (FILE | -)",
		Short: "Upload a policy",
		Long:  `Creates or replaces the policy NAME with the HCL in FILE, or read from standard input with "-".`,
		Example: `  $ kinko policy write app app-policy.hcl
  $ cat <<EOF | kinko policy write app -
  path "secret/data/app/*" { capabilities = ["read"] }
  EOF`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.TrimSpace(args[0])
			rules, err := c.readPolicyFile(args[1])
			if err != nil {
				return fail(exitLocal, "Error reading policy: %s", err)
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			if err := client.PutPolicy(cmdCtx(cmd), name, rules); err != nil {
				return fail(exitAPI, "Error uploading policy: %s", err)
			}
			c.println("Success! Uploaded policy: " + name)
			return nil
		},
	}
}

func (c *cli) readPolicyFile(path string) (string, error) {
	var r io.Reader
	if path == "-" {
		r = c.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxPolicyBytes+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxPolicyBytes {
		return "", fail(exitLocal, "policy is larger than %d bytes", maxPolicyBytes)
	}
	return string(b), nil
}

func newPolicyReadCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "read NAME",
		Short:   "Print a policy",
		Long:    `Prints the HCL rules of the policy NAME.`,
		Example: `  $ kinko policy read app`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			name := strings.TrimSpace(args[0])
			rules, err := client.GetPolicy(cmdCtx(cmd), name)
			if err != nil {
				return fail(exitAPI, "Error reading policy named %s: %s", name, err)
			}
			if rules == "" {
				return fail(exitAPI, "No policy named: %s", name)
			}
			if c.isJSON() {
				return c.outputJSON(map[string]any{"name": name, "policy": rules})
			}
			c.println(strings.TrimSpace(rules))
			return nil
		},
	}
}

func newPolicyListCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the installed policies",
		Long:    `Lists the names of the ACL policies, one per line.`,
		Example: `  $ kinko policy list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			names, err := client.ListPolicies(cmdCtx(cmd))
			if err != nil {
				return fail(exitAPI, "Error listing policies: %s", err)
			}
			if c.isJSON() {
				return c.outputJSON(nonNil(names))
			}
			for _, n := range names {
				c.println(n)
			}
			return nil
		},
	}
}

func newPolicyDeleteCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a policy",
		Long:    `Deletes the policy NAME. Tokens that carry it lose its grants at once.`,
		Example: `  $ kinko policy delete app`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			name := strings.TrimSpace(args[0])
			if err := client.DeletePolicy(cmdCtx(cmd), name); err != nil {
				return fail(exitAPI, "Error deleting %s: %s", name, err)
			}
			c.println("Success! Deleted policy: " + name)
			return nil
		},
	}
}
