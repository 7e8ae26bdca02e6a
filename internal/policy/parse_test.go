package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

var parseValidCases = []struct {
	name string
	text string
	want []PathRules // compared on exported fields
}{
	{
		name: "capabilities",
		text: `path "secret/data/*" { capabilities = ["read", "list", "create", "read"] }`,
		want: []PathRules{{Path: "secret/data/*", Capabilities: []string{"create", "list", "read"}}},
	},
	{
		name: "leading slash stripped, all capabilities",
		text: `path "/sys/mounts" { capabilities = ["create","read","update","patch","delete","list","sudo","subscribe","recover"] }`,
		want: []PathRules{{Path: "sys/mounts", Capabilities: []string{"create", "delete", "list", "patch", "read", "recover", "subscribe", "sudo", "update"}}},
	},
	{
		name: "deny wins within a block",
		text: `path "a" { capabilities = ["read", "deny", "sudo"] }`,
		want: []PathRules{{Path: "a", Capabilities: []string{"deny"}}},
	},
	{
		name: "old policy shorthands",
		text: `path "r" { policy = "read" }
path "w" { policy = "write" }
path "s" { policy = "sudo" }
path "d" { policy = "deny" }
path "rw" { policy = "read"
  capabilities = ["update"] }`,
		want: []PathRules{
			{Path: "r", Capabilities: []string{"list", "read"}},
			{Path: "w", Capabilities: []string{"create", "delete", "list", "read", "update"}},
			{Path: "s", Capabilities: []string{"create", "delete", "list", "read", "sudo", "update"}},
			{Path: "d", Capabilities: []string{"deny"}},
			{Path: "rw", Capabilities: []string{"list", "read", "update"}},
		},
	},
	{
		name: "parameters and wrapping",
		text: `path "secret/foo" {
  capabilities = ["create"]
  comment = "team a"
  allowed_parameters = {
    "Bar" = ["zip", "zap*", 3, true]
    "*"   = []
  }
  denied_parameters { "baz" = [] }
  required_parameters = ["Bar", "qux"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = 3600
}`,
		want: []PathRules{{
			Path: "secret/foo", Capabilities: []string{"create"},
			AllowedParameters:  map[string][]any{"bar": {"zip", "zap*", int64(3), true}, "*": {}},
			DeniedParameters:   map[string][]any{"baz": {}},
			RequiredParameters: []string{"bar", "qux"},
			MinWrappingTTL:     time.Second, MaxWrappingTTL: time.Hour,
		}},
	},
	{
		name: "segment wildcards and empty capabilities",
		text: `path "secret/+/team/*" { capabilities = [] }
path "+" { capabilities = ["list"] }`,
		want: []PathRules{
			{Path: "secret/+/team/*", Capabilities: []string{}},
			{Path: "+", Capabilities: []string{"list"}},
		},
	},
	{
		name: "wrapping ttl in days",
		text: `path "x" { capabilities = ["read"]
max_wrapping_ttl = "2d" }`,
		want: []PathRules{{Path: "x", Capabilities: []string{"read"}, MaxWrappingTTL: 48 * time.Hour}},
	},
	{
		name: "json form",
		text: `{"path": {
  "secret/*": {"capabilities": ["read"]},
  "secret/x": {"capabilities": ["update"], "allowed_parameters": {"a": ["1"]}}
}}`,
		want: []PathRules{
			{Path: "secret/*", Capabilities: []string{"read"}},
			{Path: "secret/x", Capabilities: []string{"update"}, AllowedParameters: map[string][]any{"a": {"1"}}},
		},
	},
	{
		name: "json block holding only parameters",
		text: `{"path": {"p": {"denied_parameters": {"k": []}}}}`,
		want: []PathRules{{Path: "p", Capabilities: []string{}, DeniedParameters: map[string][]any{"k": {}}}},
	},
	{
		name: "json list of path objects",
		text: `{"path": [{"a": {"capabilities": ["read"]}}, {"b": {"policy": "deny"}}]}`,
		want: []PathRules{
			{Path: "a", Capabilities: []string{"read"}},
			{Path: "b", Capabilities: []string{"deny"}},
		},
	},
	{name: "empty policy", text: "# nothing here\n", want: nil},
	{
		name: "name key ignored",
		text: `name = "other"
path "a" { capabilities = ["read"] }`,
		want: []PathRules{{Path: "a", Capabilities: []string{"read"}}},
	},
}

func TestParseValid(t *testing.T) {
	for _, tt := range parseValidCases {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("Team-A", tt.text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Name != "team-a" || p.Raw != tt.text {
				t.Errorf("name/raw = %q/%q", p.Name, p.Raw)
			}
			var got []PathRules
			for _, pr := range p.Paths {
				c := *pr
				c.caps = 0
				got = append(got, c)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("paths:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseTemplated(t *testing.T) {
	p, err := Parse("default", DefaultPolicy)
	if err != nil {
		t.Fatalf("default policy: %v", err)
	}
	if !p.Templated {
		t.Error("default policy has identity templates but Templated is false")
	}
	n := 0
	for _, pr := range p.Paths {
		if pr.Templated {
			n++
		}
	}
	if n != 2 {
		t.Errorf("templated paths = %d, want 2", n)
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown capability", `path "a" { capabilities = ["reed"] }`, `line 1: path "a": capabilities: unknown capability "reed"`},
		{"unknown key", "path \"a\" {\n  capabilites = [\"read\"]\n}", `line 2: path "a": capabilites: unknown key`},
		{"enterprise key", `path "a" { control_group = { ttl = "4h" } }`, "control groups are a Vault Enterprise feature"},
		{"star in middle", `path "a/*/b" { capabilities = ["read"] }`, `"*" is only allowed as the last character`},
		{"plus star", `path "a/+*" { capabilities = ["read"] }`, `"+*" is not allowed`},
		{"empty path", `path "" { capabilities = ["read"] }`, "the path is empty"},
		{"slash only path", `path "/" { capabilities = ["read"] }`, "the path is empty"},
		{"path without name", `path { capabilities = ["read"] }`, "a path block needs a quoted path"},
		{"invalid hcl", "path \"a\" {\n  capabilities = [\"read\"\n", "invalid HCL: At 3:"},
		{"unknown top key", "\n\nfoo = 1", `line 3: unknown top-level key "foo"`},
		{"bad old policy", `path "a" { policy = "admin" }`, `line 1: path "a": policy: "admin" is not valid`},
		{"capabilities not list", `path "a" { capabilities = { x = 1 } }`, "must be a list of strings"},
		{"capability not string", `path "a" { capabilities = [1] }`, "must be a quoted string"},
		{"duplicate key", "path \"a\" {\n capabilities = [\"read\"]\n capabilities = [\"list\"]\n}", "already set"},
		{"duplicate block key", "path \"a\" {\n allowed_parameters { a = [] }\n allowed_parameters { b = [] }\n}", `line 3: path "a": "allowed_parameters" is already set on line 2`},
		{"param wildcard misuse", `path "a" { allowed_parameters = { "a*" = [] } }`, `"*" may only be used alone`},
		{"json pointer param", `path "a" { denied_parameters = { "/a/b" = [] } }`, "JSON-pointer parameter names are not supported"},
		{"param nested value", `path "a" { allowed_parameters = { "a" = [["x"]] } }`, "values must be strings, numbers or booleans"},
		{"param duplicate by case", `path "a" { allowed_parameters = { "a" = [], "A" = [] } }`, `parameter "A" is listed more than once`},
		{"required wildcard", `path "a" { required_parameters = ["*"] }`, "may only be used alone"},
		{"bad ttl", `path "a" { min_wrapping_ttl = "soon" }`, `"soon" is not a duration`},
		{"negative ttl", `path "a" { min_wrapping_ttl = -5 }`, "between 0 and 100 years"},
		{"max below min", `path "a" { min_wrapping_ttl = "1h"
max_wrapping_ttl = "1m" }`, "max_wrapping_ttl cannot be less than min_wrapping_ttl"},
		{"unterminated template", `path "a/{{identity.entity.id" { capabilities = ["read"] }`, `unterminated "{{"`},
		{"overflowing number", `path "a" { max_wrapping_ttl = 99999999999999999999999 }`, "malformed value"},
		{"too deep", strings.Repeat("a = [", 40) + strings.Repeat("]", 40), "nesting deeper than"},
		{"too deep json", strings.Repeat(`{"a": `, 40) + "1" + strings.Repeat("}", 40), "nesting deeper than"},
		{"json bool in list", `{"path": {"a": {"allowed_parameters": {"k": [true]}}}}`, "booleans inside lists are not supported"},
		{"json nested list", `{"path": {"a": {"allowed_parameters": {"k": [["x"]]}}}}`, "nested lists are not supported"},
		{"scanner panic", "{\"\\0", "malformed literal or escape"},
		{"too large", strings.Repeat("#", MaxPolicySize+1), "the limit is"},
		{"invalid utf8", "path \"\xff\" {}", "not valid UTF-8"},
		{"too many paths", strings.Repeat(`path "a" { capabilities = ["read"] }`+"\n", MaxPaths+1), "too many path blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p", tt.text)
			if err == nil {
				t.Fatal("Parse succeeded, want error")
			}
			if !errors.Is(err, logical.ErrInvalidRequest) {
				t.Errorf("error %v does not wrap ErrInvalidRequest", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseNames(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: " Admin.Team_1-x ", want: "admin.team_1-x"},
		{in: "", err: "must not be empty"},
		{in: "a/b", err: "invalid character"},
		{in: "a b", err: "invalid character"},
		{in: "..", err: "not allowed"},
		{in: strings.Repeat("a", MaxNameLength+1), err: "the limit is"},
		{in: "ROOT", err: "built in"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Parse(tt.in, "")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, logical.ErrInvalidRequest) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || p.Name != tt.want {
				t.Fatalf("Parse(%q) = %v, %v; want name %q", tt.in, p, err, tt.want)
			}
		})
	}
}
