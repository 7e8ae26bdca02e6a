package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/atomicfile"
)

// maxPublicKeyFile bounds the public key file the sign command reads.
const maxPublicKeyFile = 64 << 10

func newSSHCmd(c *cli) *cobra.Command {
	return group("ssh", "Interact with the SSH secrets engine",
		`Uses the SSH secrets engine, kinko's SSH certificate authority: "sign" has
a role of the engine sign a public key, and saves the certificate where
ssh(1) finds it. Configure the engine with "kinko write" (config/ca, roles/).`,
		`  $ kinko ssh sign -principals=alice dev ~/.ssh/id_ed25519.pub
  $ kinko ssh sign -mount=ssh-host-signer -cert-type=host host /etc/ssh/ssh_host_ed25519_key.pub`,
		newSSHSignCmd(c),
	)
}

// sshSignFlags are the flags of "kinko ssh sign".
type sshSignFlags struct {
	mount      string
	principals string
	ttl        durationValue
	certType   string
	out        string
}

func newSSHSignCmd(c *cli) *cobra.Command {
	var f sshSignFlags
	cmd := &cobra.Command{
		Use:   "sign [flags] ROLE PUBKEYFILE",
		Short: "Sign an SSH public key with the SSH CA",
		Long: `Sends the public key in PUBKEYFILE to <mount>/sign/ROLE and writes the
certificate the server returns next to the key, as ssh(1) expects it:
id_ed25519.pub gives id_ed25519-cert.pub (a file not ending in .pub gets
-cert.pub appended). -out names another file. The file is written with mode
0644; an existing certificate there is replaced.

-principals lists the user names (or, with -cert-type=host, the host names)
the certificate is valid for; without it the role's default_user is used.
-ttl asks for a lifetime up to the role's max_ttl.`,
		Example: `  $ kinko ssh sign -principals=alice dev ~/.ssh/id_ed25519.pub
  $ kinko ssh sign -principals=alice,deploy -ttl=1h dev ~/.ssh/id_ed25519.pub
  $ kinko ssh sign -mount=ssh-host-signer -cert-type=host -principals=web1.example.com \
      host /etc/ssh/ssh_host_ed25519_key.pub
  $ kinko ssh sign -out=/tmp/alice-cert.pub dev alice.pub`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.sshSign(cmd, &f, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.mount, "mount", "ssh", "Mount path of the SSH secrets engine")
	fl.StringVar(&f.principals, "principals", "", "Comma-separated principals (user or host names) of the certificate")
	fl.Var(&f.ttl, "ttl", "Lifetime of the certificate, e.g. 30m, 12h (default: the role's ttl)")
	fl.StringVar(&f.certType, "cert-type", "user", "Type of certificate: user or host")
	fl.StringVar(&f.out, "out", "", "File to write the certificate to (default: next to the key, <name>-cert.pub)")
	return cmd
}

func (c *cli) sshSign(cmd *cobra.Command, f *sshSignFlags, role, keyFile string) error {
	mount, role := sanitizePath(f.mount), strings.TrimSpace(role)
	if mount == "" || role == "" || strings.Contains(role, "/") {
		return fail(exitLocal, "Invalid -mount or ROLE: give a mount path and a role name without \"/\"")
	}
	if f.certType != "user" && f.certType != "host" {
		return fail(exitLocal, "Invalid -cert-type %q: use user or host", f.certType)
	}
	pub, err := readPublicKeyFile(keyFile)
	if err != nil {
		return fail(exitLocal, "Error reading %s: %s", keyFile, err)
	}
	out := f.out
	if out == "" {
		out = certPath(keyFile)
	}
	if sameFile(out, keyFile) {
		return fail(exitLocal, "Refusing to write the certificate over the public key %s: choose another -out", keyFile)
	}
	data := map[string]any{"public_key": pub, "cert_type": f.certType}
	if f.principals != "" {
		data["valid_principals"] = f.principals
	}
	if f.ttl.d > 0 {
		data["ttl"] = f.ttl.seconds()
	}
	client, err := c.apiClient()
	if err != nil {
		return err
	}
	path := mount + "/sign/" + role
	secret, err := client.Write(cmdCtx(cmd), path, data)
	if err != nil {
		return fail(exitAPI, "Error signing the key with %s: %s", path, err)
	}
	if wrapped, err := c.outputWrapped(secret, ""); wrapped {
		return err
	}
	var signed string
	if secret != nil {
		signed, _ = secret.Data["signed_key"].(string)
	}
	cert, err := parseCertificate(signed)
	if err != nil {
		return fail(exitAPI, "Error: %s returned no usable certificate: %s", path, err)
	}
	if err := atomicfile.Write(out, []byte(signed), 0o644); err != nil {
		return fail(exitLocal, "Error writing the certificate: %s", err)
	}
	return c.printCertificate(out, cert)
}

// readPublicKeyFile reads and checks an SSH public key file. A private key
// is refused without quoting it.
func readPublicKeyFile(name string) (string, error) {
	fh, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxPublicKeyFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxPublicKeyFile {
		return "", fmt.Errorf("larger than %d bytes, not a public key", maxPublicKeyFile)
	}
	if bytes.Contains(b, []byte("PRIVATE KEY")) {
		return "", errors.New("this is a private key; give the public key (the .pub file)")
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return "", errors.New("not an SSH public key (expected a line like \"ssh-ed25519 AAAA... comment\")")
	}
	if _, isCert := key.(*ssh.Certificate); isCert {
		return "", errors.New("this is a certificate; give the public key it was made for")
	}
	return strings.TrimSpace(string(b)), nil
}

// certPath is where ssh(1) looks for the certificate of a key:
// id_ed25519.pub -> id_ed25519-cert.pub.
func certPath(pubFile string) string {
	return strings.TrimSuffix(pubFile, ".pub") + "-cert.pub"
}

// sameFile reports whether two names are the same file (or the same path).
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

func parseCertificate(line string) (*ssh.Certificate, error) {
	if line == "" {
		return nil, errors.New("signed_key is missing")
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, err
	}
	cert, ok := key.(*ssh.Certificate)
	if !ok {
		return nil, errors.New("signed_key is not a certificate")
	}
	return cert, nil
}

// printCertificate reports where the certificate went and what it says.
func (c *cli) printCertificate(path string, cert *ssh.Certificate) error {
	kind := "user"
	if cert.CertType == ssh.HostCert {
		kind = "host"
	}
	m := map[string]any{
		"path": path, "serial_number": fmt.Sprintf("%x", cert.Serial), "key_id": cert.KeyId, "cert_type": kind,
		"principals":   cert.ValidPrincipals,
		"valid_after":  time.Unix(int64(cert.ValidAfter), 0).UTC().Format(time.RFC3339),
		"valid_before": time.Unix(int64(cert.ValidBefore), 0).UTC().Format(time.RFC3339),
	}
	if !c.isJSON() {
		c.println("Success! Wrote the certificate to: " + path)
	}
	return c.outputMap(m)
}
