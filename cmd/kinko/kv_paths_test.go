package main

import "testing"

func TestKVTargetAPIPath(t *testing.T) {
	tests := []struct {
		name   string
		target kvTarget
		prefix string
		want   string
	}{
		{"v2 secret", kvTarget{mount: "secret/", v2: true, partial: "secret/app"}, "data", "secret/data/app"},
		{"v2 nested", kvTarget{mount: "secret/", v2: true, partial: "secret/a/b/c"}, "metadata", "secret/metadata/a/b/c"},
		{"v2 mount root", kvTarget{mount: "secret/", v2: true, partial: "secret"}, "metadata", "secret/metadata"},
		{"v2 nested mount", kvTarget{mount: "team/kv/", v2: true, partial: "team/kv/app"}, "delete", "team/kv/delete/app"},
		{"v1 keeps the path", kvTarget{mount: "old/", partial: "old/foo"}, "data", "old/foo"},
		{"unknown mount", kvTarget{partial: "x/y"}, "data", "x/y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.target.apiPath(tt.prefix); got != tt.want {
				t.Errorf("apiPath(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
		})
	}
}
