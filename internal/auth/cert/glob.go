package cert

import "strings"

// globMatch reports whether s matches pattern, where each '*' stands for
// any run of characters (dots included, possibly empty) and everything
// else matches itself, case-sensitively: the globbing Vault's cert method
// applies to names, SANs, OUs and extension values. An empty pattern
// matches only the empty string.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return s == pattern
	}
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	// Match the middle parts leftmost-first: taking the earliest
	// occurrence leaves the most room for the parts after it.
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// anyGlob reports whether one of the patterns matches one of the values.
func anyGlob(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if globMatch(p, v) {
				return true
			}
		}
	}
	return false
}
