package rules

import (
	"bytes"
	"unicode/utf8"
)

// Gates are cheap checks a line must pass before a generic rule's
// regular expression runs on it: most lines holding a keyword such as
// "key" or "token" are ordinary code, and a byte loop rejects them far
// faster than a regular expression would.

// byteClass is a set of bytes.
type byteClass [256]bool

func classOf(ranges ...string) *byteClass {
	var c byteClass
	for _, r := range ranges {
		if len(r) == 3 && r[1] == '-' {
			for b := int(r[0]); b <= int(r[2]); b++ {
				c[b] = true
			}
			continue
		}
		for i := 0; i < len(r); i++ {
			c[r[i]] = true
		}
	}
	return &c
}

var (
	base64Class = classOf("A-Z", "a-z", "0-9", "+/_-")
	nameClass   = classOf("A-Z", "a-z", "0-9", "_.-")
)

// hasRun reports whether line holds minLen consecutive bytes of class,
// with a digit among them when digit is set.
func hasRun(line []byte, minLen int, class *byteClass, digit bool) bool {
	n, sawDigit := 0, false
	for _, c := range line {
		if !class[c] {
			n, sawDigit = 0, false
			continue
		}
		n++
		sawDigit = sawDigit || (c >= '0' && c <= '9')
		if n >= minLen && (sawDigit || !digit) {
			return true
		}
	}
	return false
}

// highEntropyGate wants a 20-byte base64 run with a digit in it.
func highEntropyGate(line []byte) bool { return hasRun(line, 20, base64Class, true) }

// awsSecretGate wants a 40-byte base64 run.
func awsSecretGate(line []byte) bool { return hasRun(line, 40, base64Class, false) }

// genericFind is the generic assignment rule written out in Go, for
// speed: NAME [quote] SEP VALUE, where NAME holds a secret-like word, SEP
// is one of := => == = : (blanks around), and VALUE is quoted ("...",
// \"...\" in JSON strings, '...', `+"`...`"+`) without blanks, or bare
// ([A-Za-z0-9+/=_!@%^&*~.?-]) up to a blank, ; , ) } ] or the end; 8+
// bytes either way. It calls fn with each name's and value's offsets,
// which is what the rule's regex captures, minus its backtracking.
func genericFind(line []byte, fn func(nameStart, nameEnd, valStart, valEnd int)) {
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c != '=' && c != ':' {
			continue
		}
		sepEnd := i + 1
		if i+1 < len(line) && (line[i+1] == '=' || (c == '=' && line[i+1] == '>')) {
			sepEnd++
		}
		ns, ne := genericName(line[:i])
		if ns >= 0 {
			vs, ve := genericValue(line, sepEnd)
			if vs < 0 && sepEnd == i+2 { // ":=" may be ":" then a value starting with "="
				vs, ve = genericValue(line, i+1)
			}
			if vs >= 0 {
				fn(ns, ne, vs, ve)
			}
		}
		i = sepEnd - 1
	}
}

// genericName finds the name before a separator: blanks, an optional
// quote, then name bytes holding a secret-like word.
func genericName(text []byte) (start, end int) {
	j := len(text)
	for j > 0 && (text[j-1] == ' ' || text[j-1] == '\t') {
		j--
	}
	if j > 0 && (text[j-1] == '"' || text[j-1] == '\'' || text[j-1] == '`') {
		j--
	}
	end = j
	for j > 0 && nameClass[text[j-1]] {
		j--
	}
	if end == j || end-j > 128 {
		return -1, -1
	}
	var buf [128]byte
	low := buf[:end-j]
	for k, c := range text[j:end] {
		low[k] = lower(c)
	}
	for _, w := range gateWords {
		if bytes.Contains(low, w) {
			return j, end
		}
	}
	return -1, -1
}

// genericValue finds the value after a separator ending at i.
func genericValue(line []byte, i int) (start, end int) {
	for i < len(line) && isBlank(line[i]) {
		i++
	}
	if i == len(line) {
		return -1, -1
	}
	q := line[i]
	escaped := q == '\\' && i+1 < len(line) && line[i+1] == '"'
	if escaped {
		i++
		q = '"'
	}
	if q == '"' || q == '\'' || q == '`' {
		k := i + 1
		for k < len(line) && line[k] != q && !isBlank(line[k]) && !(q == '"' && line[k] == '\\') {
			k++
		}
		closed := k < len(line) && (line[k] == q || (q == '"' && line[k] == '\\' && k+1 < len(line) && line[k+1] == '"'))
		if !closed || utf8.RuneCount(line[i+1:k]) < 8 { // {8,} counts runes, as the regex does
			return -1, -1
		}
		return i + 1, k
	}
	k := i
	for k < len(line) && bareClass[line[k]] {
		k++
	}
	if k-i < 8 || (k < len(line) && !terminator[line[k]]) {
		return -1, -1
	}
	return i, k
}

// isBlank is RE2's \s on one line (which leaves out \v).
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' }

var (
	bareClass  = classOf("A-Z", "a-z", "0-9", "+/=_!@%^&*~.?-")
	terminator = classOf(" \t\r\f;,)}]")
)

// gateWords are genericWords spelled out, lower case.
var gateWords = func() [][]byte {
	var out [][]byte
	for _, w := range []string{"password", "passwd", "pwd", "secret", "token", "auth", "credential"} {
		out = append(out, []byte(w))
	}
	for _, p := range []string{"api", "access", "private"} {
		for _, sep := range []string{"", "_", ".", "-"} {
			out = append(out, []byte(p+sep+"key"))
		}
	}
	return out
}()
