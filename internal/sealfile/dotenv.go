package sealfile

import (
	"strings"
)

// envItem is one line (or, for a quoted value spanning lines, several) of
// a dotenv file. Entries are re-rendered from prefix, quote, value and
// suffix once their value is set; other items keep their raw text.
type envItem struct {
	raw    string
	entry  bool
	line   int
	key    string
	prefix string // indentation, "export ", the name, "=" and the blanks after it
	quote  byte   // 0, '\'' or '"'
	value  string // decoded
	suffix string // after the value: blanks and a comment
	dirty  bool
}

type dotenvDoc struct {
	items   []*envItem
	meta    lineMeta
	crlf    bool
	finalNL bool
}

const dotenvMetaPrefix = "#kinko."

// splitLines normalises CRLF and splits text into lines, remembering
// both for output.
func splitLines(b []byte) (lines []string, crlf, finalNL bool) {
	text := string(b)
	crlf = strings.Contains(text, "\r\n")
	if crlf {
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	finalNL = strings.HasSuffix(text, "\n")
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil, crlf, finalNL
	}
	return strings.Split(text, "\n"), crlf, finalNL
}

// joinLines is the inverse of splitLines.
func joinLines(lines []string, crlf, finalNL bool) []byte {
	out := strings.Join(lines, "\n")
	if finalNL && len(lines) > 0 {
		out += "\n"
	}
	if crlf {
		out = strings.ReplaceAll(out, "\n", "\r\n")
	}
	return []byte(out)
}

func parseDotenv(b []byte) (*dotenvDoc, error) {
	lines, crlf, finalNL := splitLines(b)
	d := &dotenvDoc{meta: lineMeta{prefix: dotenvMetaPrefix}, crlf: crlf, finalNL: finalNL}
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], " \t")
		if trimmed == "" || trimmed[0] == '#' {
			if !d.meta.take(lines[i]) {
				d.items = append(d.items, &envItem{raw: lines[i]})
			}
			continue
		}
		it, last, err := parseEnvEntry(lines, i)
		if err != nil {
			return nil, err
		}
		d.items = append(d.items, it)
		i = last
	}
	return d, nil
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func isNameChar(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-'
}

func skipBlanks(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	return p
}

// parseEnvEntry parses the entry starting at lines[i] and returns the index
// of its last line.
func parseEnvEntry(lines []string, i int) (*envItem, int, error) {
	line := lines[i]
	p := skipBlanks(line, 0)
	if rest := line[p:]; strings.HasPrefix(rest, "export") && len(rest) > 6 && (rest[6] == ' ' || rest[6] == '\t') {
		p = skipBlanks(line, p+6)
	}
	start := p
	if p < len(line) && isNameStart(line[p]) {
		for p < len(line) && isNameChar(line[p]) {
			p++
		}
	}
	key := line[start:p]
	p = skipBlanks(line, p)
	if key == "" || p >= len(line) || line[p] != '=' {
		return nil, 0, lineErr(i+1, "expected NAME=value, a comment or a blank line")
	}
	p = skipBlanks(line, p+1)
	it := &envItem{entry: true, line: i + 1, key: key, prefix: line[:p]}
	rest := line[p:]
	if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
		it.quote = rest[0]
		value, last, suffix, err := scanQuoted(lines, i, p+1, rest[0])
		if err != nil {
			return nil, 0, err
		}
		it.value, it.suffix = value, suffix
		it.raw = strings.Join(lines[i:last+1], "\n")
		return it, last, nil
	}
	cut := len(rest)
	for j := 0; j < len(rest); j++ {
		if rest[j] == '#' && (j == 0 && p > 0 && isBlank(line[p-1]) || j > 0 && isBlank(rest[j-1])) {
			cut = j
			break
		}
	}
	it.value = strings.TrimRight(rest[:cut], " \t")
	it.suffix = rest[len(it.value):]
	it.raw = line
	return it, i, nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// scanQuoted reads a quoted value starting at lines[i][p] (after the
// opening quote), across lines if needed.
func scanQuoted(lines []string, i, p int, q byte) (value string, last int, suffix string, err error) {
	var b strings.Builder
	for l := i; l < len(lines); l++ {
		line := lines[l]
		if l > i {
			b.WriteByte('\n')
			p = 0
		}
		for ; p < len(line); p++ {
			c := line[p]
			if c == q {
				suffix = line[p+1:]
				if t := strings.TrimLeft(suffix, " \t"); t != "" && t[0] != '#' {
					return "", 0, "", lineErr(l+1, "unexpected text after the closing quote")
				}
				return b.String(), l, suffix, nil
			}
			if c == '\\' && q == '"' && p+1 < len(line) {
				if r, ok := envUnescape[line[p+1]]; ok {
					b.WriteByte(r)
					p++
					continue
				}
			}
			b.WriteByte(c)
		}
	}
	return "", 0, "", lineErr(i+1, "the quoted value is not closed")
}

var envUnescape = map[byte]byte{'n': '\n', 'r': '\r', 't': '\t', '"': '"', '\\': '\\'}

// text renders an item.
func (it *envItem) text() string {
	if !it.entry || !it.dirty {
		return it.raw
	}
	suffix := it.suffix
	switch q := it.quote; {
	case q == 0 && canUnquote(it.value) && (suffix == "" || isBlank(suffix[0])):
		return it.prefix + it.value + suffix
	case q == '\'' && !strings.Contains(it.value, "'"):
		return it.prefix + "'" + it.value + "'" + suffix
	}
	return it.prefix + doubleQuote(it.value) + suffix
}

func canUnquote(v string) bool {
	if v == "" {
		return true
	}
	if strings.ContainsAny(v, "\r\n") || isBlank(v[0]) || isBlank(v[len(v)-1]) || strings.ContainsRune("'\"#", rune(v[0])) {
		return false
	}
	return !strings.Contains(v, " #") && !strings.Contains(v, "\t#")
}

func doubleQuote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (d *dotenvDoc) takeMetadata() (*Metadata, error) { return d.meta.metadata() }

func (d *dotenvDoc) putMetadata(m *Metadata) error {
	lines, err := metaLines(m, dotenvMetaPrefix)
	if err != nil {
		return err
	}
	for _, l := range lines {
		d.items = append(d.items, &envItem{raw: l})
	}
	d.finalNL = true
	return nil
}

func (d *dotenvDoc) walk() ([]*entry, error) {
	var out []*entry
	for _, it := range d.items {
		if !it.entry {
			continue
		}
		it := it
		out = append(out, &entry{path: pathOf(keySeg(it.key)), kind: kindScalar, typ: typeStr, value: it.value, line: it.line,
			set: func(v, _ string, _ bool) { it.value, it.dirty = v, true }})
	}
	return out, nil
}

func (d *dotenvDoc) bytes() ([]byte, error) {
	lines := make([]string, 0, len(d.items))
	for _, it := range d.items {
		lines = append(lines, it.text())
	}
	return joinLines(lines, d.crlf, d.finalNL), nil
}
