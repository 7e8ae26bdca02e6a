package policy

import (
	"encoding/json"
	"math"
	"strings"
)

// paramsOK applies required, denied and allowed parameter constraints to
// request data. Parameter names match case-insensitively. Every constraint
// must hold, so one pass over data checks both the denied and the allowed
// lists; the outcome is the same as Vault's two passes.
func paramsOK(p *perms, data map[string]any) bool {
	for _, r := range p.required {
		if _, ok := data[r]; !ok {
			return false
		}
	}
	if len(data) == 0 {
		return true
	}
	if _, all := p.denied["*"]; all {
		return false
	}
	_, allowAll := p.allowed["*"]
	checkAllowed := len(p.allowed) > 0 && !(allowAll && len(p.allowed) == 1)
	for k, v := range data {
		lk := strings.ToLower(k)
		if list, ok := p.denied[lk]; ok && valueDenied(v, list) {
			return false
		}
		if !checkAllowed {
			continue
		}
		list, ok := p.allowed[lk]
		if !ok && !allowAll {
			return false
		}
		if ok && !valueAllowed(v, list) {
			return false
		}
	}
	return true
}

// valueAllowed: an empty list allows anything; otherwise the whole value must
// match, or every element of a list value (or of a comma-separated string)
// must. Unlike Vault, an empty list or empty string is not vacuously allowed.
func valueAllowed(v any, list []any) bool {
	if len(list) == 0 || inList(v, list) {
		return true
	}
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return false
		}
		for _, e := range x {
			if !inList(e, list) {
				return false
			}
		}
		return true
	case string:
		if !strings.Contains(x, ",") {
			return inList(strings.TrimSpace(x), list)
		}
		for part := range strings.SplitSeq(x, ",") {
			if !inList(strings.TrimSpace(part), list) {
				return false
			}
		}
		return true
	}
	return false
}

// valueDenied: an empty list denies any value; otherwise the whole value, or
// any element of a list value (or of a comma-separated string), matching a
// listed value denies.
func valueDenied(v any, list []any) bool {
	if len(list) == 0 || inList(v, list) {
		return true
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if inList(e, list) {
				return true
			}
		}
	case string:
		for part := range strings.SplitSeq(x, ",") {
			if inList(strings.TrimSpace(part), list) {
				return true
			}
		}
	}
	return false
}

// inList reports whether v equals one of the policy values. Strings match
// with Vault's globs ("abc*", "*abc", "*abc*"); numbers compare by value
// whatever their Go type; nil matches nil.
func inList(v any, list []any) bool {
	for _, el := range list {
		if valueEqual(el, v) {
			return true
		}
	}
	return false
}

func valueEqual(el, v any) bool {
	if el == nil || v == nil {
		return el == nil && v == nil
	}
	switch e := el.(type) {
	case string:
		s, ok := v.(string)
		return ok && globMatch(e, s)
	case bool:
		b, ok := v.(bool)
		return ok && b == e
	}
	ef, ok1 := toFloat(el)
	vf, ok2 := toFloat(v)
	return ok1 && ok2 && ef == vf
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x)
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// globMatch is Vault's value glob: a leading and/or trailing "*" makes a
// suffix, prefix or substring match; anything else is compared exactly.
func globMatch(pattern, s string) bool {
	if len(pattern) < 2 {
		return pattern == s
	}
	pre := pattern[0] == '*'
	suf := pattern[len(pattern)-1] == '*'
	switch {
	case pre && suf:
		return strings.Contains(s, pattern[1:len(pattern)-1])
	case pre:
		return strings.HasSuffix(s, pattern[1:])
	case suf:
		return strings.HasPrefix(s, pattern[:len(pattern)-1])
	}
	return pattern == s
}
