// Package refs owns references to secrets stored in kinko, written in
// place of the secret where "kinko scan --vault" found it:
//
//	${kinko:secret/data/app#db_password}
//
// PATH is the API path of the secret (for KV version 2 the data/ path,
// whose key/value pairs sit under "data" in the response) and KEY the name
// of one value in it, an identifier ([A-Za-z_][A-Za-z0-9_]*). There is no
// escape: text that must contain "${kinko:" literally cannot use them.
//
// ResolveRefs replaces references by their values; Template turns them
// into "kinko run" template actions, so values are read (and re-read on
// rotation) by the same renderer as -env templates; ParseDotenv reads the
// env files "kinko run -env-file" takes. Errors name the reference, never
// a value.
package refs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrNotFound is wrapped when a referenced secret or key does not exist.
var ErrNotFound = errors.New("not found")

var pattern = regexp.MustCompile(`\$\{kinko:([^#{}\s"'$]+)#([A-Za-z_][A-Za-z0-9_]*)\}`)

var keyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Ref is one reference found in a string.
type Ref struct {
	Start, End int // byte offsets of the whole reference
	Path, Key  string
}

// Format writes the reference to key in the secret at path.
func Format(path, key string) string {
	return "${kinko:" + strings.Trim(path, "/") + "#" + key + "}"
}

// ValidKey reports whether key can be used in a reference.
func ValidKey(key string) bool { return keyPattern.MatchString(key) }

// Find returns the references in s, in order.
func Find(s string) []Ref {
	var out []Ref
	for _, m := range pattern.FindAllStringSubmatchIndex(s, -1) {
		p := strings.Trim(s[m[2]:m[3]], "/")
		if p == "" {
			continue
		}
		out = append(out, Ref{Start: m[0], End: m[1], Path: p, Key: s[m[4]:m[5]]})
	}
	return out
}

// Contains reports whether s holds a reference.
func Contains(s string) bool { return strings.Contains(s, "${kinko:") && len(Find(s)) > 0 }

// isKV2 reports whether path is a KV version 2 data path, whose values sit
// under "data".
func isKV2(path string) bool { return strings.Contains("/"+path+"/", "/data/") }

// ResolveRefs replaces every reference in s by the value it names. read
// returns the data of the secret at an API path (nil, nil when there is
// none); each path is read once.
func ResolveRefs(ctx context.Context, read func(path string) (map[string]any, error), s string) (string, error) {
	found := Find(s)
	if len(found) == 0 {
		return s, nil
	}
	cache := map[string]map[string]any{}
	var b strings.Builder
	last := 0
	for _, r := range found {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		data, ok := cache[r.Path]
		if !ok {
			var err error
			if data, err = read(r.Path); err != nil {
				return "", fmt.Errorf("reference %s: %w", Format(r.Path, r.Key), err)
			}
			if data == nil {
				return "", fmt.Errorf("reference %s: secret %w", Format(r.Path, r.Key), ErrNotFound)
			}
			if inner, isMap := data["data"].(map[string]any); isMap && isKV2(r.Path) {
				data = inner
			}
			cache[r.Path] = data
		}
		v, ok := data[r.Key]
		if !ok || v == nil {
			return "", fmt.Errorf("reference %s: key %s %w", Format(r.Path, r.Key), r.Key, ErrNotFound)
		}
		b.WriteString(s[last:r.Start])
		b.WriteString(valueString(v))
		last = r.End
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number, float64, bool, int, int64:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Template returns s with each reference replaced by a template action
// of the agent's template language that reads it:
//
//	{{ with secret "secret/data/app" }}{{ .Data.data.db_password }}{{ end }}
//
// A missing secret or key fails the render. With literal set, s is plain
// text (an env file's value) and the text around references is quoted so
// that "{{" in it stays text; otherwise s is already a template.
func Template(s string, literal bool) string {
	found := Find(s)
	if len(found) == 0 && !literal {
		return s
	}
	var b strings.Builder
	last := 0
	text := func(t string) {
		if literal && t != "" {
			t = "{{ " + strconv.Quote(t) + " }}"
		}
		b.WriteString(t)
	}
	for _, r := range found {
		text(s[last:r.Start])
		field := ".Data." + r.Key
		if isKV2(r.Path) {
			field = ".Data.data." + r.Key
		}
		fmt.Fprintf(&b, "{{ with secret %s }}{{ %s }}{{ end }}", strconv.Quote(r.Path), field)
		last = r.End
	}
	text(s[last:])
	return b.String()
}
