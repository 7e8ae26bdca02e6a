package storage

import (
	"errors"
	"slices"
	"testing"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"a/b/c", true},
		{"ünï/日本", true},
		{"", false},
		{"bad\xff", false},
	}
	for _, tc := range tests {
		err := ValidateKey(tc.key)
		if tc.ok != (err == nil) {
			t.Errorf("ValidateKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrKeyInvalid) {
			t.Errorf("ValidateKey(%q) = %v, want ErrKeyInvalid", tc.key, err)
		}
	}
}

func TestValidateOps(t *testing.T) {
	tests := []struct {
		name string
		ops  []Op
		ok   bool
	}{
		{"empty", nil, true},
		{"put and delete", []Op{{Kind: OpPut, Entry: &Entry{Key: "a"}}, {Kind: OpDelete, Entry: &Entry{Key: "b"}}}, true},
		{"nil entry", []Op{{Kind: OpPut}}, false},
		{"unknown kind", []Op{{Kind: 99, Entry: &Entry{Key: "a"}}}, false},
		{"empty key", []Op{{Kind: OpDelete, Entry: &Entry{}}}, false},
	}
	for _, tc := range tests {
		if err := ValidateOps(tc.ops); tc.ok != (err == nil) {
			t.Errorf("%s: ValidateOps = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestChildrenOf(t *testing.T) {
	keys := []string{"p/", "p/a.b", "p/a/1", "p/a/2/x", "p/b"}
	want := []string{"a.b", "a/", "b"}
	if got := ChildrenOf("p/", keys); !slices.Equal(got, want) {
		t.Errorf("ChildrenOf = %q, want %q", got, want)
	}
}

func TestCloneBytes(t *testing.T) {
	if CloneBytes(nil) != nil {
		t.Error("CloneBytes(nil) != nil")
	}
	src := []byte("abc")
	c := CloneBytes(src)
	src[0] = 'x'
	if string(c) != "abc" {
		t.Errorf("clone aliased its source: %q", c)
	}
}
