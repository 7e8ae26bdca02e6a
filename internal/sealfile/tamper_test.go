package sealfile

import (
	"regexp"
	"strings"
	"testing"
)

// tamperFixtures hold three entries k1, k2, k3 (one per line once sealed).
var tamperFixtures = []struct {
	name   string
	format Format
	plain  string
}{
	{"yaml", YAML, "k1: one\nk2: two\nk3:\n  k4: four\nlist:\n  - x\n  - y\n"},
	{"json", JSON, `{"k1": "one", "k2": "two", "k3": {"k4": 4}, "list": ["x", "y"]}`},
	{"dotenv", Dotenv, "k1=one\nk2=two\nk3=three\n"},
	{"ini", INI, "[s]\nk1 = one\nk2 = two\n[t]\nk3 = three\n"},
}

var tokenRE = regexp.MustCompile(`KINKO\[[^\]]*\]`)

// valueLines returns the indexes of the lines holding a sealed value
// (not the MAC).
func valueLines(lines []string) []int {
	var out []int
	for i, l := range lines {
		if tokenRE.MatchString(l) && !strings.Contains(l, "mac") {
			out = append(out, i)
		}
	}
	return out
}

// tamperEdits change a sealed file as an attacker without the key could.
var tamperEdits = []struct {
	name string
	edit func(lines []string, v []int) []string
}{
	{"value ciphertext changed", func(l []string, v []int) []string {
		l[v[0]] = strings.Replace(l[v[0]], "data:", "data:AAAA", 1)
		return l
	}},
	{"value tag changed", func(l []string, v []int) []string {
		l[v[0]] = strings.Replace(l[v[0]], "tag:", "tag:A", 1)
		l[v[0]] = strings.Replace(l[v[0]], "==,type", "=,type", 1)
		return l
	}},
	{"value type changed", func(l []string, v []int) []string {
		l[v[0]] = strings.Replace(l[v[0]], "type:str", "type:bool", 1)
		return l
	}},
	{"values swapped between keys", func(l []string, v []int) []string {
		a, b := tokenRE.FindString(l[v[0]]), tokenRE.FindString(l[v[1]])
		l[v[0]] = strings.Replace(l[v[0]], a, b, 1)
		l[v[1]] = strings.Replace(l[v[1]], b, a, 1)
		return l
	}},
	{"entries reordered", func(l []string, v []int) []string {
		l[v[0]], l[v[1]] = l[v[1]], l[v[0]]
		return l
	}},
	{"key renamed", func(l []string, v []int) []string {
		l[v[1]] = strings.Replace(l[v[1]], "k2", "k9", 1)
		return l
	}},
	{"entry deleted", func(l []string, v []int) []string {
		return append(l[:v[1]:v[1]], l[v[1]+1:]...)
	}},
	{"entry duplicated under a new key", func(l []string, v []int) []string {
		extra := strings.Replace(l[v[1]], "k2", "k8", 1)
		return append(l[:v[1]+1:v[1]+1], append([]string{extra}, l[v[1]+1:]...)...)
	}},
	{"lastmodified changed", func(l []string, _ []int) []string {
		for i := range l {
			l[i] = strings.Replace(l[i], "2025-01-02T03:04:05Z", "2025-01-02T03:04:06Z", 1)
		}
		return l
	}},
	{"MAC replaced", func(l []string, v []int) []string {
		for i := range l {
			if strings.Contains(l[i], "mac") {
				l[i] = tokenRE.ReplaceAllString(l[i], tokenRE.FindString(l[v[0]]))
			}
		}
		return l
	}},
}

func TestTamperingFailsMAC(t *testing.T) {
	for _, fx := range tamperFixtures {
		sealed := seal(t, fx.format, fx.plain, SealOptions{})
		if _, err := unseal(fx.format, sealed); err != nil {
			t.Fatalf("%s: untouched file: %v", fx.name, err)
		}
		for _, ed := range tamperEdits {
			t.Run(fx.name+"/"+ed.name, func(t *testing.T) {
				lines := strings.Split(sealed, "\n")
				v := valueLines(lines)
				if len(v) < 3 {
					t.Fatalf("fixture has %d sealed lines:\n%s", len(v), sealed)
				}
				tampered := strings.Join(ed.edit(lines, v), "\n")
				if tampered == sealed {
					t.Fatal("the edit changed nothing")
				}
				_, err := unseal(fx.format, tampered)
				wantErr(t, err, ErrMAC, "MAC check failed")
			})
		}
	}
}

func TestTamperingStructure(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		plain  string
		edit   func(string) string
	}{
		{"yaml nested value moved up", YAML, "a:\n  b: one\nc: two\n", func(s string) string {
			return strings.Replace(s, "a:\n  b:", "a: {}\nb:", 1)
		}},
		{"yaml list items swapped", YAML, "l:\n  - one\n  - two\n", func(s string) string {
			ls := strings.Split(s, "\n")
			ls[1], ls[2] = ls[2], ls[1]
			return strings.Join(ls, "\n")
		}},
		{"yaml readable null changed", YAML, "a: one\nb: null\n", func(s string) string {
			return strings.Replace(s, "b: null", "b: []", 1)
		}},
		{"ini section renamed", INI, "[prod]\nk = v\n", func(s string) string {
			return strings.Replace(s, "[prod]", "[dev]", 1)
		}},
		{"ini section added", INI, "[prod]\nk = v\n", func(s string) string {
			return strings.Replace(s, "[prod]", "[extra]\n[prod]", 1)
		}},
		{"dotenv plain value added", Dotenv, "A=1\n", func(s string) string { return "B=2\n" + s }},
		{"k8s readable metadata changed", YAML, k8sPlain, func(s string) string {
			return strings.Replace(s, "namespace: prod", "namespace: dev", 1)
		}},
		{"k8s data key renamed", YAML, k8sPlain, func(s string) string {
			return strings.Replace(s, "  password:", "  passwd:", 1)
		}},
		{"mode removed", YAML, k8sPlain, func(s string) string {
			return strings.Replace(s, "  mode: k8s\n", "", 1)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sealed := seal(t, tc.format, tc.plain, SealOptions{})
			tampered := tc.edit(sealed)
			if tampered == sealed {
				t.Fatalf("the edit changed nothing:\n%s", sealed)
			}
			_, err := unseal(tc.format, tampered)
			wantErr(t, err, ErrMAC, "")
		})
	}
}

// A token from another file (another data key) does not decrypt.
func TestTokenFromAnotherFile(t *testing.T) {
	a := seal(t, YAML, "k: one\n", SealOptions{})
	b := seal(t, YAML, "k: one\n", SealOptions{})
	ta := tokenRE.FindString(a)
	tb := tokenRE.FindString(b)
	_, err := unseal(YAML, strings.Replace(a, ta, tb, 1))
	wantErr(t, err, ErrMAC, "the value at k (line 1) was changed or moved")
}
