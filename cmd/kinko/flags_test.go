package main

import (
	"reflect"
	"testing"
)

func TestNormalizeArgs(t *testing.T) {
	root := newRootCmd(newCLI(nil, nil, nil, func(string) string { return "" }))
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"single dash long flags", []string{"kv", "get", "-mount=secret", "-field", "pw", "app"},
			[]string{"kv", "get", "--mount=secret", "--field", "pw", "app"}},
		{"double dash untouched", []string{"kv", "get", "--mount=secret", "app"},
			[]string{"kv", "get", "--mount=secret", "app"}},
		{"value starting with a dash is kept", []string{"kv", "put", "-cas", "-1", "secret/a", "k=v"},
			[]string{"kv", "put", "--cas", "-1", "secret/a", "k=v"}},
		{"value after a global flag", []string{"-address", "-weird", "status"},
			[]string{"--address", "-weird", "status"}},
		{"bool flag does not take the next arg", []string{"token", "revoke", "-self", "-mode=orphan"},
			[]string{"token", "revoke", "--self", "--mode=orphan"}},
		{"lone dash is stdin", []string{"kv", "put", "secret/a", "-"},
			[]string{"kv", "put", "secret/a", "-"}},
		{"shorthand left alone", []string{"kv", "-h"}, []string{"kv", "-h"}},
		{"help", []string{"kv", "put", "-help"}, []string{"kv", "put", "--help"}},
		{"after -- nothing changes", []string{"kv", "put", "secret/a", "--", "-k=v", "-x"},
			[]string{"kv", "put", "secret/a", "--", "-k=v", "-x"}},
		{"unknown single dash flag rewritten for cobra to report", []string{"status", "-nope"},
			[]string{"status", "--nope"}},
		{"repeatable flag values", []string{"token", "create", "-policy", "a", "-policy=b", "-metadata", "k=v"},
			[]string{"token", "create", "--policy", "a", "--policy=b", "--metadata", "k=v"}},
		{"positional named like a command does not descend", []string{"kv", "get", "kv"},
			[]string{"kv", "get", "kv"}},
		{"flag as last arg", []string{"kv", "get", "-field"}, []string{"kv", "get", "--field"}},
		{"global wrap-ttl before the command", []string{"-wrap-ttl", "5m", "kv", "get", "secret/a"},
			[]string{"--wrap-ttl", "5m", "kv", "get", "secret/a"}},
		{"global flags after the command", []string{"login", "-method=cert", "-client-cert", "c.pem", "-client-key=k.pem", "name=web"},
			[]string{"login", "--method=cert", "--client-cert", "c.pem", "--client-key=k.pem", "name=web"}},
		{"auth subcommand flags", []string{"auth", "enable", "-path", "people", "-options", "a=b", "userpass"},
			[]string{"auth", "enable", "--path", "people", "--options", "a=b", "userpass"}},
		{"auth list bool flag", []string{"auth", "list", "-detailed", "-format", "json"},
			[]string{"auth", "list", "--detailed", "--format", "json"}},
		{"unwrap with field", []string{"unwrap", "-field", "data", "-"}, []string{"unwrap", "--field", "data", "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalizeArgs(root, tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
