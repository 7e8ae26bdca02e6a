package main

import (
	"testing"
	"time"

	"github.com/kinko-dev/kinko/api"
)

func TestSecretFieldWrapInfo(t *testing.T) {
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	wrapped := &api.Secret{WrapInfo: &api.SecretWrapInfo{Token: "hvs.w", Accessor: "acc", TTL: 300,
		CreationTime: created, CreationPath: "secret/data/x", WrappedAccessor: "inner"}}
	plain := &api.Secret{Data: map[string]any{"wrapping_token": "data value", "k": "v"}}
	tests := []struct {
		name  string
		s     *api.Secret
		field string
		want  any
	}{
		{"token", wrapped, "wrapping_token", "hvs.w"},
		{"accessor", wrapped, "wrapping_accessor", "acc"},
		{"ttl in seconds", wrapped, "wrapping_token_ttl", 300},
		{"creation time", wrapped, "wrapping_token_creation_time", created.String()},
		{"creation path", wrapped, "wrapping_token_creation_path", "secret/data/x"},
		{"wrapped accessor", wrapped, "wrapped_accessor", "inner"},
		{"unknown field of a wrapped secret", wrapped, "k", nil},
		{"unwrapped secret keeps its data", plain, "wrapping_token", "data value"},
		{"data key", plain, "k", "v"},
	}
	for _, tt := range tests {
		if got := secretField(tt.s, tt.field); got != tt.want {
			t.Errorf("%s: secretField(%q) = %#v, want %#v", tt.name, tt.field, got, tt.want)
		}
	}
}
