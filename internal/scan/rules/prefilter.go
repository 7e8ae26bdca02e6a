package rules

import "slices"

// automaton is an Aho-Corasick automaton compiled to a dense DFA over
// bytes, with ASCII case folding baked into the transitions: one table
// lookup per input byte finds every occurrence of every keyword, in any
// case. States are renumbered so that the states where some keyword ends
// are exactly those >= firstOut, which keeps the hot loop to one load and
// one compare per byte.
type automaton struct {
	delta    []int32   // delta[state<<8|byte] = next state
	firstOut int32     // states >= firstOut end at least one keyword
	out      []ruleSet // out[state-firstOut]: rules whose keyword ends here
}

// buildAutomaton compiles keywords (any case) into an automaton; owners[i]
// is the set of rules that keyword i belongs to. words holds at least one
// non-empty keyword.
func buildAutomaton(words []string, owners []ruleSet, nrules int) *automaton {
	// A trie of the lower-cased keywords.
	bound := 1
	for _, w := range words {
		bound += len(w)
	}
	trans := make([][256]int32, 0, bound)
	outs := make([]ruleSet, 0, bound)
	newState := func() int32 {
		var row [256]int32
		for i := range row {
			row[i] = -1
		}
		trans = append(trans, row)
		outs = append(outs, newRuleSet(nrules))
		return int32(len(trans) - 1)
	}
	newState()
	for i, w := range words {
		s := int32(0)
		for j := 0; j < len(w); j++ {
			c := lower(w[j])
			if trans[s][c] < 0 {
				next := newState()
				trans[s][c] = next
			}
			s = trans[s][c]
		}
		outs[s].or(owners[i])
	}
	addFailureLinks(trans, outs)
	// Case folding: an upper-case letter moves like its lower case.
	for s := range trans {
		for c := 'A'; c <= 'Z'; c++ {
			trans[s][c] = trans[s][c+'a'-'A']
		}
	}
	return renumber(trans, outs)
}

// addFailureLinks completes the trie into a DFA: a missing transition
// follows the failure link (the longest proper suffix that is also a
// trie path), and each state outputs what its failure state outputs.
// States are visited breadth first, so a failure state is complete
// before the states that fall back to it.
func addFailureLinks(trans [][256]int32, outs []ruleSet) {
	fail := make([]int32, len(trans))
	queue := make([]int32, 0, len(trans))
	for c := 0; c < 256; c++ {
		if t := trans[0][c]; t >= 0 {
			fail[t] = 0
			queue = append(queue, t)
		} else {
			trans[0][c] = 0
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s].or(outs[fail[s]])
		for c := 0; c < 256; c++ {
			t := trans[s][c]
			if t < 0 {
				trans[s][c] = trans[fail[s]][c]
				continue
			}
			fail[t] = trans[fail[s]][c]
			queue = append(queue, t)
		}
	}
}

// renumber orders the states so that those with outputs come last, and
// flattens the transitions into one slice.
func renumber(trans [][256]int32, outs []ruleSet) *automaton {
	n := len(trans)
	order := make([]int32, 0, n)
	for s := 0; s < n; s++ {
		if outs[s].empty() {
			order = append(order, int32(s))
		}
	}
	firstOut := int32(len(order))
	for s := 0; s < n; s++ {
		if !outs[s].empty() {
			order = append(order, int32(s))
		}
	}
	// The start state must stay 0; it never has outputs (no empty keyword).
	newID := make([]int32, n)
	for id, s := range order {
		newID[s] = int32(id)
	}
	a := &automaton{delta: make([]int32, n*256), firstOut: firstOut}
	for id, s := range order {
		for c := 0; c < 256; c++ {
			a.delta[id<<8|c] = newID[trans[s][c]]
		}
		if int32(id) >= firstOut {
			a.out = append(a.out, outs[s])
		}
	}
	return a
}

// lower folds an ASCII upper-case letter to lower case.
func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// ruleSet is a bit set of rule indexes.
type ruleSet []uint64

func newRuleSet(n int) ruleSet { return make(ruleSet, (n+63)/64) }

func (s ruleSet) add(i int)      { s[i/64] |= 1 << (uint(i) % 64) }
func (s ruleSet) has(i int) bool { return s[i/64]&(1<<(uint(i)%64)) != 0 }

func (s ruleSet) or(o ruleSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

func (s ruleSet) clear() { clear(s) }

func (s ruleSet) empty() bool {
	return !slices.ContainsFunc(s, func(w uint64) bool { return w != 0 })
}
