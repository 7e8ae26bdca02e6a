package store

import (
	"strings"
	"testing"
)

func TestGetRandomPassword(t *testing.T) {
	f := false
	cases := []struct {
		name  string
		in    GetRandomPasswordInput
		n     int
		chars string // every allowed character
		code  string
	}{
		{"default", GetRandomPasswordInput{}, 32, lowerChars + upperChars + digitChars + Punctuation, ""},
		{"length 1 without requirement", GetRandomPasswordInput{PasswordLength: i64(1), RequireEachIncludedType: &f}, 1, lowerChars + upperChars + digitChars + Punctuation, ""},
		{"length 4096", GetRandomPasswordInput{PasswordLength: i64(4096)}, 4096, lowerChars + upperChars + digitChars + Punctuation, ""},
		{"digits only", GetRandomPasswordInput{ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true}, 32, digitChars, ""},
		{"space", GetRandomPasswordInput{ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true, IncludeSpace: true, PasswordLength: i64(200)}, 200, digitChars + " ", ""},
		{"exclude characters", GetRandomPasswordInput{ExcludeCharacters: "abcdefghijklmnopqrstuvwxy0123456789" + Punctuation, ExcludeUppercase: true, PasswordLength: i64(8)}, 8, "z", ""},
		{"short for the types", GetRandomPasswordInput{PasswordLength: i64(3)}, 0, "", CodeInvalidParameter},
		{"four types in four", GetRandomPasswordInput{PasswordLength: i64(4)}, 4, lowerChars + upperChars + digitChars + Punctuation, ""},
		{"zero", GetRandomPasswordInput{PasswordLength: i64(0)}, 0, "", CodeInvalidParameter},
		{"too long", GetRandomPasswordInput{PasswordLength: i64(4097)}, 0, "", CodeInvalidParameter},
		{"nothing left", GetRandomPasswordInput{ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true}, 0, "", CodeInvalidParameter},
		{"long exclusion", GetRandomPasswordInput{ExcludeCharacters: strings.Repeat("a", 4097)}, 0, "", CodeInvalidParameter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for range 50 {
				out, err := GetRandomPassword(c.in)
				wantCode(t, err, c.code)
				if err != nil {
					return
				}
				p := out.RandomPassword
				if len(p) != c.n || strings.Trim(p, c.chars) != "" {
					t.Fatalf("password %q", p)
				}
				req := c.in.RequireEachIncludedType == nil || *c.in.RequireEachIncludedType
				if req && !hasEach(p, passwordClasses(c.in)) {
					t.Fatalf("password %q lacks a type", p)
				}
			}
		})
	}
}

// TestGetRandomPasswordUniform checks with a chi-square test that the 94
// default characters are drawn uniformly.
func TestGetRandomPasswordUniform(t *testing.T) {
	counts := map[rune]int{}
	total := 0
	for range 40 {
		out, err := GetRandomPassword(GetRandomPasswordInput{PasswordLength: i64(4096)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.RandomPassword {
			counts[r]++
			total++
		}
	}
	if len(counts) != 94 {
		t.Fatalf("%d distinct characters, want 94", len(counts))
	}
	exp := float64(total) / 94
	chi := 0.0
	for _, c := range counts {
		d := float64(c) - exp
		chi += d * d / exp
	}
	// 93 degrees of freedom: p = 1e-6 at about 170
	if chi > 170 {
		t.Fatalf("chi-square %.1f: not uniform", chi)
	}
}

func TestPunctuation(t *testing.T) {
	if len(Punctuation) != 32 || strings.ContainsAny(Punctuation, lowerChars+upperChars+digitChars+" ") {
		t.Fatalf("punctuation %q", Punctuation)
	}
	for c := byte(33); c < 127; c++ {
		isPunct := !strings.ContainsRune(lowerChars+upperChars+digitChars, rune(c))
		if isPunct != strings.ContainsRune(Punctuation, rune(c)) {
			t.Fatalf("%q misclassified", c)
		}
	}
}
