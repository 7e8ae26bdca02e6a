package rules

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// AllowMarker on a line suppresses every finding that starts on it.
const AllowMarker = "kinko:allow"

// multilineWindow bounds how far a multiline rule looks past its line.
const multilineWindow = 16 << 10

// Allow drops findings by their secret.
type Allow struct {
	Regexes   []*regexp.Regexp // a finding whose secret matches one is dropped
	Stopwords []string         // ... or whose secret contains one (any case)
}

// Matcher finds secrets in text with a fixed set of rules.
type Matcher struct {
	rules     []*Rule
	ac        *automaton
	always    ruleSet // rules without keywords: run on every line
	hasAlways bool
	allow     Allow
}

// Match is one secret found in a chunk. Secret aliases the scanned data;
// copy it to keep it.
type Match struct {
	Rule       *Rule
	Secret     []byte
	Start, End int // byte offsets of the secret in the chunk
	Line       int // 1-based line of Start in the chunk
	EndLine    int
	Column     int    // 1-based, in Unicode code points
	Name       string // variable the secret is assigned to, if any
	Entropy    float64
}

// NewMatcher compiles the prefilter over rules, which it ranks specific
// rules first, generic ones last, keeping the given order otherwise.
func NewMatcher(rs []*Rule, allow Allow) (*Matcher, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("%w: no rules enabled", ErrInvalid)
	}
	ordered := slices.Clone(rs)
	slices.SortStableFunc(ordered, func(a, b *Rule) int {
		switch {
		case a.generic == b.generic:
			return 0
		case b.generic:
			return -1
		}
		return 1
	})
	m := &Matcher{rules: ordered, always: newRuleSet(len(ordered)), allow: allow}
	for i := range m.allow.Stopwords {
		m.allow.Stopwords[i] = strings.ToLower(m.allow.Stopwords[i])
	}
	var words []string
	var owners []ruleSet
	index := map[string]int{}
	for i, r := range ordered {
		if len(r.Keywords) == 0 {
			m.always.add(i)
			m.hasAlways = true
		}
		for _, k := range r.Keywords {
			if strings.ContainsAny(k, "\r\n") {
				return nil, fmt.Errorf("%w %s: a keyword must not contain a line break", ErrInvalid, r.Spec.ID)
			}
			k = strings.ToLower(k)
			j, ok := index[k]
			if !ok {
				j = len(words)
				index[k] = j
				words = append(words, k)
				owners = append(owners, newRuleSet(len(ordered)))
			}
			owners[j].add(i)
		}
	}
	if len(words) == 0 {
		words, owners = []string{"\x00never"}, []ruleSet{newRuleSet(len(ordered))}
	}
	m.ac = buildAutomaton(words, owners, len(ordered))
	return m, nil
}

// Rules returns the matcher's rules in rank order.
func (m *Matcher) Rules() []*Rule { return slices.Clone(m.rules) }

// Scan calls fn for every secret in data, in line order (within a line,
// in rule rank order). Line numbers count from 1 at data's start.
func (m *Matcher) Scan(data []byte, fn func(*Match)) {
	st := &scanState{m: m, data: data, set: newRuleSet(len(m.rules)), fn: fn, line: 1}
	if m.hasAlways {
		m.scanEveryLine(st)
		return
	}
	delta, firstOut, out := m.ac.delta, m.ac.firstOut, m.ac.out
	var s int32
	lineStart, lineEnd := 0, -1
	for i, c := range data {
		s = delta[int(s)<<8|int(c)]
		if s < firstOut {
			continue
		}
		if i >= lineEnd {
			if lineEnd >= 0 {
				st.scanLine(lineStart, lineEnd)
			}
			lineStart = bytes.LastIndexByte(data[:i], '\n') + 1
			lineEnd = len(data)
			if e := bytes.IndexByte(data[i:], '\n'); e >= 0 {
				lineEnd = i + e
			}
			st.set.clear()
		}
		st.set.or(out[s-firstOut])
	}
	if lineEnd >= 0 {
		st.scanLine(lineStart, lineEnd)
	}
}

// scanEveryLine is Scan when some rule has no keywords.
func (m *Matcher) scanEveryLine(st *scanState) {
	delta, firstOut, out := m.ac.delta, m.ac.firstOut, m.ac.out
	data := st.data
	for ls := 0; ls <= len(data); {
		le := len(data)
		if e := bytes.IndexByte(data[ls:], '\n'); e >= 0 {
			le = ls + e
		}
		copy(st.set, m.always)
		var s int32
		for _, c := range data[ls:le] {
			s = delta[int(s)<<8|int(c)]
			if s >= firstOut {
				st.set.or(out[s-firstOut])
			}
		}
		st.scanLine(ls, le)
		ls = le + 1
	}
}

// scanState is one Scan call's progress.
type scanState struct {
	m          *Matcher
	data       []byte
	set        ruleSet // rules to run on the current line
	fn         func(*Match)
	line       int // line number of lineOff
	lineOff    int
	coveredEnd int      // end of the last multiline secret: nothing inside is reported again
	spans      [][2]int // secrets accepted on the current line
}

// scanLine runs the current rule set on the line data[ls:le].
func (st *scanState) scanLine(ls, le int) {
	st.line += bytes.Count(st.data[st.lineOff:ls], []byte{'\n'})
	st.lineOff = ls
	line := st.data[ls:le]
	if bytes.Contains(line, []byte(AllowMarker)) {
		return
	}
	st.spans = st.spans[:0]
	for ri, r := range st.m.rules {
		if !st.set.has(ri) {
			continue
		}
		if r.gate != nil && !r.gate(line) {
			continue
		}
		if r.find != nil {
			r.find(line, func(ns, ne, vs, ve int) {
				st.consider(r, line, r.syntheticLoc(ns, ne, vs, ve), ls)
			})
			continue
		}
		text := line
		if r.Multiline {
			text = st.data[ls:min(len(st.data), ls+multilineWindow)]
		}
		for _, loc := range r.re.FindAllSubmatchIndex(text, -1) {
			if loc[0] > len(line) {
				break
			}
			st.consider(r, text, loc, ls)
		}
	}
}

// consider checks one regex match and reports it when it passes.
func (st *scanState) consider(r *Rule, text []byte, loc []int, ls int) {
	gs, ge := -1, -1
	for _, g := range r.secretIdx {
		if loc[2*g] >= 0 {
			gs, ge = loc[2*g], loc[2*g+1]
			break
		}
	}
	if gs < 0 || gs == ge || ls+gs < st.coveredEnd {
		return
	}
	for _, sp := range st.spans {
		if gs < sp[1] && sp[0] < ge {
			return
		}
	}
	c := &candidate{rule: r, line: text, loc: loc, secret: text[gs:ge], start: gs}
	if r.nameIdx >= 0 && loc[2*r.nameIdx] >= 0 {
		c.name = text[loc[2*r.nameIdx]:loc[2*r.nameIdx+1]]
	}
	if !st.m.accept(c) {
		return
	}
	st.spans = append(st.spans, [2]int{gs, ge})
	if r.Multiline {
		st.coveredEnd = max(st.coveredEnd, ls+ge)
	}
	name := string(c.name)
	if name == "" {
		name = assignedName(text[:gs])
	}
	st.fn(&Match{
		Rule: r, Secret: c.secret, Start: ls + gs, End: ls + ge,
		Line: st.line, EndLine: st.line + bytes.Count(c.secret, []byte{'\n'}),
		Column: utf8.RuneCount(text[:gs]) + 1, Name: name, Entropy: Entropy(c.secret),
	})
}

// accept applies the placeholder filter, the rule's entropy threshold and
// check, and the allow list.
func (m *Matcher) accept(c *candidate) bool {
	if IsPlaceholder(c.secret) {
		return false
	}
	if c.rule.Entropy > 0 && Entropy(c.secret) < c.rule.Entropy {
		return false
	}
	if c.rule.check != nil && !c.rule.check(c) {
		return false
	}
	for _, re := range m.allow.Regexes {
		if re.Match(c.secret) {
			return false
		}
	}
	if len(m.allow.Stopwords) > 0 {
		low := bytes.ToLower(c.secret)
		for _, w := range m.allow.Stopwords {
			if bytes.Contains(low, []byte(w)) {
				return false
			}
		}
	}
	return true
}

var assignment = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_.-]*)["'\x60]?\]?\s*(?::=|=>|=|:)\s*["'\x60]?$`)

// assignedName returns the variable a value is assigned to, from the text
// before the value on its line ("export API_TOKEN=" gives API_TOKEN).
func assignedName(before []byte) string {
	if len(before) > 256 {
		before = before[len(before)-256:]
	}
	loc := assignment.FindSubmatchIndex(before)
	if loc == nil || (loc[2] > 0 && bytes.IndexByte([]byte("/:@"), before[loc[2]-1]) >= 0) {
		return "" // no assignment, or a URL's user name ("postgres://app:")
	}
	return string(before[loc[2]:loc[3]])
}

// syntheticLoc is the submatch index slice the rule's regex would give
// for a match found by its find function.
func (r *Rule) syntheticLoc(ns, ne, vs, ve int) []int {
	loc := make([]int, 2*(r.re.NumSubexp()+1))
	for i := range loc {
		loc[i] = -1
	}
	loc[0], loc[1] = ns, ve
	g := r.secretIdx[0]
	loc[2*g], loc[2*g+1] = vs, ve
	if r.nameIdx >= 0 {
		loc[2*r.nameIdx], loc[2*r.nameIdx+1] = ns, ne
	}
	return loc
}
