package policy

import (
	"sort"
	"strings"
)

// prefixTree is a compressed radix tree over byte strings answering "which
// stored keys are prefixes of s" in O(len(s)). It is built once by NewACL
// and only read afterwards.
type prefixTree[V any] struct {
	root rnode[V]
}

type rnode[V any] struct {
	label    string // edge label leading to this node
	has      bool   // a key ends here
	val      V
	first    string // first byte of each child's label, for IndexByte
	children []*rnode[V]
}

// insert stores v at key and returns a pointer to the stored value so the
// caller can update it in place.
func (t *prefixTree[V]) insert(key string, v V) *V {
	n := &t.root
	for {
		if key == "" {
			n.has, n.val = true, v
			return &n.val
		}
		i := strings.IndexByte(n.first, key[0])
		if i < 0 {
			c := &rnode[V]{label: key, has: true, val: v}
			n.addChild(c)
			return &c.val
		}
		c := n.children[i]
		common := commonPrefix(c.label, key)
		if common == len(c.label) {
			n, key = c, key[common:]
			continue
		}
		// Split c's edge at common.
		mid := &rnode[V]{label: c.label[:common]}
		c.label = c.label[common:]
		mid.addChild(c)
		n.children[i] = mid
		n, key = mid, key[common:]
	}
}

// get returns a pointer to the value stored at key, or nil.
func (t *prefixTree[V]) get(key string) *V {
	n := &t.root
	for key != "" {
		i := strings.IndexByte(n.first, key[0])
		if i < 0 || !strings.HasPrefix(key, n.children[i].label) {
			return nil
		}
		n, key = n.children[i], key[len(n.children[i].label):]
	}
	if !n.has {
		return nil
	}
	return &n.val
}

func (n *rnode[V]) addChild(c *rnode[V]) {
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

// longest returns the value of the longest stored key that prefixes s, that
// key's length, and whether there is one.
func (t *prefixTree[V]) longest(s string) (best V, bestLen int, found bool) {
	n := &t.root
	if n.has {
		best, found = n.val, true
	}
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
		if n.has {
			best, bestLen, found = n.val, consumed, true
		}
	}
	return best, bestLen, found
}

// walk calls fn for every stored key that prefixes s, shortest first, with
// the key's length.
func (t *prefixTree[V]) walk(s string, fn func(n int, v V)) {
	n := &t.root
	if n.has {
		fn(0, n.val)
	}
	consumed := 0
	for consumed < len(s) {
		i := strings.IndexByte(n.first, s[consumed])
		if i < 0 {
			return
		}
		c := n.children[i]
		if !strings.HasPrefix(s[consumed:], c.label) {
			return
		}
		consumed += len(c.label)
		n = c
		if n.has {
			fn(consumed, n.val)
		}
	}
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
// "+" match among them.
func sortWC(rules []*wcRule) {
	sort.Slice(rules, func(i, j int) bool { return rules[i].cand().beats(rules[j].cand()) })
}
