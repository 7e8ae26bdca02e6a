// Package rules owns what a secret looks like: the built-in detection
// rules, the compilation of user rules, and Matcher, the line scanner that
// finds secrets in a chunk of text.
//
// A rule is a regular expression with a capture group holding the secret,
// keywords for a cheap prefilter, an optional Shannon-entropy threshold and
// an optional Go check. Matcher compiles all rules once; Scan then makes
// one Aho-Corasick pass over the chunk to find the lines holding any
// keyword (case-insensitive), and runs only those lines' rules' regular
// expressions. A finding is dropped when its secret is a placeholder
// (changeme, ${VAR}, <...>, xxx, env lookups...), matches an allow-list
// regex or stopword, or its line carries the inline marker "kinko:allow".
// Within a line, a secret claimed by a more specific rule is not reported
// again by a generic one.
//
// A Matcher is immutable after NewMatcher and safe for concurrent use.
package rules

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// ErrInvalid is wrapped by every error about a bad rule or allow list.
var ErrInvalid = errors.New("invalid rule")

// Spec declares one rule, as built in or as written in a rules file.
type Spec struct {
	ID          string   `yaml:"id" json:"id"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Regex       string   `yaml:"regex" json:"regex"`
	Keywords    []string `yaml:"keywords,omitempty" json:"keywords,omitempty"`
	// SecretGroup is the capture group holding the secret (0: the whole
	// match). A group named "secret" wins when present.
	SecretGroup int `yaml:"secret_group,omitempty" json:"secret_group,omitempty"`
	// Entropy is the least Shannon entropy (bits per byte) the secret
	// must have; 0 disables the check.
	Entropy float64 `yaml:"entropy,omitempty" json:"entropy,omitempty"`
	// Multiline rules match from the keyword's line over up to 16 KiB, for
	// secrets that span lines (PEM private keys).
	Multiline bool `yaml:"multiline,omitempty" json:"multiline,omitempty"`
	// Key names the secret when stored in kinko, unless the finding sits
	// in an assignment whose variable name is used instead.
	Key string `yaml:"key,omitempty" json:"key,omitempty"`

	generic bool                    // ranks after specific rules
	check   func(m *candidate) bool // built-in extra filter
	gate    func(line []byte) bool  // built-in cheap precondition
	// find, for built-in rules, does the regex's work in Go: it calls fn
	// with the name and secret offsets of each match in the line.
	find func(line []byte, fn func(nameStart, nameEnd, valStart, valEnd int))
}

// Rule is a compiled Spec.
type Rule struct {
	Spec
	re        *regexp.Regexp
	secretIdx []int // capture groups to try for the secret, in order
	nameIdx   int   // capture group of the variable name, or -1
}

// ID returns the rule's identifier.
func (r *Rule) ID() string { return r.Spec.ID }

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Compile checks s and compiles its regular expression.
func Compile(s Spec) (*Rule, error) {
	if !idPattern.MatchString(s.ID) {
		return nil, fmt.Errorf("%w: id %q: use 1-64 lower-case letters, digits, '.', '_' or '-'", ErrInvalid, s.ID)
	}
	if s.Regex == "" {
		return nil, fmt.Errorf("%w %s: regex is required", ErrInvalid, s.ID)
	}
	re, err := regexp.Compile(s.Regex)
	if err != nil {
		return nil, fmt.Errorf("%w %s: regex does not compile: %v", ErrInvalid, s.ID, err)
	}
	if s.Entropy < 0 || s.Entropy > 8 || math.IsNaN(s.Entropy) {
		return nil, fmt.Errorf("%w %s: entropy must be between 0 and 8 bits per byte", ErrInvalid, s.ID)
	}
	if s.SecretGroup < 0 || s.SecretGroup > re.NumSubexp() {
		return nil, fmt.Errorf("%w %s: secret_group %d: the regex has %d groups", ErrInvalid, s.ID, s.SecretGroup, re.NumSubexp())
	}
	for _, k := range s.Keywords {
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%w %s: keywords must not be empty strings", ErrInvalid, s.ID)
		}
	}
	r := &Rule{Spec: s, re: re, nameIdx: re.SubexpIndex("name")}
	for i, n := range re.SubexpNames() {
		if n == "secret" || strings.HasPrefix(n, "secret_") {
			r.secretIdx = append(r.secretIdx, i)
		}
	}
	if len(r.secretIdx) == 0 {
		r.secretIdx = []int{s.SecretGroup}
	}
	return r, nil
}

// candidate is one regex match under examination.
type candidate struct {
	rule   *Rule
	line   []byte // the whole line (or window, for multiline rules)
	loc    []int  // the match's submatch indexes into line
	secret []byte
	name   []byte // variable name, when the rule captures one
	start  int    // secret offset in line
}

// group returns the named capture group of the match, if it took part.
func (c *candidate) group(name string) ([]byte, bool) {
	i := c.rule.re.SubexpIndex(name)
	if i < 0 || c.loc[2*i] < 0 {
		return nil, false
	}
	return c.line[c.loc[2*i]:c.loc[2*i+1]], true
}

// Entropy returns the Shannon entropy of b in bits per byte.
func Entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	h := 0.0
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
