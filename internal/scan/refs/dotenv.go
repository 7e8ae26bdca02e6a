package refs

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrInvalidDotenv is wrapped by errors about a malformed env file.
var ErrInvalidDotenv = errors.New("invalid env file")

// EnvVar is one variable of an env file.
type EnvVar struct {
	Name, Value string
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseDotenv parses an env file, the common ".env" dialect:
//
//	# comment
//	NAME=value             # trailing comment (after a blank)
//	export NAME=value
//	NAME="double quoted\nwith escapes \" \\ \$ and line breaks"
//	NAME='single quoted, literal, may span lines'
//
// Variables are not expanded ($OTHER stays as written). A name given
// twice keeps its last value, in the position of its first. Errors give
// the line number, never a value.
func ParseDotenv(data []byte) ([]EnvVar, error) {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	var out []EnvVar
	index := map[string]int{}
	lineNo := 0
	for len(s) > 0 {
		lineNo++
		var line string
		line, s, _ = strings.Cut(s, "\n")
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		t = strings.TrimSpace(strings.TrimPrefix(t, "export "))
		name, rest, ok := strings.Cut(t, "=")
		name = strings.TrimSpace(name)
		if !ok || !envName.MatchString(name) {
			return nil, fmt.Errorf("%w: line %d: want NAME=VALUE with a name of letters, digits and _", ErrInvalidDotenv, lineNo)
		}
		first := lineNo
		value, remaining, used, err := parseValue(strings.TrimLeft(rest, " \t"), s)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrInvalidDotenv, first, err)
		}
		lineNo += used
		s = remaining
		if i, seen := index[name]; seen {
			out[i].Value = value
			continue
		}
		index[name] = len(out)
		out = append(out, EnvVar{Name: name, Value: value})
	}
	return out, nil
}

// parseValue parses the value starting at v (the rest of its line); a
// quoted value may go on over the following lines, taken from more. It
// returns the value, what is left of more, and how many lines it used.
func parseValue(v, more string) (value, remaining string, used int, err error) {
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		if i := strings.Index(v, "\t#"); i >= 0 {
			v = v[:i]
		}
		return strings.TrimSpace(v), more, 0, nil
	}
	quote := v[0]
	text := v[1:]
	var b strings.Builder
	for {
		end := closingQuote(text, quote)
		if end >= 0 {
			b.WriteString(text[:end])
			tail := strings.TrimSpace(text[end+1:])
			if tail != "" && !strings.HasPrefix(tail, "#") {
				return "", "", 0, errors.New("unexpected text after the closing quote")
			}
			break
		}
		if more == "" {
			return "", "", 0, errors.New("unterminated quoted value")
		}
		b.WriteString(text)
		b.WriteByte('\n')
		text, more, _ = strings.Cut(more, "\n")
		used++
	}
	if quote == '\'' {
		return b.String(), more, used, nil
	}
	return unescape(b.String()), more, used, nil
}

// closingQuote finds the quote ending a value; in double quotes a
// backslash escapes the next character.
func closingQuote(s string, q byte) int {
	for i := 0; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q:
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		default: // \" \\ \$ and unknown escapes keep the character
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
