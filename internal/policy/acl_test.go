package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func mustParse(t testing.TB, name, text string) *Policy {
	t.Helper()
	p, err := Parse(name, text)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return p
}

func mustACL(t testing.TB, texts ...string) *ACL {
	t.Helper()
	ps := make([]*Policy, len(texts))
	for i, text := range texts {
		ps[i] = mustParse(t, "p"+string(rune('a'+i)), text)
	}
	a, err := NewACL(ps...)
	if err != nil {
		t.Fatalf("NewACL: %v", err)
	}
	return a
}

func caps(s string) []string { return strings.Split(s, ",") }

var precedenceCases = []struct {
	name     string
	policies []string
	path     string
	want     string
}{
	{"exact beats glob", []string{`path "secret/*" { capabilities = ["deny"] }
path "secret/foo" { capabilities = ["read"] }`}, "secret/foo", "read"},
	{"glob applies elsewhere", []string{`path "secret/*" { capabilities = ["deny"] }
path "secret/foo" { capabilities = ["read"] }`}, "secret/bar", "deny"},
	{"longest prefix wins, no union across patterns", []string{`path "secret/*" { capabilities = ["read"] }
path "secret/team/*" { capabilities = ["update"] }`}, "secret/team/x", "update"},
	{"prefix within a segment", []string{`path "secret/fo*" { capabilities = ["read"] }`}, "secret/foo/bar", "read"},
	{"no match is deny", []string{`path "secret/*" { capabilities = ["read"] }`}, "kv/x", "deny"},
	{"star matches everything", []string{`path "*" { capabilities = ["list"] }`}, "any/thing", "list"},
	{"plus matches one segment", []string{`path "secret/+/config" { capabilities = ["read"] }`}, "secret/app/config", "read"},
	{"plus does not span segments", []string{`path "secret/+/config" { capabilities = ["read"] }`}, "secret/a/b/config", "deny"},
	{"plus needs same segment count", []string{`path "secret/+" { capabilities = ["read"] }`}, "secret/a/b", "deny"},
	{"plus with trailing glob", []string{`path "secret/+/team/*" { capabilities = ["read"] }`}, "secret/a/team/x/y", "read"},
	{"plus first segment", []string{`path "+/data/x" { capabilities = ["read"] }`}, "kv/data/x", "read"},
	// Vault's documented priority examples.
	{"plus segment beats glob at same position", []string{`path "secret/*" { capabilities = ["read"] }
path "secret/+/foo" { capabilities = ["update"] }`}, "secret/bar/foo", "update"},
	{"later glob beats earlier plus", []string{`path "foo/a*" { capabilities = ["read"] }
path "foo/+" { capabilities = ["update"] }`}, "foo/ab", "read"},
	{"later plus beats earlier plus", []string{`path "foo/bar/+/baz" { capabilities = ["read"] }
path "foo/+/bar/baz" { capabilities = ["update"] }`}, "foo/bar/bar/baz", "read"},
	{"non-prefix beats prefix", []string{`path "foo/+/bar" { capabilities = ["read"] }
path "foo/+/ba*" { capabilities = ["update"] }`}, "foo/x/bar", "read"},
	{"plus beats star at same position", []string{`path "foo/+" { capabilities = ["read"] }
path "foo/*" { capabilities = ["update"] }`}, "foo/x", "read"},
	{"fewer plus wins", []string{`path "foo/bar/+/baz" { capabilities = ["read"] }
path "foo/bar/+/+" { capabilities = ["update"] }`}, "foo/bar/x/baz", "read"},
	{"longer pattern wins", []string{`path "foo/+/bar/ba*" { capabilities = ["read"] }
path "foo/+/bar/b*" { capabilities = ["update"] }`}, "foo/x/bar/baz", "read"},
	{"exact beats plus", []string{`path "foo/+" { capabilities = ["read"] }
path "foo/x" { capabilities = ["update"] }`}, "foo/x", "update"},
	{"longer glob beats plus", []string{`path "foo/+/x" { capabilities = ["read"] }
path "foo/bar/*" { capabilities = ["update"] }`}, "foo/bar/x", "update"},
	{"merge same pattern across policies", []string{`path "secret/*" { capabilities = ["read"] }`,
		`path "secret/*" { capabilities = ["list", "update"] }`}, "secret/x", "list,read,update"},
	{"deny in one policy overrides the pattern", []string{`path "secret/*" { capabilities = ["read", "sudo"] }`,
		`path "secret/*" { capabilities = ["deny"] }`, `path "secret/*" { capabilities = ["list"] }`}, "secret/x", "deny"},
	{"deny on winning rule beats broader grant", []string{`path "secret/*" { capabilities = ["read"] }`,
		`path "secret/private/*" { capabilities = ["deny"] }`}, "secret/private/x", "deny"},
	{"empty capabilities shadow a broader rule", []string{`path "secret/*" { capabilities = ["read"] }
path "secret/locked" { capabilities = [] }`}, "secret/locked", "deny"},
	{"leading slashes ignored", []string{`path "/secret/x" { capabilities = ["read"] }`}, "//secret/x", "read"},
	{"list fallback strips slash for exact", []string{`path "secret/metadata/app" { capabilities = ["list"] }`}, "secret/metadata/app/", "list"},
	{"list fallback strips slash for glob", []string{`path "secret/metadata/ap*" { capabilities = ["list"] }
path "secret/metadata/app/*" { capabilities = ["read"] }`}, "secret/metadata/app/", "list"},
	{"templated paths are skipped", []string{`path "secret/{{identity.entity.id}}/*" { capabilities = ["deny"] }
path "secret/*" { capabilities = ["read"] }`}, "secret/{{identity.entity.id}}/x", "read"},
}

// TestPrecedence checks which rule wins, using Capabilities (which applies
// Vault's list fallback, as Vault's own does).
func TestPrecedence(t *testing.T) {
	for _, tt := range precedenceCases {
		t.Run(tt.name, func(t *testing.T) {
			a := mustACL(t, tt.policies...)
			got := a.Capabilities(tt.path)
			if !reflect.DeepEqual(got, caps(tt.want)) {
				t.Errorf("Capabilities(%q) = %v, want %v", tt.path, got, caps(tt.want))
			}
		})
	}
}

func TestAllowOperations(t *testing.T) {
	a := mustACL(t, `
path "secret/data/*" { capabilities = ["create", "read", "update", "patch", "delete"] }
path "secret/metadata/*" { capabilities = ["list"] }
path "sys/rotate" { capabilities = ["update", "sudo"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "secret/data/denied" { capabilities = ["deny"] }
path "secret/data/empty" { capabilities = [] }
`)
	tests := []struct {
		op            logical.Operation
		path          string
		allowed, sudo bool
	}{
		{logical.ReadOperation, "secret/data/x", true, false},
		{logical.CreateOperation, "secret/data/x", true, false},
		{logical.UpdateOperation, "secret/data/x", true, false},
		{logical.PatchOperation, "secret/data/x", true, false},
		{logical.DeleteOperation, "secret/data/x", true, false},
		{logical.ListOperation, "secret/data/x", false, false},
		{logical.ListOperation, "secret/metadata/", true, false},
		{logical.ReadOperation, "secret/metadata/x", false, false},
		{logical.UpdateOperation, "sys/rotate", true, true},
		{logical.ReadOperation, "sys/rotate", false, true},
		{logical.RenewOperation, "sys/leases/renew", true, false},
		{logical.RevokeOperation, "sys/leases/renew", true, false},
		{logical.HelpOperation, "secret/metadata/x", true, false},
		{logical.HelpOperation, "kv/x", false, false},
		{logical.HelpOperation, "secret/data/empty", false, false},
		{logical.HelpOperation, "secret/data/denied", false, false},
		{logical.ReadOperation, "secret/data/denied", false, false},
		{logical.ReadOperation, "secret/data/empty", false, false},
		{logical.Operation("bogus"), "secret/data/x", false, false},
	}
	for _, tt := range tests {
		allowed, sudo := a.Allow(tt.op, tt.path, nil)
		if allowed != tt.allowed || sudo != tt.sudo {
			t.Errorf("Allow(%s, %q) = %v, %v; want %v, %v", tt.op, tt.path, allowed, sudo, tt.allowed, tt.sudo)
		}
	}
}

func TestRootACL(t *testing.T) {
	a, err := NewACL(RootPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !a.Root() {
		t.Error("Root() = false")
	}
	if got := a.Capabilities("anything"); !reflect.DeepEqual(got, []string{"root"}) {
		t.Errorf("Capabilities = %v", got)
	}
	if ok, sudo := a.Allow(logical.DeleteOperation, "sys/seal", map[string]any{"x": 1}); !ok || !sudo {
		t.Errorf("Allow = %v, %v", ok, sudo)
	}
	_, err = NewACL(RootPolicy(), mustParse(t, "other", `path "a" { capabilities = ["read"] }`))
	if !errors.Is(err, ErrRootWithOthers) {
		t.Errorf("root with others: err = %v", err)
	}
	empty, err := NewACL()
	if err != nil || empty.Root() {
		t.Fatalf("empty ACL: %v root=%v", err, empty.Root())
	}
	if got := empty.Capabilities("secret/x"); !reflect.DeepEqual(got, []string{"deny"}) {
		t.Errorf("empty ACL Capabilities = %v", got)
	}
}

func TestDefaultPolicyACL(t *testing.T) {
	a := mustACL(t, DefaultPolicy)
	tests := []struct {
		op   logical.Operation
		path string
		want bool
	}{
		{logical.ReadOperation, "auth/token/lookup-self", true},
		{logical.UpdateOperation, "auth/token/renew-self", true},
		{logical.UpdateOperation, "auth/token/revoke-self", true},
		{logical.UpdateOperation, "sys/capabilities-self", true},
		{logical.ReadOperation, "sys/internal/ui/resultant-acl", true},
		{logical.CreateOperation, "cubbyhole/mine", true},
		{logical.ListOperation, "cubbyhole/", true},
		{logical.UpdateOperation, "sys/wrapping/unwrap", true},
		{logical.UpdateOperation, "sys/wrapping/lookup", true},
		{logical.UpdateOperation, "sys/tools/hash/sha2-256", true},
		{logical.UpdateOperation, "sys/control-group/request", true},
		{logical.ReadOperation, "identity/oidc/provider/default/authorize", true},
		{logical.ReadOperation, "secret/data/x", false},
		{logical.UpdateOperation, "auth/token/create", false},
		{logical.ReadOperation, "identity/entity/id/{{identity.entity.id}}", false},
	}
	for _, tt := range tests {
		if got, _ := a.Allow(tt.op, tt.path, nil); got != tt.want {
			t.Errorf("Allow(%s, %q) = %v, want %v", tt.op, tt.path, got, tt.want)
		}
	}
}

func TestWrappingTTL(t *testing.T) {
	a := mustACL(t, `path "secret/*" {
  capabilities = ["read"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = "1h"
}
path "kv/*" { capabilities = ["read"] }`,
		`path "kv/*" { max_wrapping_ttl = "10m" }`)
	tests := []struct {
		path string
		ttl  time.Duration
		want bool
	}{
		{"secret/x", 0, false},
		{"secret/x", 30 * time.Second, false},
		{"secret/x", time.Minute, true},
		{"secret/x", time.Hour, true},
		{"secret/x", 2 * time.Hour, false},
		{"kv/x", 0, false}, // merged max from the second policy applies
		{"kv/x", 5 * time.Minute, true},
		{"kv/x", 11 * time.Minute, false},
	}
	for _, tt := range tests {
		if got := a.Check(logical.ReadOperation, tt.path, nil, tt.ttl).Allowed; got != tt.want {
			t.Errorf("Check(%q, wrap %v) = %v, want %v", tt.path, tt.ttl, got, tt.want)
		}
	}
	if ok, _ := a.Allow(logical.ReadOperation, "secret/x", nil); ok {
		t.Error("Allow of unwrapped read on a wrapping-only path succeeded")
	}
}
