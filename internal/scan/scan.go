// Package scan finds hard-coded secrets in files, in git history and in
// staged changes, and helps move them into kinko.
//
// What a secret looks like is package rules' business; this package owns
// where to look and what to do with what is found:
//
//   - Paths walks files and folders (skipping .git, binary files, files over
//     a size limit and allow-listed paths) through a pipeline of one walker
//     and N workers (GOMAXPROCS by default); each file is read once into a
//     worker's buffer and scanned by one Aho-Corasick pass plus the
//     regular expressions of the lines it flags.
//   - GitLog and Staged stream "git log -p" / "git diff --cached" and scan
//     the added lines of every hunk, with the commit, author and date.
//   - Baselines suppress known findings by fingerprint (rule, file and a
//     hash of the secret, not the line); SARIF and JSON render results.
//   - Rewrites replace secrets in files by ${kinko:PATH#KEY} references
//     (package refs resolves them again).
//
// Findings hold the secret itself so it can be stored in kinko; it is
// never printed unredacted unless asked for (Redact). A Scanner is
// immutable and safe for concurrent use.
package scan

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"runtime"
	"slices"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/scan/rules"
)

// Finding is one secret found.
type Finding struct {
	RuleID      string  `json:"rule"`
	Description string  `json:"description"`
	File        string  `json:"file"`
	Line        int     `json:"line"`
	Column      int     `json:"column"`
	EndLine     int     `json:"end_line"`
	Name        string  `json:"name,omitempty"` // variable the secret is assigned to
	Entropy     float64 `json:"entropy"`
	Fingerprint string  `json:"fingerprint"`
	Commit      string  `json:"commit,omitempty"`
	Author      string  `json:"author,omitempty"`
	Email       string  `json:"email,omitempty"`
	Date        string  `json:"date,omitempty"`
	// Secret is the value found. It is never marshalled.
	Secret string `json:"-"`
	// Rel is File relative to the repository root (Options.Base),
	// slash-separated: fingerprints and SARIF use it, so they do not
	// depend on where the scan ran from.
	Rel string `json:"-"`
	// Key is the rule's default name for the secret in kinko.
	Key string `json:"-"`
	// Offset is the secret's byte offset in File, or -1 when the finding
	// does not come from the file as it is on disk (git history, index).
	Offset int64 `json:"-"`

	seq int // producer order: walk order or diff order
}

// Result is what a scan found.
type Result struct {
	Findings []Finding
	Files    int      // files (or file diffs) scanned
	Bytes    int64    // bytes scanned
	Commits  int      // commits read, for git scans
	Skipped  int      // files skipped: binary, too large, allow-listed
	Warnings []string // files that could not be read, and why
}

// Options configures a Scanner.
type Options struct {
	Config      *Config // nil: the built-in rules and allow list
	MaxFileSize int64   // files larger are skipped; 0: Config's or DefaultMaxFileSize
	Workers     int     // 0: GOMAXPROCS
	// Base is the folder allow-listed path patterns are relative to (the
	// repository root); "" is the current directory.
	Base string
}

// Scanner scans with one compiled configuration.
type Scanner struct {
	c       *compiled
	maxSize int64
	workers int
	base    string
}

// New compiles the configuration.
func New(opts Options) (*Scanner, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = &Config{}
	}
	c, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	s := &Scanner{c: c, maxSize: opts.MaxFileSize, workers: opts.Workers, base: opts.Base}
	if s.maxSize <= 0 {
		s.maxSize = c.maxSize
	}
	if s.maxSize <= 0 {
		s.maxSize = DefaultMaxFileSize
	}
	if s.workers <= 0 {
		s.workers = runtime.GOMAXPROCS(0)
	}
	return s, nil
}

// Rules returns the enabled rules, in rank order.
func (s *Scanner) Rules() []*rules.Rule { return s.c.matcher.Rules() }

// chunk is a piece of text to scan with where it comes from.
type chunk struct {
	file      string
	rel       string // file relative to the base, slash-separated
	data      []byte
	firstLine int   // line number of data's first line
	offset    int64 // data's offset in the file on disk, or -1
	seq       int
	commit    *commitInfo
}

type commitInfo struct {
	hash, author, email, date string
}

// scanChunk scans one chunk and appends its findings to out.
func (s *Scanner) scanChunk(ch *chunk, out []Finding) []Finding {
	s.c.matcher.Scan(ch.data, func(m *rules.Match) {
		f := Finding{
			RuleID: m.Rule.ID(), Description: m.Rule.Description, File: ch.file,
			Line: ch.firstLine + m.Line - 1, EndLine: ch.firstLine + m.EndLine - 1, Column: m.Column,
			Name: m.Name, Entropy: round2(m.Entropy), Secret: string(m.Secret), Key: m.Rule.Key,
			Offset: -1, seq: ch.seq,
		}
		if ch.offset >= 0 {
			f.Offset = ch.offset + int64(m.Start)
		}
		if ch.commit != nil {
			f.Commit, f.Author, f.Email, f.Date = ch.commit.hash, ch.commit.author, ch.commit.email, ch.commit.date
		}
		f.Rel = cmpOr(ch.rel, filepath.ToSlash(ch.file))
		f.Fingerprint = Fingerprint(f.RuleID, f.Rel, f.Secret)
		out = append(out, f)
	})
	return out
}

func round2(x float64) float64 { return float64(int(x*100+0.5)) / 100 }

// Fingerprint identifies a finding across scans: the rule, the file and
// the first 16 hex digits of the SHA-256 of the secret, so a secret that
// moves to another line keeps its fingerprint. (A hash of a weak password
// can be guessed; keep baselines as private as the code.)
func Fingerprint(rule, file, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return rule + ":" + file + ":" + hex.EncodeToString(sum[:8])
}

// sortFindings orders findings by producer order, then position.
func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.seq, b.seq), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column), cmp.Compare(a.RuleID, b.RuleID))
	})
}

// Redact shows the first 4 characters of a secret followed by "…" (fewer
// for short secrets: a third of them at most).
func Redact(secret string) string {
	n := utf8.RuneCountInString(secret)
	show := min(4, n/3)
	i := 0
	for k := 0; k < show; k++ {
		_, size := utf8.DecodeRuneInString(secret[i:])
		i += size
	}
	return secret[:i] + "…"
}
