package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/audit"
)

// This file holds "kinko audit". list, enable and disable follow the Vault
// CLI; hash (sys/audit-hash) and verify are kinko extensions. verify checks
// the hash chain of audit log files: offline with the chain key in a file,
// or against the device itself, which also proves the log was not cut short.

func newAuditCmd(c *cli) *cobra.Command {
	return group("audit", "Interact with audit devices",
		`Lists, enables and disables audit devices, hashes values as a device
writes them, and verifies the hash chain of audit log files. Every request
the server serves is recorded on every enabled device; when none can record
it, the request is refused.`,
		`  $ kinko audit enable file file_path=/var/log/kinko/audit.log
  $ kinko audit list -detailed
  $ kinko audit verify -device=file/ /var/log/kinko/audit.log`,
		newAuditListCmd(c),
		newAuditEnableCmd(c),
		newAuditDisableCmd(c),
		newAuditHashCmd(c),
		newAuditVerifyCmd(c),
	)
}

func newAuditListCmd(c *cli) *cobra.Command {
	var detailed bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List enabled audit devices",
		Long: `Lists the enabled audit devices with their paths, types and descriptions
(needs sudo on sys/audit). -detailed adds replication, whether the device is
declared in the server config (and so cannot be disabled through the API),
and its options. -format=json prints the devices keyed by path.`,
		Example: "  $ kinko audit list\n  $ kinko audit list -detailed -format=json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			devs, err := client.ListAudit(cmdCtx(cmd))
			if err != nil {
				return fail(exitAPI, "Error listing audit devices: %s", err)
			}
			if c.isJSON() {
				return c.outputJSON(devs)
			}
			if len(devs) == 0 {
				c.println("No audit devices are enabled.")
				return nil
			}
			c.println(auditTable(devs, detailed))
			return nil
		},
	}
	cmd.Flags().BoolVar(&detailed, "detailed", false, "Show each device's replication, options and whether it is declared in the server config")
	return cmd
}

// auditTable renders the device list as Vault does, with kinko's Declared
// column in the detailed table.
func auditTable(devs map[string]*api.Audit, detailed bool) string {
	header := []string{"Path", "Type", "Description"}
	if detailed {
		header = append(header, "Replication", "Declared", "Options")
	}
	rows := make([][]string, 0, len(devs))
	for _, p := range sortedKeys(devs) {
		d := devs[p]
		row := []string{p, d.Type, d.Description}
		if detailed {
			replication := "replicated"
			if d.Local {
				replication = "local"
			}
			row = append(row, replication, fmt.Sprint(d.Declared), optionsString(d.Options))
		}
		rows = append(rows, row)
	}
	return table(header, rows)
}

// optionsString renders options as sorted key=value words.
func optionsString(opts map[string]string) string {
	parts := make([]string, 0, len(opts))
	for _, k := range sortedKeys(opts) {
		parts = append(parts, k+"="+opts[k])
	}
	return strings.Join(parts, " ")
}

func newAuditEnableCmd(c *cli) *cobra.Command {
	var path string
	in := &api.EnableAuditOptions{}
	cmd := &cobra.Command{
		Use:   "enable [flags] TYPE [K=V...]",
		Short: "Enable an audit device",
		Long: `Enables an audit device of TYPE (file, socket or syslog) at -path (default:
TYPE). Options are K=V arguments: file_path, mode, log_raw, hmac_accessor for
file devices; address, socket_type, write_timeout for socket devices;
facility, tag for syslog. A file device enabled this way may only write
below the server's audit directory (audit_dir in the server config).`,
		Example: `  $ kinko audit enable file file_path=/var/log/kinko/audit.log
  $ kinko audit enable -path=siem -description="SIEM feed" socket address=siem.example:9090 socket_type=tcp`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Type = sanitizePath(args[0])
			opts, err := parseKVFlags("option", args[1:])
			if err != nil {
				return fail(exitLocal, "Error: %s", strings.TrimPrefix(err.Error(), "-"))
			}
			in.Options = opts
			if path == "" {
				path = in.Type
			}
			path = ensureTrailingSlash(sanitizePath(path))
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			if err := client.EnableAudit(cmdCtx(cmd), path, in); err != nil {
				return fail(exitAPI, "Error enabling audit device: %s", err)
			}
			c.println(fmt.Sprintf("Success! Enabled the %s audit device at: %s", in.Type, path))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&path, "path", "", "Path of the device (default: TYPE)")
	fl.StringVar(&in.Description, "description", "", "Human-friendly description of the device")
	fl.BoolVar(&in.Local, "local", false, "Do not replicate the device to other clusters")
	return cmd
}

func newAuditDisableCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "disable PATH",
		Short: "Disable an audit device",
		Long: `Disables the audit device at PATH; its log file stays where it is. Devices
declared in the server config cannot be disabled here.`,
		Example: "  $ kinko audit disable file/",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := ensureTrailingSlash(sanitizePath(args[0]))
			if err := client.DisableAudit(cmdCtx(cmd), p); err != nil {
				return fail(exitAPI, "Error disabling audit device: %s", err)
			}
			c.println("Success! Disabled audit device (if it was enabled) at: " + p)
			return nil
		},
	}
}

func newAuditHashCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "hash PATH INPUT",
		Short: "HMAC a value as an audit device writes it",
		Long: `Prints the HMAC the audit device at PATH writes for INPUT ("-" reads it from
standard input, keeping it out of shell history), so its log can be
searched for a known value. -format=json prints {"hash": ...}.`,
		Example: "  $ kinko audit hash file/ my-secret-value\n  $ printf %s \"$TOKEN\" | kinko audit hash file/ -",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			input, err := c.secretArg(args[1:], "Value to hash (will be hidden): ")
			if err != nil {
				return fail(exitLocal, "Error reading the input: %s", err)
			}
			client, err := c.apiClient()
			if err != nil {
				return err
			}
			p := ensureTrailingSlash(sanitizePath(args[0]))
			hash, err := client.AuditHash(cmdCtx(cmd), p, input)
			if err != nil {
				return fail(exitAPI, "Error hashing with audit device %s: %s", p, err)
			}
			if c.isJSON() {
				return c.outputJSON(map[string]string{"hash": hash})
			}
			c.println(hash)
			return nil
		},
	}
}

// Outcomes of "audit verify", the status of its JSON report.
const (
	verifyOK        = "ok"
	verifyBroken    = "broken"    // a line was edited, deleted, inserted or reordered
	verifyTruncated = "truncated" // the log ends before the device's head
	verifyRestarted = "restarted" // the chain restarts (a failure only with -strict)
)

// verifyReport is what "audit verify -format=json" prints.
type verifyReport struct {
	Status  string       `json:"status"`
	OK      bool         `json:"ok"`
	Problem string       `json:"problem,omitempty"`
	HeadSeq uint64       `json:"device_head_seq,omitempty"`
	Files   []verifyFile `json:"files"`
}

// verifyFile is the outcome for one file; files after a break are not read.
type verifyFile struct {
	File     string `json:"file"`
	Lines    int    `json:"lines"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	Broken   int    `json:"broken_line,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Restarts []int  `json:"restart_lines,omitempty"`
}

func (r *verifyReport) fail(status, format string, a ...any) {
	r.Status, r.OK, r.Problem = status, false, fmt.Sprintf(format, a...)
}

type verifyFlags struct {
	device, keyFile string
	strict          bool
}

func newAuditVerifyCmd(c *cli) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify [-device=PATH | -key-file=FILE] [-strict] FILE...",
		Short: "Verify the hash chain of audit log files",
		Long: `Checks that the audit log FILEs (oldest first, as rotated) form one unbroken
hash chain: every line carries its seq and the HMAC of the line before it,
so an edited, deleted, inserted or reordered line is found. The chain key
comes from the server with -device (needs sudo on sys/audit-chain), which
also proves the log was not cut short: the last line the device had written
must be in it. -key-file reads the key in hex from a file instead, to check
copies offline.

A chain that starts again at seq 1 (the server restarted on a log it could
not continue) is a warning, and a failure with -strict. The first line of
the oldest file is taken on trust when it continues an older file not given.

Exit code 0: intact; 1: broken, truncated, (with -strict) restarted, or a
usage error; 2: the server could not be asked.`,
		Example: `  $ kinko audit verify -device=file/ /var/log/kinko/audit.log.1 /var/log/kinko/audit.log
  $ kinko audit verify -key-file=chain.key -strict audit.log`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.runAuditVerify(cmd, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.device, "device", "", "Path of the audit device that wrote the files, e.g. file/")
	fl.StringVar(&f.keyFile, "key-file", "", "File holding the device's chain key in hex, for offline checks")
	fl.BoolVar(&f.strict, "strict", false, "Fail when the chain restarts at seq 1")
	return cmd
}

func (c *cli) runAuditVerify(cmd *cobra.Command, f *verifyFlags, files []string) error {
	if (f.device == "") == (f.keyFile == "") {
		return fail(exitLocal, "Error: give exactly one of -device=PATH and -key-file=FILE")
	}
	var key []byte
	var head *audit.Head
	var err error
	if f.keyFile != "" {
		key, err = readChainKey(f.keyFile)
	} else {
		key, head, err = c.deviceChain(cmd, f.device)
	}
	if err != nil {
		return err
	}
	defer clear(key)
	rep, err := verifyFiles(files, key, head)
	if err != nil {
		return fail(exitLocal, "Error: %s", err)
	}
	if f.strict {
		rep.applyStrict()
	}
	if err := c.printVerify(rep); err != nil {
		return err
	}
	if !rep.OK {
		return exitCode(exitLocal)
	}
	return nil
}

// readChainKey reads a hex chain key from a file; errors never quote it.
func readChainKey(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fail(exitLocal, "Error reading the key file: %s", err)
	}
	defer clear(b)
	text := bytes.TrimSpace(b)
	key := make([]byte, hex.DecodedLen(len(text)))
	if _, err := hex.Decode(key, text); err != nil || len(key) == 0 {
		return nil, fail(exitLocal, "Error: %s must hold the chain key in hex (from sys/audit-chain/PATH)", name)
	}
	return key, nil
}

// deviceChain reads the chain key and head of the audit device at path.
// It is read before the files, so they must hold the head.
func (c *cli) deviceChain(cmd *cobra.Command, device string) ([]byte, *audit.Head, error) {
	client, err := c.apiClient()
	if err != nil {
		return nil, nil, err
	}
	p := ensureTrailingSlash(sanitizePath(device))
	ch, err := client.AuditChain(cmdCtx(cmd), p)
	if err != nil {
		return nil, nil, fail(exitAPI, "Error reading the hash chain of audit device %s: %s", p, err)
	}
	key, err := hex.DecodeString(ch.ChainKey)
	if err != nil || len(key) == 0 {
		return nil, nil, fail(exitAPI, "Error: the server sent no valid chain key for audit device %s", p)
	}
	return key, &audit.Head{Seq: ch.Seq, HMAC: ch.HeadHMAC}, nil
}

// verifyFiles verifies the files in order, each continuing the chain of
// the one before. With a device head it also checks that the head's line
// is there, unchanged.
func verifyFiles(files []string, key []byte, head *audit.Head) (*verifyReport, error) {
	rep := &verifyReport{Status: verifyOK, OK: true}
	var find *headFinder
	if head != nil && head.Seq > 0 {
		rep.HeadSeq = head.Seq
		find = newHeadFinder(key, head.Seq)
	}
	var prev *audit.Head
	for _, name := range files {
		r, err := verifyPath(name, key, prev, find)
		if err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, verifyFile{File: name, Lines: r.Lines, FirstSeq: r.FirstSeq,
			LastSeq: r.Last.Seq, Broken: r.Broken, Reason: r.Reason, Restarts: r.Restarts})
		if r.Broken != 0 {
			rep.fail(verifyBroken, "%s line %d: %s", name, r.Broken, r.Reason)
			return rep, nil
		}
		if r.Lines > 0 {
			last := r.Last
			prev = &last
		}
	}
	if find != nil {
		rep.checkHead(find, *head, files[len(files)-1], prev)
	}
	return rep, nil
}

// verifyPath verifies the file name after prev (nil for the first file).
func verifyPath(name string, key []byte, prev *audit.Head, find *headFinder) (*audit.Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return verifyOne(name, f, key, prev, find)
}

// verifyOne verifies the log read from src, named name, after prev. A
// file that starts a new chain (seq 1 with no prev_hmac) after an earlier
// file is a restart, not a break: the server restarted after a rotation.
func verifyOne(name string, src io.Reader, key []byte, prev *audit.Head, find *headFinder) (*audit.Report, error) {
	if find != nil {
		find.start(name)
		defer find.end()
		src = io.TeeReader(src, find)
	}
	br := bufio.NewReaderSize(src, 64<<10)
	first, err := br.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, err
	}
	restart := prev != nil && startsChain(first)
	if restart {
		prev = nil
	}
	rep, err := audit.Verify(io.MultiReader(bytes.NewReader(first), br), key, prev)
	if err == nil && restart {
		rep.Restarts = append([]int{1}, rep.Restarts...)
	}
	return rep, err
}

// startsChain reports whether line is the first line of a chain.
func startsChain(line []byte) bool {
	var l struct {
		Seq  uint64  `json:"seq"`
		Prev *string `json:"prev_hmac"`
	}
	err := json.Unmarshal(bytes.TrimRight(line, "\r\n"), &l)
	return err == nil && l.Seq == 1 && l.Prev != nil && *l.Prev == ""
}

// checkHead checks the device head against the verified files: end is the
// chain head after the last file (nil if they were empty).
func (r *verifyReport) checkHead(find *headFinder, head audit.Head, lastFile string, end *audit.Head) {
	var endSeq uint64
	if end != nil {
		endSeq = end.Seq
	}
	switch {
	case endSeq < head.Seq:
		r.fail(verifyTruncated, "the device has written up to seq %d but %s ends at seq %d", head.Seq, lastFile, endSeq)
	case !find.found:
		r.fail(verifyBroken, "seq %d, the last line the device had written, is not in the files (give the older files too)", head.Seq)
	case !hmac.Equal([]byte(find.mac), []byte(head.HMAC)):
		r.fail(verifyBroken, "%s: not the line the device wrote as seq %d (the log was rewritten from there)", find.at, head.Seq)
	}
}

// applyStrict makes the first chain restart a failure.
func (r *verifyReport) applyStrict() {
	if !r.OK {
		return
	}
	for _, f := range r.Files {
		if len(f.Restarts) > 0 {
			r.fail(verifyRestarted, "%s line %d: the chain restarts at seq 1 (-strict)", f.File, f.Restarts[0])
			return
		}
	}
}

// headFinder watches the bytes verify reads for the line with the device
// head's seq and keeps the chain HMAC of the last such line (a seq repeats
// only after a restart, and the head is in the newest chain).
type headFinder struct {
	key     []byte
	seq     uint64
	needle  []byte // `"seq":N,` as the device writes it
	partial []byte // an unfinished line
	file    string
	line    int // lines seen in file
	found   bool
	at      string // "FILE line N" of the head's line
	mac     string
}

func newHeadFinder(key []byte, seq uint64) *headFinder {
	return &headFinder{key: key, seq: seq, needle: fmt.Appendf(nil, `"seq":%d,`, seq)}
}

func (h *headFinder) start(file string) {
	h.file, h.line, h.partial = file, 0, h.partial[:0]
}

// end checks the file's last line when it has no newline.
func (h *headFinder) end() {
	if len(h.partial) > 0 {
		h.check(h.partial)
		h.partial = h.partial[:0]
	}
}

func (h *headFinder) Write(p []byte) (int, error) {
	n := len(p)
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			h.partial = append(h.partial, p...)
			return n, nil
		}
		if len(h.partial) > 0 {
			h.partial = append(h.partial, p[:i]...)
			h.check(h.partial)
			h.partial = h.partial[:0]
		} else {
			h.check(p[:i])
		}
		p = p[i+1:]
	}
}

func (h *headFinder) check(line []byte) {
	h.line++
	line = bytes.TrimRight(line, "\r")
	if !bytes.Contains(line, h.needle) {
		return
	}
	var l struct {
		Seq uint64 `json:"seq"`
	}
	if json.Unmarshal(line, &l) != nil || l.Seq != h.seq {
		return
	}
	h.found, h.at, h.mac = true, fmt.Sprintf("%s line %d", h.file, h.line), audit.LineMAC(h.key, line)
}

func (c *cli) printVerify(r *verifyReport) error {
	if c.isJSON() {
		return c.outputJSON(r)
	}
	for i, f := range r.Files {
		if i == 0 && f.FirstSeq > 1 {
			c.warn(fmt.Sprintf("WARNING: %s starts at seq %d: its first line is taken on trust (give the older files to check it)", f.File, f.FirstSeq))
		}
		for _, l := range f.Restarts {
			c.warn(fmt.Sprintf("WARNING: %s line %d starts a new chain at seq 1: lines before it may be missing", f.File, l))
		}
		switch {
		case f.Broken != 0:
		case f.Lines == 0:
			c.println(fmt.Sprintf("OK: %s: empty", f.File))
		default:
			c.println(fmt.Sprintf("OK: %s: %d lines, seq %d..%d, chain intact%s", f.File, f.Lines, f.FirstSeq, f.LastSeq, restartNote(f.Restarts)))
		}
	}
	switch r.Status {
	case verifyTruncated:
		c.println("TRUNCATED: " + r.Problem)
	case verifyBroken, verifyRestarted:
		c.println("BROKEN: " + r.Problem)
	}
	return nil
}

func restartNote(lines []int) string {
	if len(lines) == 0 {
		return ""
	}
	words := make([]string, len(lines))
	for i, l := range lines {
		words[i] = strconv.Itoa(l)
	}
	return " (restarts at line " + strings.Join(words, ", ") + ")"
}
