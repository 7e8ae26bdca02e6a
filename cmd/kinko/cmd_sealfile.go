package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/internal/atomicfile"
	"github.com/kinko-dev/kinko/internal/sealfile"
)

const sealFileFormatHelp = `
The format comes from the file name (.yaml/.yml, .json, .env or .env.*,
.ini/.cfg) or from -format: yaml, json, dotenv, ini, or k8s for a
Kubernetes Secret manifest (YAML, or JSON by its name). Without -format a
YAML or JSON file holding an apiVersion: v1, kind: Secret manifest is
sealed in k8s mode: only the values under data and stringData are sealed.`

const sealFileIdentityHelp = `
The data key is recovered with an age identity file from -age-identity,
KINKO_AGE_IDENTITY or SOPS_AGE_KEY_FILE (or the key itself in
KINKO_AGE_KEY), without contacting the server; failing that, with the
file's transit key through the server (the file's transit mount must be
-transit-mount).`

// maxSealFile caps the size of a file read by the seal-file commands.
const maxSealFile = 32 << 20

// sealFileOpts are the flags the commands that open a sealed file share.
type sealFileOpts struct {
	format       string
	identities   []string
	transitMount string
}

func (o *sealFileOpts) register(cmd *cobra.Command, opening bool) {
	fl := cmd.Flags()
	fl.StringVar(&o.format, "format", "", "File format: yaml, json, dotenv, ini or k8s (default: from the file name)")
	fl.StringVar(&o.transitMount, "transit-mount", sealfile.DefaultTransitMount, "Mount path of the transit engine")
	if opening {
		fl.StringArrayVar(&o.identities, "age-identity", nil, "age identity file (AGE-SECRET-KEY-1...); repeatable (env KINKO_AGE_IDENTITY, SOPS_AGE_KEY_FILE)")
	}
}

// sealCmdOpts are the flags of seal-file.
type sealCmdOpts struct {
	sealFileOpts
	ages, transits []string
	inPlace        bool
	encRegex       string
	plainRegex     string
	plainSuffix    string
}

func newSealFileCmd(c *cli) *cobra.Command {
	var o sealCmdOpts
	cmd := &cobra.Command{
		Use:   "seal-file [flags] FILE",
		Short: "Encrypt the values of a YAML, JSON, .env or INI file for Git",
		Long: `Encrypts every value of FILE, leaving its keys, structure, order and
comments readable so diffs stay meaningful, and writes the sealed file to
standard output (or over FILE with -in-place). Each value becomes a
KINKO[AES256_GCM,...] token under a fresh data key; the data key is
wrapped for each -age recipient and/or -transit key (any one of them opens
the file), and a MAC over all keys and values detects any change.

With neither -age nor -transit, the recipients come from
KINKO_AGE_RECIPIENTS or SOPS_AGE_RECIPIENTS (comma-separated).
-encrypted-regex seals only values with a key on their path matching it;
-unencrypted-regex and -unencrypted-suffix leave such values readable.
FILE "-" reads standard input (give -format).` + "\n" + sealFileFormatHelp,
		Example: `  $ age-keygen -o key.txt
  $ kinko seal-file -age age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p config.yaml > config.sealed.yaml
  $ kinko seal-file -transit app -in-place .env
  $ kinko seal-file -age $RECIPIENT -transit app secret.yaml     # a Kubernetes Secret: only data is sealed
  $ kinko seal-file -age $RECIPIENT -encrypted-regex '^(password|token)$' app.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.sealFile(cmdCtx(cmd), args[0], &o)
		},
	}
	o.register(cmd, false)
	fl := cmd.Flags()
	fl.StringArrayVar(&o.ages, "age", nil, "age recipient (age1...) to wrap the data key to; repeatable")
	fl.StringArrayVar(&o.transits, "transit", nil, "Transit key name to wrap the data key with (needs the server); repeatable")
	fl.BoolVar(&o.inPlace, "in-place", false, "Replace FILE with the sealed file instead of printing it")
	fl.StringVar(&o.encRegex, "encrypted-regex", "", "Seal only values with a key on their path matching this regular expression")
	fl.StringVar(&o.plainRegex, "unencrypted-regex", "", "Leave values with a key on their path matching this regular expression readable")
	fl.StringVar(&o.plainSuffix, "unencrypted-suffix", "", "Leave values with a key on their path ending with this suffix readable")
	return cmd
}

// sealFile seals file and prints the result or replaces the file.
func (c *cli) sealFile(ctx context.Context, file string, o *sealCmdOpts) error {
	if o.inPlace && file == "-" {
		return fail(exitLocal, "-in-place needs a file, not standard input")
	}
	format, mode, err := fileFormat(file, o.format, true)
	if err != nil {
		return err
	}
	sources, err := c.sealSources(o.ages, o.transits, o.transitMount)
	if err != nil {
		return err
	}
	plain, err := c.readSealFile(file)
	if err != nil {
		return err
	}
	out, err := sealfile.Seal(ctx, plain, sealfile.SealOptions{Format: format, Mode: mode, Sources: sources,
		EncryptedRegex: o.encRegex, UnencryptedRegex: o.plainRegex, UnencryptedSuffix: o.plainSuffix})
	clear(plain)
	if errors.Is(err, sealfile.ErrAlreadySealed) {
		return fail(exitLocal, "Error: %s is already sealed; change it with \"kinko edit-file\"", file)
	}
	if err != nil {
		return sealFileErr(err)
	}
	if o.inPlace {
		return writeFileKeepMode(file, out)
	}
	_, err = c.stdout.Write(out)
	return err
}

func newUnsealFileCmd(c *cli) *cobra.Command {
	var (
		fo  sealFileOpts
		out string
	)
	cmd := &cobra.Command{
		Use:   "unseal-file [flags] FILE",
		Short: "Decrypt a file sealed by seal-file",
		Long: `Verifies the MAC of a sealed FILE and prints the plaintext file, or writes
it to -out with mode 0600. Nothing is written when any value, key or the
order of entries was changed after sealing. FILE "-" reads standard
input (give -format).` + "\n" + sealFileIdentityHelp + "\n" + sealFileFormatHelp,
		Example: `  $ kinko unseal-file -age-identity key.txt config.sealed.yaml
  $ SOPS_AGE_KEY_FILE=key.txt kinko unseal-file -out .env.plain .env
  $ kinko unseal-file secret.yaml | kubectl apply -f -     # opened with the transit key`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := c.openSealed(cmdCtx(cmd), args[0], &fo)
			if err != nil {
				return err
			}
			defer o.Close()
			if out != "" {
				return atomicfile.Write(out, o.Plaintext(), 0o600)
			}
			_, err = c.stdout.Write(o.Plaintext())
			return err
		},
	}
	fo.register(cmd, true)
	cmd.Flags().StringVar(&out, "out", "", "Write the plaintext to this file (mode 0600) instead of standard output")
	return cmd
}

// fileFormat resolves -format against the file name. sealing tells
// whether a manifest may be detected (mode auto) or -format decides.
func fileFormat(file, flag string, sealing bool) (sealfile.Format, string, error) {
	byName := func() (sealfile.Format, error) {
		if file == "-" {
			return "", fail(exitLocal, "Error: give -format when reading standard input")
		}
		f, err := sealfile.FormatFromName(file)
		if err != nil {
			return "", fail(exitLocal, "Error: %s", err)
		}
		return f, nil
	}
	switch flag {
	case "":
		f, err := byName()
		return f, sealfile.ModeAuto, err
	case "k8s":
		if strings.EqualFold(filepath.Ext(file), ".json") {
			return sealfile.JSON, sealfile.ModeK8s, nil
		}
		return sealfile.YAML, sealfile.ModeK8s, nil
	case "yaml", "json", "dotenv", "ini":
		mode := sealfile.ModeAuto
		if sealing {
			mode = sealfile.ModePlain
		}
		return sealfile.Format(flag), mode, nil
	}
	return "", "", fail(exitLocal, "Invalid -format %q: use yaml, json, dotenv, ini or k8s", flag)
}

// sealSources builds the key sources for seal-file.
func (c *cli) sealSources(ages, transits []string, mount string) ([]sealfile.KeySource, error) {
	if len(ages) == 0 && len(transits) == 0 {
		for _, env := range []string{"KINKO_AGE_RECIPIENTS", "SOPS_AGE_RECIPIENTS"} {
			if v := c.getenv(env); v != "" {
				ages = strings.Split(v, ",")
				break
			}
		}
	}
	if len(ages) == 0 && len(transits) == 0 {
		return nil, fail(exitLocal, "Error: give at least one -age recipient or -transit key (or KINKO_AGE_RECIPIENTS)")
	}
	var out []sealfile.KeySource
	for _, a := range ages {
		src, err := sealfile.AgeRecipient(a)
		if err != nil {
			return nil, fail(exitLocal, "Error: -age: %s", err)
		}
		out = append(out, src)
	}
	for _, k := range transits {
		if err := sealfile.CheckTransitName(strings.Trim(mount, "/"), k); err != nil {
			return nil, fail(exitLocal, "Error: -transit: %s", err)
		}
		out = append(out, &sealfile.Transit{API: c.transitAPI(), Mount: mount, Key: k})
	}
	return out, nil
}

// openSources builds the key sources for opening: the age identities
// (or an empty age source that says none was given), then transit.
func (c *cli) openSources(fo *sealFileOpts) ([]sealfile.KeySource, error) {
	files := fo.identities
	if len(files) == 0 {
		for _, env := range []string{"KINKO_AGE_IDENTITY", "SOPS_AGE_KEY_FILE"} {
			if v := c.getenv(env); v != "" {
				files = []string{v}
				break
			}
		}
	}
	var out []sealfile.KeySource
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fail(exitLocal, "Error reading the age identity file: %s", err)
		}
		src, err := sealfile.AgeIdentities(strings.NewReader(string(b)))
		clear(b)
		if err != nil {
			return nil, fail(exitLocal, "Error: %s: %s", f, err)
		}
		out = append(out, src)
	}
	if key := c.getenv("KINKO_AGE_KEY"); key != "" && len(files) == 0 {
		src, err := sealfile.AgeIdentities(strings.NewReader(key))
		if err != nil {
			return nil, fail(exitLocal, "Error: KINKO_AGE_KEY: %s", err)
		}
		out = append(out, src)
	}
	if len(out) == 0 {
		out = append(out, &sealfile.Age{})
	}
	return append(out, &sealfile.Transit{API: c.transitAPI(), Mount: fo.transitMount}), nil
}

// openSealed reads, verifies and decrypts a sealed file.
func (c *cli) openSealed(ctx context.Context, file string, fo *sealFileOpts) (*sealfile.Opened, error) {
	format, _, err := fileFormat(file, fo.format, false)
	if err != nil {
		return nil, err
	}
	sources, err := c.openSources(fo)
	if err != nil {
		return nil, err
	}
	data, err := c.readSealFile(file)
	if err != nil {
		return nil, err
	}
	o, err := sealfile.Open(ctx, data, sealfile.OpenOptions{Format: format, Sources: sources})
	if a, ok := sources[0].(*sealfile.Age); ok && len(a.Recipients()) == 0 && errors.Is(err, sealfile.ErrNoKey) {
		err = fmt.Errorf("%w\nGive an age identity file with -age-identity, KINKO_AGE_IDENTITY or SOPS_AGE_KEY_FILE", err)
	}
	if err != nil {
		return nil, sealFileErr(err)
	}
	return o, nil
}

// transitAPI calls the server lazily: the client is built on the first
// request, so files opened with age never need a server or a token.
func (c *cli) transitAPI() sealfile.TransitAPI {
	return sealfile.TransitAPIFunc(func(ctx context.Context, path string, data map[string]any) (map[string]any, error) {
		client, err := c.apiClient()
		if err != nil {
			return nil, err
		}
		// -wrap-ttl would wrap the answer and hide the key
		s, err := client.WithoutWrapping().Write(ctx, path, data)
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, errors.New("the server returned no data")
		}
		return s.Data, nil
	})
}

// sealFileErr maps a sealfile error to an exit code: 2 when the server
// failed, else 1.
func sealFileErr(err error) error {
	if errors.Is(err, sealfile.ErrServer) {
		return fail(exitAPI, "Error: %s", err)
	}
	return fail(exitLocal, "Error: %s", err)
}

// readSealFile reads FILE, or standard input for "-", up to maxSealFile.
func (c *cli) readSealFile(file string) ([]byte, error) {
	var r io.Reader = c.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fail(exitLocal, "Error reading %s: %s", file, unwrapPathErr(err))
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxSealFile+1))
	if err != nil {
		return nil, fail(exitLocal, "Error reading %s: %s", file, unwrapPathErr(err))
	}
	if len(b) > maxSealFile {
		return nil, fail(exitLocal, "Error: %s is larger than %d MiB", file, maxSealFile>>20)
	}
	return b, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeFileKeepMode replaces path atomically, keeping its permissions.
func writeFileKeepMode(path string, data []byte) error {
	perm := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	return atomicfile.Write(path, data, perm)
}
