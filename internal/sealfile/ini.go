package sealfile

import (
	"strings"
)

// iniItem is one line of an INI file.
type iniItem struct {
	raw     string
	section bool // a [section] header
	entry   bool // a key = value line
	line    int
	name    string // the section's name, or the entry's section
	key     string
	prefix  string // up to the value: indentation, key, separator, blanks
	value   string
	suffix  string // trailing blanks
	dirty   bool
}

type iniDoc struct {
	items   []*iniItem
	meta    lineMeta
	crlf    bool
	finalNL bool
}

const iniMetaPrefix = ";kinko."

func parseINI(b []byte) (*iniDoc, error) {
	lines, crlf, finalNL := splitLines(b)
	d := &iniDoc{meta: lineMeta{prefix: iniMetaPrefix}, crlf: crlf, finalNL: finalNL}
	section := ""
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || trimmed[0] == ';' || trimmed[0] == '#':
			if !d.meta.take(line) {
				d.items = append(d.items, &iniItem{raw: line})
			}
		case trimmed[0] == '[':
			end := strings.IndexByte(trimmed, ']')
			if end < 0 {
				return nil, lineErr(i+1, "the section header has no closing ]")
			}
			name := strings.TrimSpace(trimmed[1:end])
			if rest := strings.TrimSpace(trimmed[end+1:]); rest != "" && rest[0] != ';' && rest[0] != '#' {
				return nil, lineErr(i+1, "unexpected text after the section header")
			}
			if name == "" {
				return nil, lineErr(i+1, "the section name is empty")
			}
			section = name
			d.items = append(d.items, &iniItem{raw: line, section: true, line: i + 1, name: name})
		default:
			it, err := parseINIEntry(line, i+1, section)
			if err != nil {
				return nil, err
			}
			d.items = append(d.items, it)
		}
	}
	return d, nil
}

// parseINIEntry splits "key = value" or "key: value" at the first = or :.
func parseINIEntry(line string, n int, section string) (*iniItem, error) {
	sep := strings.IndexAny(line, "=:")
	if sep < 0 {
		return nil, lineErr(n, "expected key = value, a [section] or a comment")
	}
	key := strings.TrimSpace(line[:sep])
	if key == "" {
		return nil, lineErr(n, "the key before %q is empty", line[sep:sep+1])
	}
	p := skipBlanks(line, sep+1)
	value := strings.TrimRight(line[p:], " \t\r") // a final CR belongs to the line end
	return &iniItem{raw: line, entry: true, line: n, name: section, key: key,
		prefix: line[:p], value: value, suffix: line[p+len(value):]}, nil
}

func (it *iniItem) path() []seg {
	if it.section {
		return pathOf(keySeg(it.name))
	}
	if it.name == "" {
		return pathOf(keySeg(it.key))
	}
	return pathOf(keySeg(it.name), keySeg(it.key))
}

func (d *iniDoc) takeMetadata() (*Metadata, error) { return d.meta.metadata() }

func (d *iniDoc) putMetadata(m *Metadata) error {
	lines, err := metaLines(m, iniMetaPrefix)
	if err != nil {
		return err
	}
	for _, l := range lines {
		d.items = append(d.items, &iniItem{raw: l})
	}
	d.finalNL = true
	return nil
}

func (d *iniDoc) walk() ([]*entry, error) {
	var out []*entry
	for _, it := range d.items {
		switch {
		case it.section:
			out = append(out, &entry{path: it.path(), kind: kindSection, line: it.line})
		case it.entry:
			it := it
			out = append(out, &entry{path: it.path(), kind: kindScalar, typ: typeStr, value: it.value, line: it.line,
				set: func(v, _ string, _ bool) { it.value, it.dirty = v, true }})
		}
	}
	return out, nil
}

func (d *iniDoc) bytes() ([]byte, error) {
	lines := make([]string, 0, len(d.items))
	for _, it := range d.items {
		if !it.dirty {
			lines = append(lines, it.raw)
			continue
		}
		v := it.value
		if strings.Contains(v, "\n") || v != "" && (isBlank(v[0]) || isBlank(v[len(v)-1]) || v[len(v)-1] == '\r') {
			return nil, invalid("line %d: the value of %s cannot be written in INI (a line break or surrounding blanks)", it.line, displayPath(it.path()))
		}
		lines = append(lines, it.prefix+v+it.suffix)
	}
	return joinLines(lines, d.crlf, d.finalNL), nil
}
