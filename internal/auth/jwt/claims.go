package jwt

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// getClaim returns the claim named key: a top-level claim, or, when key
// starts with "/" (or pointer is set), the value at that RFC 6901 JSON
// pointer. nil when absent.
func getClaim(all map[string]any, key string, pointer bool) any {
	if !pointer && !strings.HasPrefix(key, "/") {
		return all[key]
	}
	if key == "" {
		return all
	}
	if !strings.HasPrefix(key, "/") {
		key = "/" + key // Vault accepts a pointer without its leading slash
	}
	var cur any = all
	for _, tok := range strings.Split(key[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) || (len(tok) > 1 && tok[0] == '0') {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// scalarString renders a string, boolean or number claim value as a
// string; numbers canonically, so 1, 1.0 and "1"-as-JSON-number agree.
func scalarString(v any, stringsOnly bool) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), !stringsOnly
	case json.Number:
		f, err := strconv.ParseFloat(x.String(), 64)
		if err != nil {
			return x.String(), !stringsOnly
		}
		return strconv.FormatFloat(f, 'f', -1, 64), !stringsOnly
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), !stringsOnly
	case int:
		return strconv.Itoa(x), !stringsOnly
	}
	return "", false
}

// claimValues flattens a scalar or a list of scalars into strings.
func claimValues(v any, stringsOnly bool) ([]string, bool) {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := scalarString(e, stringsOnly)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	case []string:
		return x, true
	}
	s, ok := scalarString(v, stringsOnly)
	if !ok {
		return nil, false
	}
	return []string{s}, true
}

// checkBoundClaims enforces a role's bound_claims on the token's claims:
// every bound claim must be present and one of its values must equal (or,
// with glob, match) one of the claim's values.
func checkBoundClaims(bound map[string]any, glob bool, all map[string]any) error {
	for key, want := range bound {
		got := getClaim(all, key, false)
		if got == nil {
			return fmt.Errorf("claim %q is missing", key)
		}
		gotVals, ok := claimValues(got, false)
		if !ok {
			return fmt.Errorf("claim %q is not a string, number, boolean or a list of them", key)
		}
		wantVals, ok := claimValues(want, glob)
		if !ok {
			return fmt.Errorf("bound claim %q is not valid", key)
		}
		if !anyMatch(wantVals, gotVals, glob) {
			return fmt.Errorf("claim %q does not match any associated bound claim values", key)
		}
	}
	return nil
}

func anyMatch(want, got []string, glob bool) bool {
	for _, w := range want {
		for _, g := range got {
			if (glob && globMatch(w, g)) || (!glob && w == g) {
				return true
			}
		}
	}
	return false
}

// globMatch reports whether s matches pattern, where "*" matches any run
// of characters (including none) and every other character itself. It
// runs in O(len(pattern)·len(s)) at worst (greedy with one backtrack
// point).
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
