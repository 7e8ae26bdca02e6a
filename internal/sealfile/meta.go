package sealfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// metaKey is the reserved top-level key of YAML and JSON files.
const metaKey = "kinko"

// Metadata is the kinko section of a sealed file.
type Metadata struct {
	Version           int      `yaml:"version" json:"version"`
	Mode              string   `yaml:"mode,omitempty" json:"mode,omitempty"`
	Keys              []Stanza `yaml:"keys" json:"keys"`
	LastModified      string   `yaml:"lastmodified" json:"lastmodified"`
	MAC               string   `yaml:"mac" json:"mac"`
	EncryptedRegex    string   `yaml:"encrypted_regex,omitempty" json:"encrypted_regex,omitempty"`
	UnencryptedRegex  string   `yaml:"unencrypted_regex,omitempty" json:"unencrypted_regex,omitempty"`
	UnencryptedSuffix string   `yaml:"unencrypted_suffix,omitempty" json:"unencrypted_suffix,omitempty"`
}

// Stanza is the data key wrapped by one key source.
type Stanza struct {
	Type      string `yaml:"type" json:"type"`                               // age or transit
	Recipient string `yaml:"recipient,omitempty" json:"recipient,omitempty"` // age: the recipient
	Mount     string `yaml:"mount,omitempty" json:"mount,omitempty"`         // transit: the engine's mount path
	Key       string `yaml:"key,omitempty" json:"key,omitempty"`             // transit: the key name
	Enc       string `yaml:"enc" json:"enc"`                                 // the wrapped data key
}

// maxStanzaEnc caps the size of one wrapped key.
const maxStanzaEnc = 16 << 10

// describe names a stanza for messages.
func (s Stanza) describe() string {
	switch s.Type {
	case "age":
		return "age recipient " + short(s.Recipient)
	case "transit":
		return "transit key " + short(s.Mount) + "/" + short(s.Key)
	}
	return "key of unknown type " + strconv.Quote(short(s.Type))
}

// short truncates untrusted text shown in messages.
func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func (m *Metadata) validate() error {
	if m.Version != 1 {
		return invalid("kinko metadata version %d is not supported (this kinko reads version 1)", m.Version)
	}
	if m.Mode != "" && m.Mode != ModeK8s {
		return invalid("kinko metadata: unknown mode %q", short(m.Mode))
	}
	if len(m.Keys) == 0 {
		return invalid("kinko metadata lists no keys")
	}
	for _, k := range m.Keys {
		if len(k.Enc) > maxStanzaEnc {
			return invalid("kinko metadata: the %s is too large", k.describe())
		}
	}
	if m.MAC == "" {
		return invalid("kinko metadata has no mac")
	}
	return nil
}

// metaLines renders the metadata as comment lines for dotenv and INI:
// prefix + field + "=" + value, one "key" line per stanza (compact JSON).
func metaLines(m *Metadata, prefix string) ([]string, error) {
	out := []string{prefix + "version=" + strconv.Itoa(m.Version)}
	if m.Mode != "" {
		out = append(out, prefix+"mode="+m.Mode)
	}
	for _, k := range m.Keys {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		out = append(out, prefix+"key="+strings.TrimSpace(b.String()))
	}
	out = append(out, prefix+"lastmodified="+m.LastModified, prefix+"mac="+m.MAC)
	for _, f := range []struct{ name, v string }{
		{"encrypted_regex", m.EncryptedRegex},
		{"unencrypted_regex", m.UnencryptedRegex},
		{"unencrypted_suffix", m.UnencryptedSuffix},
	} {
		if f.v != "" {
			out = append(out, prefix+f.name+"="+f.v)
		}
	}
	for _, l := range out {
		if strings.ContainsAny(l, "\r\n") {
			return nil, invalid("kinko metadata must not contain line breaks")
		}
	}
	return out, nil
}

// parseMetaLines reads what metaLines wrote (the prefix already removed
// from each line).
func parseMetaLines(lines []string) (*Metadata, error) {
	m := &Metadata{}
	seen := map[string]bool{}
	for _, l := range lines {
		name, v, ok := strings.Cut(l, "=")
		if !ok {
			return nil, invalid("kinko metadata line %q is not field=value", short(l))
		}
		if name != "key" && seen[name] {
			return nil, invalid("kinko metadata field %s appears twice", short(name))
		}
		seen[name] = true
		if err := m.setField(name, v); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metadata) setField(name, v string) error {
	switch name {
	case "version":
		n, err := strconv.Atoi(v)
		if err != nil {
			return invalid("kinko metadata version %q is not a number", short(v))
		}
		m.Version = n
	case "mode":
		m.Mode = v
	case "key":
		var s Stanza
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return invalid("kinko metadata key line is not a JSON key stanza: %v", err)
		}
		m.Keys = append(m.Keys, s)
	case "lastmodified":
		m.LastModified = v
	case "mac":
		m.MAC = v
	case "encrypted_regex":
		m.EncryptedRegex = v
	case "unencrypted_regex":
		m.UnencryptedRegex = v
	case "unencrypted_suffix":
		m.UnencryptedSuffix = v
	default:
		return invalid("unknown kinko metadata field %q", short(name))
	}
	return nil
}

// lineMeta collects the metadata comment lines of a line-based format.
type lineMeta struct {
	prefix string
	lines  []string // without the prefix
	found  bool
}

// take reports whether line is a metadata line, and keeps it.
func (lm *lineMeta) take(line string) bool {
	rest, ok := strings.CutPrefix(line, lm.prefix)
	if ok {
		lm.lines = append(lm.lines, rest)
		lm.found = true
	}
	return ok
}

func (lm *lineMeta) metadata() (*Metadata, error) {
	if !lm.found {
		return nil, nil
	}
	m, err := parseMetaLines(lm.lines)
	lm.lines, lm.found = nil, false
	return m, err
}

// lineErr wraps a parse error of a line-based format with its line.
func lineErr(line int, format string, a ...any) error {
	return invalid("line %d: %s", line, fmt.Sprintf(format, a...))
}
