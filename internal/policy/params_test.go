package policy

import (
	"encoding/json"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// dataMap is request data in the parameter cases.
type dataMap = map[string]any

var parameterCases = []struct {
	name     string
	policies []string
	op       logical.Operation
	data     map[string]any
	want     bool
}{
	{"allowed value", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "color" = ["red", "blue"] } }`}, logical.UpdateOperation, dataMap{"color": "red"}, true},
	{"allowed value mismatch", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "color" = ["red", "blue"] } }`}, logical.UpdateOperation, dataMap{"color": "green"}, false},
	{"unlisted parameter refused", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "color" = [] } }`}, logical.UpdateOperation, dataMap{"color": "x", "size": 1}, false},
	{"parameter names are case-insensitive", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "Color" = [] } }`}, logical.UpdateOperation, dataMap{"COLOR": "x"}, true},
	{"star allows the rest", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "color" = ["red"], "*" = [] } }`}, logical.UpdateOperation, dataMap{"color": "red", "size": 1}, true},
	{"star still checks listed values", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "color" = ["red"], "*" = [] } }`}, logical.UpdateOperation, dataMap{"color": "blue", "size": 1}, false},
	{"prefix glob value", []string{`path "p" { capabilities = ["create"]
  allowed_parameters = { "name" = ["team-*"] } }`}, logical.CreateOperation, dataMap{"name": "team-a"}, true},
	{"suffix glob value", []string{`path "p" { capabilities = ["create"]
  allowed_parameters = { "name" = ["*-prod"] } }`}, logical.CreateOperation, dataMap{"name": "db-prod"}, true},
	{"substring glob value", []string{`path "p" { capabilities = ["create"]
  allowed_parameters = { "name" = ["*mid*"] } }`}, logical.CreateOperation, dataMap{"name": "amidb"}, true},
	{"lone star value is literal", []string{`path "p" { capabilities = ["create"]
  allowed_parameters = { "name" = ["*"] } }`}, logical.CreateOperation, dataMap{"name": "x"}, false},
	{"list value: every element allowed", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "policies" = ["a", "b"] } }`}, logical.UpdateOperation, dataMap{"policies": []any{"a", "b"}}, true},
	{"list value: one element not allowed", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "policies" = ["a", "b"] } }`}, logical.UpdateOperation, dataMap{"policies": []any{"a", "root"}}, false},
	{"comma string: every part allowed", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "policies" = ["a", "b"] } }`}, logical.UpdateOperation, dataMap{"policies": "a, b"}, true},
	{"comma string: one part not allowed", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "policies" = ["a", "b"] } }`}, logical.UpdateOperation, dataMap{"policies": "a,root"}, false},
	{"empty string not vacuously allowed", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "policies" = ["a"] } }`}, logical.UpdateOperation, dataMap{"policies": ""}, false},
	{"empty list not vacuously allowed", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "policies" = ["a"] } }`}, logical.UpdateOperation, dataMap{"policies": []any{}}, false},
	{"numbers compare by value", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "ttl" = [30, 60] } }`}, logical.UpdateOperation, dataMap{"ttl": json.Number("60")}, true},
	{"float data against int value", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "ttl" = [30] } }`}, logical.UpdateOperation, dataMap{"ttl": float64(30)}, true},
	{"bool value", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "force" = [false] } }`}, logical.UpdateOperation, dataMap{"force": true}, false},
	{"string is not a number", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "ttl" = [30] } }`}, logical.UpdateOperation, dataMap{"ttl": "30"}, false},
	{"denied key any value", []string{`path "p" { capabilities = ["update"]
  denied_parameters = { "admin" = [] } }`}, logical.UpdateOperation, dataMap{"admin": false}, false},
	{"denied value", []string{`path "p" { capabilities = ["update"]
  denied_parameters = { "role" = ["root*"] } }`}, logical.UpdateOperation, dataMap{"role": "rootish"}, false},
	{"denied value other value ok", []string{`path "p" { capabilities = ["update"]
  denied_parameters = { "role" = ["root"] } }`}, logical.UpdateOperation, dataMap{"role": "dev"}, true},
	{"denied element of list", []string{`path "p" { capabilities = ["update"]
  denied_parameters = { "policies" = ["root"] } }`}, logical.UpdateOperation, dataMap{"policies": []any{"dev", "root"}}, false},
	{"denied part of comma string", []string{`path "p" { capabilities = ["update"]
  denied_parameters = { "policies" = ["root"] } }`}, logical.UpdateOperation, dataMap{"policies": "dev,root"}, false},
	{"denied star refuses any data", []string{`path "p" { capabilities = ["update"]
  denied_parameters = { "*" = [] } }`}, logical.UpdateOperation, dataMap{"x": 1}, false},
	{"denied star allows empty data", []string{`path "p" { capabilities = ["update"]
  denied_parameters = { "*" = [] } }`}, logical.UpdateOperation, nil, true},
	{"deny beats allow", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "*" = [] }
  denied_parameters = { "x" = [] } }`}, logical.UpdateOperation, dataMap{"x": 1}, false},
	{"required present", []string{`path "p" { capabilities = ["update"]
  required_parameters = ["name"] }`}, logical.UpdateOperation, dataMap{"name": "a"}, true},
	{"required missing", []string{`path "p" { capabilities = ["update"]
  required_parameters = ["name"] }`}, logical.UpdateOperation, dataMap{"other": "a"}, false},
	{"required missing with no data", []string{`path "p" { capabilities = ["update"]
  required_parameters = ["name"] }`}, logical.PatchOperation, nil, false},
	{"parameters not applied to read", []string{`path "p" { capabilities = ["read"]
  required_parameters = ["name"] }`}, logical.ReadOperation, nil, true},
	{"parameters not applied to delete", []string{`path "p" { capabilities = ["delete"]
  denied_parameters = { "*" = [] } }`}, logical.DeleteOperation, dataMap{"x": 1}, true},
	{"merged allowed lists", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "color" = ["red"] } }`, `path "p" { allowed_parameters = { "color" = ["blue"] } }`},
		logical.UpdateOperation, dataMap{"color": "blue"}, true},
	{"merged empty list means any value", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "color" = ["red"] } }`, `path "p" { allowed_parameters = { "color" = [] } }`},
		logical.UpdateOperation, dataMap{"color": "green"}, true},
	{"merged required from both", []string{`path "p" { capabilities = ["update"]
  required_parameters = ["a"] }`, `path "p" { required_parameters = ["b"] }`},
		logical.UpdateOperation, dataMap{"a": 1}, false},
	{"nil value matches only nil", []string{`path "p" { capabilities = ["update"]
  allowed_parameters = { "x" = ["a"] } }`}, logical.UpdateOperation, dataMap{"x": nil}, false},
}

func TestParameters(t *testing.T) {
	for _, tt := range parameterCases {
		t.Run(tt.name, func(t *testing.T) {
			a := mustACL(t, tt.policies...)
			if got, _ := a.Allow(tt.op, "p", tt.data); got != tt.want {
				t.Errorf("Allow(%s, %v) = %v, want %v", tt.op, tt.data, got, tt.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "*", true}, {"*", "x", false}, {"", "", true},
		{"ab*", "abc", true}, {"ab*", "xab", false},
		{"*ab", "xab", true}, {"*ab", "abx", false},
		{"*ab*", "xaby", true}, {"**", "anything", true},
		{"a*b", "a*b", true}, {"a*b", "axb", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
