package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/atomicfile"
	"github.com/kinko-dev/kinko/internal/scan"
	"github.com/kinko-dev/kinko/internal/scan/refs"
	"github.com/kinko-dev/kinko/internal/scan/sarif"
)

// Exit codes of kinko scan, for CI gating.
const (
	scanClean    = 0
	scanFindings = 1
	scanError    = 2
)

type scanOpts struct {
	git, staged   bool
	config        string
	baseline      string
	writeBaseline string
	format        string
	showSecrets   bool
	maxSize       string
	workers       int
	vault         string
	yes, rewrite  bool
}

func newScanCmd(c *cli) *cobra.Command {
	var o scanOpts
	cmd := &cobra.Command{
		Use:   "scan [flags] [PATH...]",
		Short: "Find hard-coded secrets in files and git history, and move them into kinko",
		Long: `Scans files and folders (default "."), the history of a git repository
(-git: the lines every commit added, on every branch) or the staged changes
(-staged, for a pre-commit hook; see "kinko scan install-hook") for secrets:
cloud and SaaS tokens, private keys, JWTs, passwords in database URLs and
in assignments, and long random strings near words like token or key.

.git folders, binary files, lockfiles and files over -max-size are skipped.
Rules are built in; a rules file (-config, or .kinko-scan.yaml at the
repository root) adds rules, disables some and allow-lists paths, secrets
and stopwords. A line containing "kinko:allow" is never reported.
-baseline suppresses findings recorded with -write-baseline (by rule, file
and a hash of the secret, so moved lines stay suppressed).

Secrets are shown redacted (first characters and "…") unless -show-secrets.
-format sarif writes SARIF 2.1.0 for GitHub code scanning.

-vault PATH stores each finding (after a y/N question, or all with -yes) in
the KV secret at PATH, named after its variable, and shows the change that
replaces the literal by a reference such as ${kinko:secret/data/app#db_password};
-rewrite applies it. "kinko run" resolves such references in -env values,
-env-file files and its environment.

Exit codes: 0 no secrets found, 1 secrets found, 2 error.`,
		Example: `  $ kinko scan
  $ kinko scan -git -format sarif > kinko-scan.sarif
  $ kinko scan -baseline .kinko-baseline.json src/
  $ kinko scan -vault secret/app -rewrite config/
  $ kinko scan install-hook`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runScan(cmdCtx(cmd), &o, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.git, "git", false, "Scan the git history of the repository at PATH (default .): every commit's added lines")
	fl.BoolVar(&o.staged, "staged", false, "Scan the changes staged for commit (git diff --cached)")
	fl.StringVar(&o.config, "config", "", "Rules file (default: "+scan.ConfigFileName+" at the repository root)")
	fl.StringVar(&o.baseline, "baseline", "", "Do not report findings recorded in this baseline file")
	fl.StringVar(&o.writeBaseline, "write-baseline", "", "Record all findings in this baseline file and exit 0")
	fl.StringVar(&o.format, "format", "", "Output format: table, json or sarif (env KINKO_FORMAT)")
	fl.BoolVar(&o.showSecrets, "show-secrets", false, "Print secrets in full instead of redacted")
	fl.StringVar(&o.maxSize, "max-size", "", "Skip files larger than this, e.g. 10MiB, 512KiB (default 10MiB)")
	fl.IntVar(&o.workers, "workers", 0, "Files scanned in parallel (default: the number of CPUs)")
	fl.StringVar(&o.vault, "vault", "", "Store the secrets found in the KV secret at this path, e.g. secret/app")
	fl.BoolVar(&o.yes, "yes", false, "With -vault: store every finding without asking")
	fl.BoolVar(&o.rewrite, "rewrite", false, "With -vault: replace the secrets in the files by references")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fail(scanError, "Error: %s\nRun with --help for usage.", err)
	})
	cmd.AddCommand(newScanInstallHookCmd(c))
	return cmd
}

// check validates flag combinations and resolves the output format.
func (o *scanOpts) check(c *cli, args []string) error {
	if o.format == "" {
		o.format = c.format
	}
	switch {
	case o.format != "table" && o.format != "json" && o.format != "sarif":
		return fail(scanError, "Invalid output format: %s (use table, json or sarif)", o.format)
	case o.git && o.staged:
		return fail(scanError, "Use -git or -staged, not both")
	case (o.git || o.staged) && len(args) > 1:
		return fail(scanError, "-git and -staged take at most one PATH: the repository")
	case o.vault != "" && (o.git || o.staged):
		return fail(scanError, "-vault works on files: secrets in history cannot be rewritten (rotate them instead)")
	case (o.rewrite || o.yes) && o.vault == "":
		return fail(scanError, "-rewrite and -yes go with -vault")
	case o.workers < 0:
		return fail(scanError, "-workers must not be negative")
	}
	return nil
}

// runScan is the whole scan command; it ends with the scan exit code.
func (c *cli) runScan(ctx context.Context, o *scanOpts, args []string) error {
	if err := o.check(c, args); err != nil {
		return err
	}
	res, s, err := c.scanOnce(ctx, o, args)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		c.warn("Warning: " + w)
	}
	if o.writeBaseline != "" {
		if err := scan.NewBaseline(res.Findings).Write(o.writeBaseline); err != nil {
			return fail(scanError, "Error writing the baseline: %s", err)
		}
		c.warn(fmt.Sprintf("Baseline of %d findings written to %s", len(res.Findings), o.writeBaseline))
		return nil
	}
	if o.baseline != "" {
		b, err := scan.LoadBaseline(o.baseline)
		if err != nil {
			return fail(scanError, "Error reading the baseline: %s", err)
		}
		res.Findings = b.Filter(res.Findings)
	}
	if err := c.printFindings(o, s, res); err != nil {
		return err
	}
	left := res.Findings
	if o.vault != "" && len(left) > 0 {
		if left, err = c.vaultFindings(ctx, o, left); err != nil {
			return err
		}
	}
	if len(left) > 0 {
		return exitCode(scanFindings)
	}
	return nil
}

// scanOnce builds the scanner (rules file, limits) and runs the scan.
func (c *cli) scanOnce(ctx context.Context, o *scanOpts, args []string) (*scan.Result, *scan.Scanner, error) {
	dir := "."
	if len(args) > 0 {
		dir = args[0]
	}
	root := repoRoot(ctx, dir)
	opts := scan.Options{Base: root, Workers: o.workers}
	cfgPath := o.config
	if cfgPath == "" {
		if p := filepath.Join(root, scan.ConfigFileName); fileExists(p) {
			cfgPath = p
		}
	}
	if cfgPath != "" {
		cfg, err := scan.LoadConfig(cfgPath)
		if err != nil {
			return nil, nil, fail(scanError, "Error reading the rules file: %s", err)
		}
		opts.Config = cfg
	}
	if o.maxSize != "" {
		n, err := parseSize(o.maxSize)
		if err != nil {
			return nil, nil, fail(scanError, "Invalid -max-size %q: %s", o.maxSize, err)
		}
		opts.MaxFileSize = n
	}
	s, err := scan.New(opts)
	if err != nil {
		return nil, nil, fail(scanError, "Error: %s", err)
	}
	var res *scan.Result
	switch {
	case o.git:
		res, err = s.GitLog(ctx, dir)
	case o.staged:
		res, err = s.Staged(ctx, dir)
	default:
		res, err = s.Paths(ctx, args)
	}
	if err != nil {
		return nil, nil, fail(scanError, "Error scanning: %s", err)
	}
	return res, s, nil
}

// repoRoot is the top of the git work tree holding dir, else dir itself
// (or its folder, for a file).
func repoRoot(ctx context.Context, dir string) string {
	d := dir
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		d = filepath.Dir(dir)
	}
	out, err := exec.CommandContext(ctx, "git", "-C", d, "rev-parse", "--show-toplevel").Output()
	if err == nil {
		if top := strings.TrimSpace(string(out)); top != "" {
			return top
		}
	}
	return d
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// parseSize parses a byte count: 1048576, 512KiB, 10MiB, 1GiB (KB, MB and
// GB are taken as the binary units too).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, errors.New("use a positive size such as 10MiB, 512KiB or a byte count")
	}
	return n * mult, nil
}

// printFindings writes the findings in the chosen format, and a summary
// on stderr for tables.
func (c *cli) printFindings(o *scanOpts, s *scan.Scanner, res *scan.Result) error {
	var err error
	switch o.format {
	case "json":
		err = scan.WriteJSON(c.stdout, res.Findings, o.showSecrets)
	case "sarif":
		err = sarif.Write(c.stdout, sarif.Build(res.Findings, s.Rules(), toolVersion(), o.showSecrets))
	default:
		c.printFindingsTable(o, res)
	}
	if err != nil {
		return fail(scanError, "Error: %s", err)
	}
	return nil
}

func (c *cli) printFindingsTable(o *scanOpts, res *scan.Result) {
	what := fmt.Sprintf("%d files (%s)", res.Files, humanBytes(res.Bytes))
	if o.git {
		what = fmt.Sprintf("%d commits (%s added)", res.Commits, humanBytes(res.Bytes))
	}
	if len(res.Findings) == 0 {
		c.warn("No secrets found in " + what + ".")
		return
	}
	header := []string{"Rule", "Location", "Secret"}
	if o.git {
		header = append(header, "Commit", "Author", "Date")
	}
	rows := make([][]string, 0, len(res.Findings))
	for _, f := range scan.Show(res.Findings, o.showSecrets) {
		row := []string{f.RuleID, fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column), f.Secret}
		if o.git {
			row = append(row, shortHash(f.Commit), f.Author, f.Date)
		}
		rows = append(rows, row)
	}
	c.println(table(header, rows))
	c.warn(fmt.Sprintf("\n%d secrets found in %s.", len(res.Findings), what))
}

func shortHash(h string) string { return h[:min(len(h), 10)] }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func toolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

// vaultFindings stores the findings the user accepts in the KV secret at
// o.vault, shows (and with -rewrite applies) the rewrite of the files,
// and returns the findings still in the files.
func (c *cli) vaultFindings(ctx context.Context, o *scanOpts, fs []scan.Finding) ([]scan.Finding, error) {
	interactive := isTerminal(c.stdin)
	if !o.yes && !interactive {
		return nil, fail(scanError, "Standard input is not a terminal: use -yes to store every finding without asking")
	}
	kv, err := c.openVaultTarget(ctx, o.vault)
	if err != nil {
		return nil, err
	}
	namer := scan.NewKeyNamer(kv.strings())
	toStore := map[string]any{}
	var reps []scan.Replacement
	ask := bufio.NewReader(c.stdin)
	for i := range fs {
		f := &fs[i]
		key, isNew := namer.Key(f)
		ref := refs.Format(kv.refPath, key)
		if !o.yes && !c.confirm(ask, fmt.Sprintf("Store %s at %s:%d (%s) as %s#%s? [y/N] ", f.RuleID, f.File, f.Line, scan.Redact(f.Secret), kv.refPath, key)) {
			continue
		}
		if isNew {
			toStore[key] = f.Secret
		}
		reps = append(reps, scan.Replacement{Finding: f, Text: ref})
	}
	if len(reps) == 0 {
		return fs, nil
	}
	if err := kv.store(ctx, toStore); err != nil {
		return nil, err
	}
	c.warn(fmt.Sprintf("Stored %d secrets in %s.", len(toStore), kv.refPath))
	return c.rewriteFindings(o, fs, reps)
}

// confirm asks a y/N question on stderr and reads the answer.
func (c *cli) confirm(r *bufio.Reader, question string) bool {
	fmt.Fprint(c.stderr, question)
	line, _ := r.ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// rewriteFindings previews the rewrites (on stdout for tables, else on
// stderr) and applies them with -rewrite.
func (c *cli) rewriteFindings(o *scanOpts, fs []scan.Finding, reps []scan.Replacement) ([]scan.Finding, error) {
	edits, err := scan.PlanRewrites(reps)
	if err != nil {
		return nil, fail(scanError, "Error: %s", err)
	}
	out := c.stdout
	if o.format != "table" {
		out = c.stderr
	}
	for _, e := range edits {
		if err := e.Preview(out, o.showSecrets); err != nil {
			return nil, fail(scanError, "Error: %s", err)
		}
	}
	if !o.rewrite {
		c.warn("Run again with -rewrite to apply these changes.")
		return fs, nil
	}
	for _, e := range edits {
		if err := e.Apply(); err != nil {
			return nil, fail(scanError, "Error rewriting %s: %s", e.Path, err)
		}
		c.warn("Rewrote " + e.Path)
	}
	done := map[*scan.Finding]bool{}
	for _, r := range reps {
		done[r.Finding] = true
	}
	var left []scan.Finding
	for i := range fs {
		if !done[&fs[i]] {
			left = append(left, fs[i])
		}
	}
	return left, nil
}

// vaultTarget is the KV secret -vault writes to.
type vaultTarget struct {
	client  *api.Client
	refPath string         // API path, as references name it
	v2      bool           // KV version 2: data and options are wrapped
	data    map[string]any // the secret's current data
	version int            // its current version (v2), 0 when it does not exist
}

// openVaultTarget resolves the KV mount of prefix and reads what is
// stored there. "secret/app" and "secret/data/app" name the same v2 secret.
func (c *cli) openVaultTarget(ctx context.Context, prefix string) (*vaultTarget, error) {
	client, err := c.apiClient()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, fail(scanError, "%s", ee.msg)
		}
		return nil, fail(scanError, "Error: %s", err)
	}
	t, err := resolveKV(ctx, client, "", prefix)
	if err != nil {
		return nil, err
	}
	if t.v2 {
		if rest, ok := strings.CutPrefix(strings.TrimPrefix(t.partial, t.mount), "data/"); ok {
			t.partial = t.mount + rest
		}
	}
	v := &vaultTarget{client: client, refPath: t.apiPath("data"), v2: t.v2, data: map[string]any{}}
	s, err := client.Read(ctx, v.refPath, nil)
	if err != nil {
		return nil, fail(scanError, "Error reading %s: %s", v.refPath, err)
	}
	if s != nil {
		if d := kvSecretData(s, t.v2); d != nil {
			v.data = d
		}
		if md, ok := s.Data["metadata"].(map[string]any); ok && t.v2 {
			v.version, _ = strconv.Atoi(fmt.Sprint(md["version"]))
		}
	}
	return v, nil
}

// strings returns the string values stored, by key.
func (v *vaultTarget) strings() map[string]string {
	out := map[string]string{}
	for k, val := range v.data {
		if s, ok := val.(string); ok {
			out[k] = s
		}
	}
	return out
}

// store adds values to the secret, keeping the others; on KV v2 the
// write is conditional on the version read, so a concurrent change is not
// lost.
func (v *vaultTarget) store(ctx context.Context, add map[string]any) error {
	if len(add) == 0 {
		return nil
	}
	merged := make(map[string]any, len(v.data)+len(add))
	for k, val := range v.data {
		merged[k] = val
	}
	for k, val := range add {
		merged[k] = val
	}
	body := merged
	if v.v2 {
		body = map[string]any{"data": merged, "options": map[string]any{"cas": v.version}}
	}
	if _, err := v.client.Write(ctx, v.refPath, body); err != nil {
		return fail(scanError, "Error writing %s: %s", v.refPath, err)
	}
	return nil
}

// hookScript is the pre-commit hook install-hook writes.
const hookScript = `#!/bin/sh
# Installed by "kinko scan install-hook": refuse commits that add secrets.
# Skip the check once with "git commit --no-verify".
exec "${KINKO:-kinko}" scan --staged
`

func newScanInstallHookCmd(c *cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "install-hook [flags] [REPO]",
		Short: "Install a git pre-commit hook that runs kinko scan -staged",
		Long: `Writes the pre-commit hook of the repository at REPO (default .), which runs
"kinko scan --staged" before each commit and stops commits that add
secrets. An existing different hook is kept unless -force. The hook runs
"kinko" from PATH, or the program named by $KINKO.`,
		Example: `  $ kinko scan install-hook
  $ kinko scan install-hook -force ../other-repo`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) > 0 {
				dir = args[0]
			}
			return c.installHook(cmdCtx(cmd), dir, force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "Replace an existing pre-commit hook")
	return cmd
}

func (c *cli) installHook(ctx context.Context, dir string, force bool) error {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--git-path", "hooks").Output()
	if err != nil {
		return fail(scanError, "Error: %s is not in a git repository", dir)
	}
	hooks := strings.TrimSpace(string(out))
	if !filepath.IsAbs(hooks) {
		hooks = filepath.Join(dir, hooks)
	}
	path := filepath.Join(hooks, "pre-commit")
	old, err := os.ReadFile(path)
	switch {
	case err == nil && string(old) == hookScript:
		c.warn("The pre-commit hook at " + path + " is already installed.")
		return nil
	case err == nil && !force:
		return fail(scanError, "%s exists and is not kinko's hook: use -force to replace it", path)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fail(scanError, "Error: %s", err)
	}
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return fail(scanError, "Error: %s", err)
	}
	if err := atomicfile.Write(path, []byte(hookScript), 0o755); err != nil {
		return fail(scanError, "Error writing the hook: %s", err)
	}
	c.warn("Installed the pre-commit hook at " + path)
	return nil
}
