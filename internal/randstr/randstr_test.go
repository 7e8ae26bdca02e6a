package randstr

import (
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		s, err := From("ab", 40)
		if err != nil || len(s) != 40 || strings.Trim(s, "ab") != "" {
			t.Fatalf("%q %v", s, err)
		}
		seen[s] = true
	}
	if len(seen) < 100 {
		t.Fatal("repeated strings")
	}
	if s, _ := From(Alphanumeric, 0); s != "" {
		t.Fatal("empty")
	}
}
