package passwordpolicy

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, text, err string
	}{
		{"minimal", `length = 8
rule "charset" { charset = "ab" }`, ""},
		{"min-chars", `length = 10
rule "charset" { charset = "abc" min-chars = 2 }
rule "charset" { charset = "0123456789" min-chars = 8 }`, ""},
		{"unicode", `length = 12
rule "charset" { charset = "äöü€" }`, ""},
		{"no length", `rule "charset" { charset = "ab" }`, "length is required"},
		{"too short", `length = 3
rule "charset" { charset = "ab" }`, "between 4 and 100"},
		{"too long", `length = 101
rule "charset" { charset = "ab" }`, "between 4 and 100"},
		{"no rule", `length = 10`, "at least one rule"},
		{"empty charset", `length = 10
rule "charset" { charset = "" }`, "must not be empty"},
		{"sum too big", `length = 4
rule "charset" { charset = "a" min-chars = 3 }
rule "charset" { charset = "b" min-chars = 2 }`, "more than length 4"},
		{"negative", `length = 8
rule "charset" { charset = "a" min-chars = -1 }`, "negative"},
		{"unknown rule", `length = 8
rule "regex" { charset = "a" }`, `unknown rule type "regex"`},
		{"unknown key", `length = 8
foo = 1
rule "charset" { charset = "a" }`, `unknown key "foo"`},
		{"unknown rule key", `length = 8
rule "charset" { charset = "a" max = 2 }`, `unknown key "max"`},
		{"string length", `length = "8"
rule "charset" { charset = "a" }`, "whole number"},
		{"control char", "length = 8\nrule \"charset\" { charset = \"a\\u0007\" }", "cannot be printed"},
		{"bad hcl", `length = {`, "invalid HCL"},
		{"rule without type", `length = 8
rule { charset = "a" }`, "needs a type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.text)
			if tc.err == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestGenerateSatisfiesRules(t *testing.T) {
	p, err := Parse(`length = 12
rule "charset" { charset = "abcdefghijklmnopqrstuvwxyz" min-chars = 2 }
rule "charset" { charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" min-chars = 2 }
rule "charset" { charset = "0123456789" min-chars = 2 }
rule "charset" { charset = "!@#$%^&*" min-chars = 6 }`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		pw, err := p.Generate(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Satisfied(pw) {
			t.Fatalf("password %q breaks the policy", pw)
		}
		seen[pw] = true
	}
	if len(seen) < 1000 {
		t.Fatalf("only %d distinct passwords in 1000", len(seen))
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	for i := 0; i < 200; i++ {
		pw, err := p.Generate(nil)
		if err != nil {
			t.Fatal(err)
		}
		var lo, up, dig bool
		for _, c := range pw {
			lo = lo || unicode.IsLower(c)
			up = up || unicode.IsUpper(c)
			dig = dig || unicode.IsDigit(c)
			if !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == '-') {
				t.Fatalf("unexpected character in %q", pw)
			}
		}
		if len(pw) != 20 || !lo || !up || !dig {
			t.Fatalf("default password %q", pw)
		}
	}
}

// TestUniform checks that every character of a charset turns up about
// equally often (a generous bound: a modulo bias on a 62-character set
// would still pass, but a broken pick that favours part of the set fails).
func TestUniform(t *testing.T) {
	p, err := Parse(`length = 100
rule "charset" { charset = "abcdefghij" }`)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[rune]int{}
	for i := 0; i < 200; i++ {
		pw, _ := p.Generate(nil)
		for _, c := range pw {
			counts[c]++
		}
	}
	for c, n := range counts { // expected 2000 each; sigma about 42
		if n < 1700 || n > 2300 {
			t.Fatalf("%q drawn %d times, expected about 2000", c, n)
		}
	}
	if len(counts) != 10 {
		t.Fatalf("only %d of 10 characters drawn", len(counts))
	}
}

func TestStorePaths(t *testing.T) {
	ctx := context.Background()
	s := NewStore(inmem.New())
	fw := (&logical.Framework{PathList: s.Paths()}).Compile()
	do := func(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
		return fw.HandleRequest(ctx, &logical.Request{Operation: op, Path: path, Data: data})
	}
	pol := `length = 16
rule "charset" { charset = "xyz" min-chars = 1 }`
	if _, err := do(logical.UpdateOperation, "policies/password/short", map[string]any{"policy": pol}); err != nil {
		t.Fatal(err)
	}
	if _, err := do(logical.UpdateOperation, "policies/password/b64", map[string]any{"policy": base64.StdEncoding.EncodeToString([]byte(pol))}); err != nil {
		t.Fatal(err)
	}
	resp, err := do(logical.ReadOperation, "policies/password/b64", nil)
	if err != nil || resp.Data["policy"] != pol {
		t.Fatalf("read = %v, %v", resp, err)
	}
	resp, err = do(logical.ReadOperation, "policies/password/short/generate", nil)
	if err != nil || len(resp.Data["password"].(string)) != 16 || strings.Trim(resp.Data["password"].(string), "xyz") != "" {
		t.Fatalf("generate = %v, %v", resp, err)
	}
	list, err := do(logical.ListOperation, "policies/password/", nil)
	if err != nil || len(list.Data["keys"].([]string)) != 2 {
		t.Fatalf("list = %v %v", list, err)
	}
	if pw, err := s.Generate(ctx, "short"); err != nil || len(pw) != 16 {
		t.Fatalf("Store.Generate = %q %v", pw, err)
	}
	if pw, err := s.Generate(ctx, ""); err != nil || len(pw) != 20 {
		t.Fatalf("default = %q %v", pw, err)
	}
	for _, tc := range []struct {
		op   logical.Operation
		path string
		data map[string]any
	}{
		{logical.UpdateOperation, "policies/password/bad", map[string]any{"policy": "length = 2"}},
		{logical.UpdateOperation, "policies/password/bad", map[string]any{}},
		{logical.UpdateOperation, "policies/password/bad.name", map[string]any{"policy": pol}},
		{logical.ReadOperation, "policies/password/none/generate", nil},
	} {
		if _, err := do(tc.op, tc.path, tc.data); !errors.Is(err, logical.ErrInvalidRequest) {
			t.Errorf("%s %s: %v, want invalid request", tc.op, tc.path, err)
		}
	}
	if _, err := s.Generate(ctx, "none"); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("unknown policy: %v", err)
	}
	if _, err := do(logical.DeleteOperation, "policies/password/short", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Generate(ctx, "short"); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("deleted policy still generates: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`length = 20
rule "charset" { charset = "abc" min-chars = 1 }`)
	f.Add(`length = 4 rule "charset" { charset = "€" min-chars = 4 }`)
	f.Add(`{"length": 8, "rule": {"charset": {"charset": "ab"}}}`)
	f.Add(`length = 1e9`)
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(text)
		if err != nil {
			return
		}
		pw, err := p.Generate(nil)
		if err != nil || !p.Satisfied(pw) {
			t.Fatalf("policy parsed but generated %q, %v", pw, err)
		}
	})
}

func BenchmarkGenerate(b *testing.B) {
	p := Default()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Generate(nil); err != nil {
			b.Fatal(err)
		}
	}
}
