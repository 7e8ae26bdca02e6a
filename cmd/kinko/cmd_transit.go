package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// maxTransitInput bounds what the transit commands read from standard
// input: base64 makes it 4/3 larger, which must stay under the server's
// 32 MiB request limit.
const maxTransitInput = 16 << 20

type transitFlags struct {
	mount, context, keyVersion string
}

// newTransitCmd builds `kinko transit encrypt|decrypt`: shortcuts over
// transit/encrypt and transit/decrypt that read standard input.
func newTransitCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transit",
		Short: "Encrypt and decrypt with a transit key, reading standard input",
		Long: `Shortcuts over the transit engine: encrypt reads plaintext bytes from
standard input and prints the ciphertext (kinko:v1:...); decrypt reads a
ciphertext and writes the plaintext bytes to standard output. The key
never leaves the server. The generic form works too:

  kinko write transit/encrypt/app plaintext=$(base64 < file)`,
		Example: `  $ echo -n 'card 4111' | kinko transit encrypt app > card.enc
  $ kinko transit decrypt app < card.enc
  $ kinko transit encrypt -context=$(echo -n tenant-7 | base64) tenants < doc.pdf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newTransitOpCmd(c, "encrypt"), newTransitOpCmd(c, "decrypt"))
	return cmd
}

func newTransitOpCmd(c *cli, op string) *cobra.Command {
	var f transitFlags
	short := map[string]string{
		"encrypt": "Encrypt standard input with KEY and print the ciphertext",
		"decrypt": "Decrypt the ciphertext on standard input with KEY and write the plaintext",
	}[op]
	cmd := &cobra.Command{
		Use:   op + " [flags] KEY",
		Short: short,
		Long: short + `.
-format=json prints the server's whole answer instead.

Exit codes: 0 success, 1 local or usage error, 2 error from the server.`,
		Example: map[string]string{
			"encrypt": "  $ kinko transit encrypt app < secret.txt > secret.enc",
			"decrypt": "  $ kinko transit decrypt app < secret.enc > secret.txt",
		}[op],
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return c.transitOp(cmd, op, args[0], f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.mount, "mount", "transit", "Mount path of the transit engine")
	fl.StringVar(&f.context, "context", "", "Base64 key-derivation context, for keys created with derived=true")
	if op == "encrypt" {
		fl.StringVar(&f.keyVersion, "key-version", "", "Encrypt with this key version (default: the latest)")
	}
	return cmd
}

// transitOp runs one encrypt or decrypt of standard input.
func (c *cli) transitOp(cmd *cobra.Command, op, key string, f transitFlags) error {
	in, err := io.ReadAll(io.LimitReader(c.stdin, maxTransitInput+1))
	if err != nil {
		return fail(exitLocal, "Error reading standard input: %s", err)
	}
	if len(in) > maxTransitInput {
		return fail(exitLocal, "Standard input is larger than %d MiB; encrypt a data key (transit/datakey) and the data with it instead", maxTransitInput>>20)
	}
	body := map[string]any{}
	if f.context != "" {
		if _, err := base64.StdEncoding.DecodeString(f.context); err != nil {
			return fail(exitLocal, "-context must be base64: %s", err)
		}
		body["context"] = f.context
	}
	if op == "encrypt" {
		body["plaintext"] = base64.StdEncoding.EncodeToString(in)
		if f.keyVersion != "" {
			body["key_version"] = f.keyVersion
		}
	} else {
		ct := string(bytes.TrimSpace(in))
		if ct == "" {
			return fail(exitLocal, "No ciphertext on standard input")
		}
		body["ciphertext"] = ct
	}
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	path := strings.Trim(f.mount, "/") + "/" + op + "/" + key
	secret, err := client.Write(cmdCtx(cmd), path, body)
	if err != nil {
		return fail(exitAPI, "Error writing %s: %s", path, err)
	}
	if secret == nil {
		return fail(exitAPI, "No answer from %s", path)
	}
	if c.isJSON() {
		return c.outputJSON(secret)
	}
	if op == "encrypt" {
		ct, _ := secret.Data["ciphertext"].(string)
		if ct == "" {
			return fail(exitAPI, "The answer from %s holds no ciphertext", path)
		}
		c.println(ct)
		return nil
	}
	pt, _ := secret.Data["plaintext"].(string)
	raw, err := base64.StdEncoding.DecodeString(pt)
	if err != nil {
		return fail(exitAPI, "The answer from %s holds no base64 plaintext", path)
	}
	if _, err := c.stdout.Write(raw); err != nil {
		return fail(exitLocal, "Error writing the plaintext: %s", err)
	}
	return nil
}
