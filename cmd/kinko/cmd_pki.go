package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/atomicfile"
)

// newPKICmd builds "kinko pki": helpers for the PKI secrets engine.
func newPKICmd(c *cli) *cobra.Command {
	return group("pki", "Issue certificates from a PKI secrets engine",
		`Works with a PKI secrets engine (a certificate authority). Everything else
the engine offers (roles, issuers, revoke, CRL) is reached with "kinko read"
and "kinko write" on its paths, as with Vault.`,
		`  $ kinko pki issue web common_name=www.example.com
  $ kinko write pki/roles/web allowed_domains=example.com allow_subdomains=true`,
		newPKIIssueCmd(c),
	)
}

// pkiIssueFlags are the flags of "kinko pki issue".
type pkiIssueFlags struct {
	mount     string
	outPrefix string
}

func newPKIIssueCmd(c *cli) *cobra.Command {
	var f pkiIssueFlags
	cmd := &cobra.Command{
		Use:   "issue [flags] ROLE common_name=NAME [alt_names=...] [ip_sans=...] [ttl=...]",
		Short: "Issue a certificate and private key into files",
		Long: `Asks the PKI engine to issue a certificate under ROLE (POST <mount>/issue/ROLE)
and writes three PEM files:

  NAME.crt        the certificate
  NAME.key        its private key, mode 0600
  NAME-chain.pem  the issuing CA chain (issuer first)

NAME is -out-prefix, or the common name with characters unsafe in file
names replaced by '_' ("*" becomes "wildcard"). Existing files are
replaced. The serial number and expiry are printed. Any other K=V is sent
as a parameter of the issue call (alt_names, ip_sans, uri_sans, ttl,
exclude_cn_from_sans, private_key_format=pkcs8).`,
		Example: `  $ kinko pki issue web common_name=www.example.com
  $ kinko pki issue web common_name=api.example.com alt_names=api2.example.com ttl=72h
  $ kinko pki issue -mount=pki_int -out-prefix=/etc/tls/server web common_name=svc.example.com ip_sans=10.0.0.5`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.pkiIssue(cmd, &f, args)
		},
	}
	cmd.Flags().StringVar(&f.mount, "mount", "pki", "Mount path of the PKI engine")
	cmd.Flags().StringVar(&f.outPrefix, "out-prefix", "", "Path prefix of the files written (default: the common name)")
	return cmd
}

func (c *cli) pkiIssue(cmd *cobra.Command, f *pkiIssueFlags, args []string) error {
	if len(args) < 2 {
		return fail(exitLocal, "Not enough arguments (expected ROLE and common_name=NAME, got %d)", len(args))
	}
	data, err := newDataParser(c.stdin).parse(args[1:])
	if err != nil {
		return fail(exitLocal, "Failed to parse K=V data: %s", err)
	}
	cn, _ := data["common_name"].(string)
	if cn == "" {
		return fail(exitLocal, "Missing common_name=NAME")
	}
	if v, ok := data["format"]; ok && v != "pem" {
		return fail(exitLocal, "pki issue writes PEM files: leave out format=%v", v)
	}
	data["format"] = "pem"
	prefix := f.outPrefix
	if prefix == "" {
		prefix = fileNameFor(cn)
	}
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	path := strings.Trim(f.mount, "/") + "/issue/" + args[0]
	secret, err := client.Write(cmdCtx(cmd), path, data)
	if err != nil {
		return fail(exitAPI, "Error issuing a certificate at %s: %s", path, err)
	}
	issued, err := parseIssued(secret)
	if err != nil {
		return fail(exitAPI, "Error reading the response of %s: %s", path, err)
	}
	files, err := issued.write(prefix)
	if err != nil {
		return fail(exitLocal, "Error writing the certificate files: %s", err)
	}
	return c.printIssued(secret, issued, files)
}

// issuedFiles is what an issue response provides.
type issuedFiles struct {
	cert, key, chain string
	serial           string
	notAfter         time.Time
}

func parseIssued(s *api.Secret) (*issuedFiles, error) {
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("the server returned no data")
	}
	out := &issuedFiles{}
	out.cert, _ = s.Data["certificate"].(string)
	out.key, _ = s.Data["private_key"].(string)
	out.serial, _ = s.Data["serial_number"].(string)
	if out.cert == "" || out.key == "" {
		return nil, fmt.Errorf("the response has no certificate or private_key")
	}
	block, _ := pem.Decode([]byte(out.cert))
	if block == nil {
		return nil, fmt.Errorf("the certificate is not PEM")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the certificate does not parse: %w", err)
	}
	out.notAfter = c.NotAfter.UTC()
	var chain []string
	if list, ok := s.Data["ca_chain"].([]any); ok {
		for _, x := range list {
			if p, ok := x.(string); ok {
				chain = append(chain, strings.TrimSpace(p))
			}
		}
	}
	if len(chain) == 0 {
		if ca, _ := s.Data["issuing_ca"].(string); ca != "" {
			chain = []string{strings.TrimSpace(ca)}
		}
	}
	out.chain = strings.Join(chain, "\n")
	return out, nil
}

// write stores the three files and returns their paths (cert, key, chain).
func (i *issuedFiles) write(prefix string) ([3]string, error) {
	paths := [3]string{prefix + ".crt", prefix + ".key", prefix + "-chain.pem"}
	contents := [3]string{i.cert, i.key, i.chain}
	modes := [3]os.FileMode{0o644, 0o600, 0o644}
	for n := range paths {
		if err := atomicfile.Write(paths[n], []byte(strings.TrimSpace(contents[n])+"\n"), modes[n]); err != nil {
			return paths, err
		}
	}
	return paths, nil
}

// fileNameFor turns a common name into a safe file name prefix.
func fileNameFor(cn string) string {
	cn = strings.ReplaceAll(cn, "*", "wildcard")
	b := []byte(cn)
	for i, ch := range b {
		ok := ch == '.' || ch == '-' || ch == '_' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
		if !ok {
			b[i] = '_'
		}
	}
	name := strings.TrimLeft(string(b), ".")
	if name == "" {
		return "certificate"
	}
	return name
}

func (c *cli) printIssued(s *api.Secret, i *issuedFiles, files [3]string) error {
	out := map[string]any{
		"serial_number": i.serial, "expiration": i.notAfter.Format(time.RFC3339),
		"certificate_file": files[0], "private_key_file": files[1], "chain_file": files[2],
	}
	if c.isJSON() {
		return c.outputJSON(out)
	}
	c.printWarnings(s)
	c.println("Success! Certificate issued.")
	c.println(kvTable(out))
	return nil
}
