package identity

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/logical"
)

// maxNameLen bounds entity, group, alias, method and enforcement names.
const maxNameLen = 512

// checkName refuses names that cannot be stored or addressed by path.
func checkName(kind, name string) error {
	if strings.Contains(name, "/") {
		return logical.InvalidRequest("%s name must not contain '/'", kind)
	}
	return checkAliasName(kind, name)
}

// checkAliasName is checkName for names never used in a path ('/' allowed).
func checkAliasName(kind, name string) error {
	switch {
	case name == "":
		return logical.InvalidRequest("%s name must not be empty", kind)
	case len(name) > maxNameLen:
		return logical.InvalidRequest("%s name is longer than %d bytes", kind, maxNameLen)
	case !utf8.ValidString(name):
		return logical.InvalidRequest("%s name must be valid UTF-8", kind)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return logical.InvalidRequest("%s name must not contain control characters", kind)
	}
	return nil
}

// normalizePolicies trims, lower-cases and de-duplicates policy names and
// refuses "root", as Vault does.
func normalizePolicies(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, p := range in {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" || slices.Contains(out, p) {
			continue
		}
		if p == "root" {
			return nil, logical.InvalidRequest("policies cannot contain root")
		}
		out = append(out, p)
	}
	return out, nil
}

// uniqueIDs trims and de-duplicates a list of IDs, keeping order.
func uniqueIDs(in []string) []string {
	out := make([]string, 0, len(in))
	for _, id := range in {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func stamp(t time.Time) string { return t.Format(time.RFC3339Nano) }

// str returns a string field, the zero value when it is absent.
func str(d *logical.FieldData, name string) string {
	v, _ := d.Get(name).(string)
	return v
}

// strs returns a list field and whether it was sent.
func strs(d *logical.FieldData, name string) ([]string, bool) {
	v, ok, _ := d.GetOk(name)
	if !ok {
		return nil, false
	}
	l, _ := v.([]string)
	return l, true
}

// kv returns a key/value field and whether it was sent.
func kv(d *logical.FieldData, name string) (map[string]string, bool) {
	v, ok, _ := d.GetOk(name)
	if !ok {
		return nil, false
	}
	m, _ := v.(map[string]string)
	return m, true
}
