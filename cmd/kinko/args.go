package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"
)

// dataParser turns K=V command arguments into a request body, so secret
// values need never appear on the command line:
//
//	key=value   the literal string value
//	key=@file   the contents of file (key=\@x is the literal "@x")
//	key=-       all of standard input
//	-           a JSON object read from standard input, merged in
//
// A key given twice becomes a list, as in Vault. Standard input can be
// consumed only once per invocation.
type dataParser struct {
	stdin     io.Reader
	readFile  func(string) ([]byte, error)
	stdinUsed bool
}

func newDataParser(stdin io.Reader) *dataParser {
	return &dataParser{stdin: stdin, readFile: os.ReadFile}
}

var errStdinTwice = errors.New("standard input can only be read once")

// parse builds the data map from args.
func (p *dataParser) parse(args []string) (map[string]any, error) {
	out := map[string]any{}
	for i, arg := range args {
		if arg == "-" {
			obj, err := p.stdinJSON()
			if err != nil {
				return nil, err
			}
			for k, v := range obj {
				out[k] = v
			}
			continue
		}
		key, raw, ok := strings.Cut(arg, "=")
		if !ok || key == "" {
			// The argument is not echoed: it may be a mistyped secret.
			return nil, fmt.Errorf("data argument %d is not key=value (use - to read a JSON object from stdin)", i+1)
		}
		val, err := p.value(raw)
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		addValue(out, key, val)
	}
	return out, nil
}

// parseStrings is parse for places that need string values only (login
// parameters, query strings).
func (p *dataParser) parseStrings(args []string) (map[string]string, error) {
	m, err := p.parse(args)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("value of %q must be a single string", k)
		}
		out[k] = s
	}
	return out, nil
}

func (p *dataParser) value(raw string) (string, error) {
	switch {
	case raw == "-":
		b, err := p.readStdin()
		return string(b), err
	case strings.HasPrefix(raw, "@"):
		b, err := p.readFile(raw[1:])
		if err != nil {
			return "", fmt.Errorf("reading file: %w", err)
		}
		return string(b), nil
	case strings.HasPrefix(raw, `\@`):
		return raw[1:], nil
	}
	return raw, nil
}

func (p *dataParser) readStdin() ([]byte, error) {
	if p.stdinUsed {
		return nil, errStdinTwice
	}
	p.stdinUsed = true
	if p.stdin == nil {
		return nil, errors.New("no standard input")
	}
	b, err := io.ReadAll(p.stdin)
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	return b, nil
}

func (p *dataParser) stdinJSON() (map[string]any, error) {
	b, err := p.readStdin()
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, errors.New("standard input must hold a JSON object when \"-\" is given")
	}
	return obj, nil
}

func addValue(m map[string]any, key string, val string) {
	prev, ok := m[key]
	if !ok {
		m[key] = val
		return
	}
	if list, isList := prev.([]any); isList {
		m[key] = append(list, val)
		return
	}
	m[key] = []any{prev, val}
}

// parseKVFlags turns repeated k=v flag values into a map.
func parseKVFlags(flag string, values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(values))
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-%s %q: format must be key=value", flag, v)
		}
		out[k] = val
	}
	return out, nil
}

// durationValue is a pflag.Value for TTL-like flags accepting Go durations
// ("90m", "1h30m"), days ("7d") or plain seconds ("3600").
type durationValue struct {
	d time.Duration
}

var _ pflag.Value = (*durationValue)(nil)

func (v *durationValue) Type() string { return "duration" }

func (v *durationValue) String() string {
	if v.d == 0 {
		return ""
	}
	return humanDuration(v.d)
}

func (v *durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	v.d = d
	return nil
}

// seconds renders the value for the API: "3600s".
func (v *durationValue) seconds() string {
	return strconv.FormatInt(int64(v.d/time.Second), 10) + "s"
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, errors.New("duration must not be negative")
		}
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok && isDigits(days) {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use e.g. 30m, 12h, 7d or seconds", s)
	}
	if d < 0 {
		return 0, errors.New("duration must not be negative")
	}
	return d, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// sanitizePath trims whitespace and leading/trailing slashes.
func sanitizePath(p string) string {
	return strings.Trim(strings.TrimSpace(p), "/")
}

// ensureTrailingSlash returns p with exactly one trailing slash.
func ensureTrailingSlash(p string) string {
	p = strings.TrimRight(strings.TrimSpace(p), "/")
	if p == "" {
		return ""
	}
	return p + "/"
}
