package policy

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/logical"
)

var seedPolicies = []string{
	DefaultPolicy,
	`path "secret/data/*" { capabilities = ["create", "read", "update", "patch", "delete"] }
path "secret/metadata/*" { capabilities = ["list", "read"] }
path "secret/data/admin/*" { capabilities = ["deny"] }`,
	`path "sys/policies/acl/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }
path "auth/token/create" {
  capabilities = ["update"]
  allowed_parameters = { "policies" = ["dev", "ops-*"], "ttl" = [], "*" = [] }
  denied_parameters = { "no_default_policy" = ["true"] }
  required_parameters = ["ttl"]
}`,
	`path "kv/+/team-a/*" { capabilities = ["read", "list"] }
path "+/config" { policy = "write" }
path "transit/encrypt/app" {
  capabilities = ["update"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = 3600
}`,
	`{"path": {"secret/*": {"capabilities": ["read"]}, "kv/x": {"policy": "sudo"}}}`,
	`{"path": [{"a/+": {"denied_parameters": {"k": ["v", 1, 2.5, null]}}}]}`,
	`path "a" { capabilities = ["read"] } path "a" { capabilities = ["deny"] }`,
	`path "x" { capabilities = ["read"] comment = <<EOT
hello
EOT
}`,
}

// FuzzParse checks that Parse never panics, that its errors are always
// invalid-request errors, that whatever parses compiles and evaluates, and
// that a parsed policy rendered in the JSON form parses to the same rules.
func FuzzParse(f *testing.F) {
	for _, s := range seedPolicies {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse("fuzz", text)
		if err != nil {
			if !errors.Is(err, logical.ErrInvalidRequest) {
				t.Fatalf("error does not wrap ErrInvalidRequest: %v", err)
			}
			return
		}
		a, err := NewACL(p)
		if err != nil {
			t.Fatalf("NewACL: %v", err)
		}
		data := map[string]any{"policies": "dev,root", "ttl": json.Number("30"), "k": []any{"v", nil}}
		for _, pr := range p.Paths {
			for _, path := range []string{pr.Path, strings.TrimSuffix(pr.Path, "*") + "x/y", pr.Path + "/"} {
				if len(a.Capabilities(path)) == 0 {
					t.Fatalf("Capabilities(%q) is empty", path)
				}
				for _, op := range []logical.Operation{logical.CreateOperation, logical.ListOperation, logical.PatchOperation} {
					a.Allow(op, path, data)
				}
			}
		}
		checkJSONRoundTrip(t, p)
	})
}

func checkJSONRoundTrip(t *testing.T, p *Policy) {
	rendered, ok := renderJSON(p)
	if !ok {
		return
	}
	q, err := Parse("fuzz", rendered)
	if err != nil {
		t.Fatalf("rendered policy does not parse: %v\n%s", err, rendered)
	}
	if got, want := comparable(q), comparable(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip changed the rules:\n got %#v\nwant %#v\n%s", got, want, rendered)
	}
}

// renderJSON renders p's rules in the JSON policy form. It reports false
// when a string is not valid UTF-8 (possible through HCL escapes), which
// JSON cannot carry unchanged.
func renderJSON(p *Policy) (string, bool) {
	paths := make([]any, 0, len(p.Paths))
	for _, pr := range p.Paths {
		body := map[string]any{"capabilities": pr.Capabilities}
		if pr.AllowedParameters != nil {
			body["allowed_parameters"] = pr.AllowedParameters
		}
		if pr.DeniedParameters != nil {
			body["denied_parameters"] = pr.DeniedParameters
		}
		if pr.RequiredParameters != nil {
			body["required_parameters"] = pr.RequiredParameters
		}
		if pr.MinWrappingTTL > 0 {
			body["min_wrapping_ttl"] = pr.MinWrappingTTL.String()
		}
		if pr.MaxWrappingTTL > 0 {
			body["max_wrapping_ttl"] = pr.MaxWrappingTTL.String()
		}
		if pr.SubscribeEventTypes != nil {
			body["subscribe_event_types"] = pr.SubscribeEventTypes
		}
		paths = append(paths, map[string]any{pr.Path: body})
	}
	b, err := json.Marshal(map[string]any{"path": paths})
	if err != nil {
		return "", false
	}
	if hasBool(p) {
		return "", false // the JSON form cannot carry booleans in lists
	}
	for _, s := range allStrings(p) {
		if !utf8.ValidString(s) {
			return "", false
		}
	}
	return string(b), true
}

func hasBool(p *Policy) bool {
	for _, pr := range p.Paths {
		for _, m := range []map[string][]any{pr.AllowedParameters, pr.DeniedParameters} {
			for _, vs := range m {
				for _, v := range vs {
					if _, ok := v.(bool); ok {
						return true
					}
				}
			}
		}
	}
	return false
}

func allStrings(p *Policy) []string {
	var out []string
	for _, pr := range p.Paths {
		out = append(out, pr.Path)
		out = append(out, pr.RequiredParameters...)
		out = append(out, pr.SubscribeEventTypes...)
		for _, m := range []map[string][]any{pr.AllowedParameters, pr.DeniedParameters} {
			for k, vs := range m {
				out = append(out, k)
				for _, v := range vs {
					if s, ok := v.(string); ok {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// comparable returns p's rules with numbers as float64, since JSON cannot
// tell 3 from 3.0.
func comparable(p *Policy) []PathRules {
	out := make([]PathRules, 0, len(p.Paths))
	for _, pr := range p.Paths {
		c := *pr
		c.AllowedParameters = floatValues(c.AllowedParameters)
		c.DeniedParameters = floatValues(c.DeniedParameters)
		out = append(out, c)
	}
	return out
}

func floatValues(m map[string][]any) map[string][]any {
	if m == nil {
		return nil
	}
	out := make(map[string][]any, len(m))
	for k, vs := range m {
		nv := make([]any, len(vs))
		for i, v := range vs {
			if f, ok := toFloat(v); ok {
				nv[i] = f
			} else {
				nv[i] = v
			}
		}
		out[k] = nv
	}
	return out
}

// fuzzRules is a fixed rule set with overlapping exact, prefix and "+" rules.
var fuzzRules = []string{
	`path "secret/*" { capabilities = ["read"] }
path "secret/data/*" { capabilities = ["create", "update"] }
path "secret/data/app" { capabilities = ["delete"] }
path "secret/data/app/" { capabilities = ["list"] }
path "secret/+/app/*" { capabilities = ["patch"] }
path "secret/+/+/config" { capabilities = ["sudo", "read"] }
path "secret/data/+/config" { capabilities = ["deny"] }
path "secret/meta*" { capabilities = ["list"] }
path "+" { capabilities = ["read"] }
path "+/+" { capabilities = ["list"] }
path "kv/+/x*" { capabilities = ["update"] }
path "kv/ab*" { capabilities = ["delete"] }
path "" { capabilities = ["read"] }`,
	`path "secret/*" { capabilities = ["list"] }
path "kv/+/x*" { capabilities = ["deny"] }
path "a/b/c" { capabilities = [] }
path "*" { capabilities = ["subscribe"] }`,
}

// FuzzACLPath evaluates arbitrary paths against a fixed ACL: no panic, and
// the compiled lookup agrees with a brute-force reading of Vault's rules.
func FuzzACLPath(f *testing.F) {
	for _, s := range []string{"secret/data/app", "secret/data/app/", "secret/x/app/y", "secret/a/b/config",
		"secret/data/b/config", "secret/metadata/", "x", "x/y", "kv/q/xyz", "kv/abc", "", "/", "//secret/x", "a/b/c"} {
		f.Add(s)
	}
	var policies []*Policy
	for i, text := range fuzzRules {
		text = strings.Replace(text, `path "" { capabilities = ["read"] }`, "", 1) // "" is not a valid path
		p, err := Parse("f"+string(rune('a'+i)), text)
		if err != nil {
			f.Fatal(err)
		}
		policies = append(policies, p)
	}
	a, err := NewACL(policies...)
	if err != nil {
		f.Fatal(err)
	}
	ref := newRefACL(policies)
	f.Fuzz(func(t *testing.T, path string) {
		got := a.Capabilities(path)
		want := ref.capabilities(path)
		if !slices.Equal(got, want) {
			t.Fatalf("Capabilities(%q) = %v, reference says %v", path, got, want)
		}
		allowed, _ := a.Allow(logical.ListOperation, path, nil)
		if allowed != slices.Contains(got, CapList) {
			t.Fatalf("Allow(list, %q) = %v but capabilities are %v", path, allowed, got)
		}
		if !strings.HasSuffix(path, "/") {
			read, _ := a.Allow(logical.ReadOperation, path, nil)
			if read != slices.Contains(got, CapRead) {
				t.Fatalf("Allow(read, %q) = %v but capabilities are %v", path, read, got)
			}
		}
	})
}

// refACL is a deliberately naive ACL: it scans every pattern and splits
// paths the way Vault's code does.
type refACL struct {
	exact, globs map[string]capBits
}

func newRefACL(ps []*Policy) *refACL {
	r := &refACL{exact: map[string]capBits{}, globs: map[string]capBits{}}
	for _, p := range ps {
		for _, pr := range p.Paths {
			m := r.exact
			if strings.HasSuffix(pr.Path, "*") || hasSegmentWildcard(pr.Path) {
				m = r.globs
			}
			old, seen := m[pr.Path]
			switch {
			case seen && old&bitDeny != 0:
			case pr.caps&bitDeny != 0:
				m[pr.Path] = bitDeny
			default:
				m[pr.Path] = old | pr.caps
			}
		}
	}
	return r
}

func (r *refACL) capabilities(path string) []string {
	path = strings.TrimLeft(path, "/")
	c, ok := r.exact[path]
	if !ok {
		c, ok = r.exact[strings.TrimSuffix(path, "/")]
	}
	if !ok && strings.HasSuffix(path, "/") {
		c, ok = r.best(strings.TrimSuffix(path, "/"))
	}
	if !ok {
		c, ok = r.best(path)
	}
	if !ok || c == 0 || c&bitDeny != 0 {
		return []string{CapDeny}
	}
	return c.names()
}

func (r *refACL) best(path string) (capBits, bool) {
	var bestC candidate
	var caps capBits
	found := false
	for pattern, c := range r.globs {
		cand, ok := refMatch(pattern, path)
		if ok && (!found || cand.beats(bestC)) {
			bestC, caps, found = cand, c, true
		}
	}
	return caps, found
}

func refMatch(pattern, path string) (candidate, bool) {
	body, isPrefix := strings.CutSuffix(pattern, "*")
	if !hasSegmentWildcard(pattern) {
		n := len(body)
		return candidate{firstWC: n, prefix: true, length: n, pattern: body}, strings.HasPrefix(path, body)
	}
	aclParts, pathParts := strings.Split(body, "/"), strings.Split(path, "/")
	if len(pathParts) < len(aclParts) || (!isPrefix && len(pathParts) != len(aclParts)) {
		return candidate{}, false
	}
	c := candidate{firstWC: -1, prefix: isPrefix, length: len(body), pattern: pattern}
	off := 0
	for i, part := range aclParts {
		switch {
		case part == "+":
			c.wildcards++
			if c.firstWC < 0 {
				c.firstWC = off
			}
		case part == pathParts[i]:
		case isPrefix && i == len(aclParts)-1 && strings.HasPrefix(pathParts[i], part):
		default:
			return candidate{}, false
		}
		off += len(part) + 1
	}
	return c, true
}
