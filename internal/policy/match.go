package policy

import (
	"sort"
	"strings"
)

// prefixTree is a compressed radix tree over byte strings answering "which
// stored key is the longest prefix of s" in O(len(s)). It is built once by
// NewACL and only read afterwards.
type prefixTree struct {
	root rnode
	size int
}

type rnode struct {
	label    string // edge label leading to this node
	val      *perms
	first    string // first byte of each child's label, for IndexByte
	children []*rnode
}

func (t *prefixTree) insert(key string, v *perms) {
	t.size++
	n := &t.root
	for {
		if key == "" {
			n.val = v
			return
		}
		i := strings.IndexByte(n.first, key[0])
		if i < 0 {
			n.addChild(&rnode{label: key, val: v})
			return
		}
		c := n.children[i]
		common := commonPrefix(c.label, key)
		if common == len(c.label) {
			n, key = c, key[common:]
			continue
		}
		// Split c's edge at common.
		mid := &rnode{label: c.label[:common]}
		c.label = c.label[common:]
		mid.addChild(c)
		n.children[i] = mid
		n, key = mid, key[common:]
	}
}

func (n *rnode) addChild(c *rnode) {
	n.children = append(n.children, c)
	n.first += c.label[:1]
}

func commonPrefix(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// longest returns the value of the longest stored key that prefixes s and
// that key's length.
func (t *prefixTree) longest(s string) (*perms, int) {
	n := &t.root
	best, bestLen := n.val, 0
	consumed := 0
	for consumed < len(s) {
		i := strings.IndexByte(n.first, s[consumed])
		if i < 0 {
			break
		}
		c := n.children[i]
		if !strings.HasPrefix(s[consumed:], c.label) {
			break
		}
		consumed += len(c.label)
		n = c
		if n.val != nil {
			best, bestLen = n.val, consumed
		}
	}
	return best, bestLen
}

// wcRule is a compiled pattern with "+" segment wildcards, possibly ending
// in "*".
type wcRule struct {
	pattern   string   // as written, with any trailing "*"
	lit       string   // literal text before the first "+" segment
	segs      []string // pattern (without "*") split on "/"
	prefix    bool     // ended in "*"
	firstWC   int      // byte offset of the first "+" segment
	wildcards int      // number of "+" segments
	length    int      // len(pattern) without the "*"
	p         *perms
}

func newWCRule(pattern string, p *perms) *wcRule {
	r := &wcRule{pattern: pattern, p: p}
	body := pattern
	if strings.HasSuffix(body, "*") {
		r.prefix = true
		body = body[:len(body)-1]
	}
	r.length = len(body)
	r.segs = strings.Split(body, "/")
	r.firstWC = -1
	off := 0
	for _, s := range r.segs {
		if s == "+" {
			r.wildcards++
			if r.firstWC < 0 {
				r.firstWC = off
			}
		}
		off += len(s) + 1
	}
	r.lit = body[:r.firstWC]
	return r
}

// hasSegmentWildcard reports whether a pattern has a whole "+" segment.
func hasSegmentWildcard(pattern string) bool {
	body := strings.TrimSuffix(pattern, "*")
	return body == "+" || strings.HasPrefix(body, "+/") || strings.HasSuffix(body, "/+") ||
		strings.Contains(body, "/+/")
}

// match reports whether path (with nseg segments) matches the rule.
func (r *wcRule) match(path string, nseg int) bool {
	if nseg < len(r.segs) || (!r.prefix && nseg != len(r.segs)) {
		return false
	}
	if !strings.HasPrefix(path, r.lit) {
		return false
	}
	rest := path
	last := len(r.segs) - 1
	for i, seg := range r.segs {
		var ps string
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			ps, rest = rest[:j], rest[j+1:]
		} else {
			ps, rest = rest, ""
		}
		switch {
		case seg == "+", seg == ps:
		case r.prefix && i == last && strings.HasPrefix(ps, seg):
		default:
			return false
		}
	}
	return true
}

// candidate describes a matching non-exact rule for priority comparison.
type candidate struct {
	firstWC   int
	prefix    bool
	wildcards int
	length    int
	pattern   string
}

func (r *wcRule) cand() candidate {
	return candidate{r.firstWC, r.prefix, r.wildcards, r.length, r.pattern}
}

// beats reports whether a has higher priority than b, in Vault's order: the
// later first wildcard wins, then not ending in "*", then fewer "+"
// segments, then the longer pattern, then the lexicographically greater.
func (a candidate) beats(b candidate) bool {
	if a.firstWC != b.firstWC {
		return a.firstWC > b.firstWC
	}
	if a.prefix != b.prefix {
		return !a.prefix
	}
	if a.wildcards != b.wildcards {
		return a.wildcards < b.wildcards
	}
	if a.length != b.length {
		return a.length > b.length
	}
	return a.pattern > b.pattern
}

// sortWC orders rules best first, so the first one that matches is the best
// "+" match.
func sortWC(rules []*wcRule) {
	sort.Slice(rules, func(i, j int) bool { return rules[i].cand().beats(rules[j].cand()) })
}
