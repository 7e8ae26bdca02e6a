package store

import (
	"strings"
	"unicode"
)

// matchFilters reports whether sec matches every filter (filters are
// ANDed). Within one filter, a secret matches when some plain value
// matches (or there is none) and no negated ("!") value does.
func matchFilters(sec *Secret, region string, fs []Filter) bool {
	for _, f := range fs {
		if !matchFilter(sec, region, f) {
			return false
		}
	}
	return true
}

func matchFilter(sec *Secret, region string, f Filter) bool {
	anyPlain, plainHit := false, false
	for _, v := range f.Values {
		neg := strings.HasPrefix(v, "!")
		if neg {
			v = v[1:]
		}
		hit := matchValue(sec, region, f.Key, v)
		if neg && hit {
			return false
		}
		if !neg {
			anyPlain = true
			plainHit = plainHit || hit
		}
	}
	return !anyPlain || plainHit
}

// matchValue reports whether attribute key of sec matches one value:
// prefix match, case-sensitive except for description and all.
func matchValue(sec *Secret, region, key, v string) bool {
	switch key {
	case FilterName:
		return strings.HasPrefix(sec.Name, v)
	case FilterDescription:
		return sec.Description != "" && strings.HasPrefix(strings.ToLower(sec.Description), strings.ToLower(v))
	case FilterTagKey:
		for _, t := range sec.Tags {
			if strings.HasPrefix(t.Key, v) {
				return true
			}
		}
	case FilterTagValue:
		for _, t := range sec.Tags {
			if strings.HasPrefix(t.Value, v) {
				return true
			}
		}
	case FilterPrimaryRegion:
		return strings.HasPrefix(region, v)
	case FilterAll:
		return matchAll(sec, v)
	}
	return false // owning-service: kinko secrets are owned by no service
}

// matchAll splits v into words and reports whether some word is a prefix
// (case-insensitive) of some word of the name, description, tag keys or
// tag values.
func matchAll(sec *Secret, v string) bool {
	want := words(v)
	if len(want) == 0 {
		return false
	}
	attrs := make([]string, 0, 2+2*len(sec.Tags))
	attrs = append(attrs, sec.Name, sec.Description)
	for _, t := range sec.Tags {
		attrs = append(attrs, t.Key, t.Value)
	}
	for _, a := range attrs {
		for _, have := range words(a) {
			for _, w := range want {
				if strings.HasPrefix(have, w) {
					return true
				}
			}
		}
	}
	return false
}

// words splits s into lower-cased words of letters or digits. A word ends
// at any other character, between a letter and a digit, and where a
// lower-case letter is followed by an upper-case one ("credsDatabase#892"
// gives creds, database, 892).
func words(s string) []string {
	var out []string
	var cur []rune
	var prev rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range s {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case len(cur) > 0 && (unicode.IsDigit(r) != unicode.IsDigit(prev) ||
			unicode.IsUpper(r) && unicode.IsLower(prev)):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return out
}
