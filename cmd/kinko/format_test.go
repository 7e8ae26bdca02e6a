package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/api"
)

func TestColumnsAndTable(t *testing.T) {
	got := table([]string{"Key", "Value"}, [][]string{{"a", "1"}, {"longer_key", ""}, {" padded ", "x "}})
	want := strings.Join([]string{
		"Key           Value",
		"---           -----",
		"a             1",
		"longer_key    n/a",
		"padded        x",
	}, "\n")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := columns([][]string{{"Key Term", "2"}, {"Install Time", "now"}}); got != "Key Term        2\nInstall Time    now" {
		t.Errorf("columns: %q", got)
	}
}

func TestPadEqualSigns(t *testing.T) {
	tests := []struct {
		header string
		width  int
		want   string
	}{
		{"Secret Path", len("secret/data/app"), "= Secret Path ="},
		{"Secret Path", len("secret/data/creds"), "== Secret Path =="},
		{"Metadata", len("custom_metadata") + 9, "======= Metadata ======="},
		{"Data", 3, "== Data =="},      // too narrow: two on each side
		{"Data", 13, "==== Data ===="}, // odd count rounds up
	}
	for _, tt := range tests {
		if got := padEqualSigns(tt.header, tt.width); got != tt.want {
			t.Errorf("padEqualSigns(%q, %d) = %q, want %q", tt.header, tt.width, got, tt.want)
		}
	}
	if got := headerForMap("Data", map[string]any{"token": 1, "pw": 2}); got != "==== Data ====" {
		t.Errorf("headerForMap = %q", got)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		in   any
		want any
	}{
		{json.Number("2764800"), "768h"},
		{json.Number("5400"), "1h30m"},
		{json.Number("3661"), "1h1m1s"},
		{json.Number("45"), "45s"},
		{json.Number("0"), "0s"},
		{3600, "1h"},
		{"not a number", "not a number"},
		{json.Number("1.5"), json.Number("1.5")},
	}
	for _, tt := range tests {
		if got := humanDurationValue(tt.in); got != tt.want {
			t.Errorf("humanDurationValue(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSecretTable(t *testing.T) {
	s := &api.Secret{
		LeaseDuration: 3600,
		Data:          map[string]any{"b": "2", "a": nil, "ttl": json.Number("60"), "list": []any{"x", "y"}},
	}
	want := strings.Join([]string{
		"Key                 Value",
		"---                 -----",
		"refresh_interval    1h",
		"a                   <nil>",
		"b                   2",
		"list                [x y]",
		"ttl                 1m",
	}, "\n")
	if got := secretTable(s); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	auth := &api.Secret{Auth: &api.SecretAuth{ClientToken: "tok", Accessor: "acc", Policies: []string{"root"},
		TokenPolicies: []string{"root"}, Metadata: map[string]string{"z": "1", "a": "2"}}}
	got := secretTable(auth)
	for _, line := range []string{"token                tok", "token_duration       ∞",
		`policies             ["root"]`, `identity_policies    []`, "token_meta_a         2"} {
		if !strings.Contains(got, line) {
			t.Errorf("auth table lacks %q:\n%s", line, got)
		}
	}
	if strings.Index(got, "token_meta_a") > strings.Index(got, "token_meta_z") {
		t.Error("token metadata not sorted")
	}
	if secretTable(&api.Secret{}) != "" {
		t.Error("empty secret printed a table")
	}
	lease := secretTable(&api.Secret{LeaseID: "db/creds/x/1", LeaseDuration: 60, Renewable: true})
	if !strings.Contains(lease, "lease_duration     1m") || !strings.Contains(lease, "lease_renewable    true") {
		t.Errorf("lease table:\n%s", lease)
	}
	wrapped := secretTable(&api.Secret{WrapInfo: &api.SecretWrapInfo{Token: "w", TTL: 300, CreationTime: time.Unix(0, 0).UTC()}})
	if !strings.Contains(wrapped, "wrapping_token_ttl:              5m") {
		t.Errorf("wrap table:\n%s", wrapped)
	}
}

func TestWrapAtLength(t *testing.T) {
	s := strings.Repeat("word ", 30)
	for _, line := range strings.Split(wrapAtLength(s, 2), "\n") {
		if len(line) > maxLineLength || !strings.HasPrefix(line, "  ") {
			t.Errorf("bad line %q", line)
		}
	}
	if got := wrapAtLength("a\nb", 0); got != "a\nb" {
		t.Errorf("paragraphs not kept: %q", got)
	}
}

func TestSecretField(t *testing.T) {
	s := &api.Secret{LeaseID: "l", LeaseDuration: 5, RequestID: "r", Data: map[string]any{"k": "v"},
		Auth: &api.SecretAuth{ClientToken: "tok", Accessor: "acc", Policies: []string{"p"}}}
	tests := map[string]any{"token": "tok", "token_accessor": "acc", "lease_id": "l", "lease_duration": 5,
		"refresh_interval": 5, "request_id": "r", "k": "v", "missing": nil}
	for field, want := range tests {
		got := secretField(s, field)
		if want == nil {
			if got != nil {
				t.Errorf("%s = %v, want nil", field, got)
			}
			continue
		}
		if got != want {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
}

func BenchmarkSecretTable(b *testing.B) {
	data := map[string]any{}
	for i := 0; i < 20; i++ {
		data["key_"+strings.Repeat("x", i)] = json.Number("12345")
	}
	s := &api.Secret{Data: data}
	b.ReportAllocs()
	for b.Loop() {
		_ = secretTable(s)
	}
}
