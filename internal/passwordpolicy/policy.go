// Package passwordpolicy parses Vault's password policies and generates
// passwords from them (sys/policies/password/:name).
//
// A policy is HCL:
//
//	length = 20
//	rule "charset" {
//	  charset   = "abcdefghijklmnopqrstuvwxyz"
//	  min-chars = 1
//	}
//
// The password has exactly length characters, all drawn from the union
// of the rules' charsets, and at least min-chars of each rule's charset.
// Generation is constructive (each rule's minimum first, then the rest
// from the union, then a shuffle), so it always terminates; every choice
// is uniform, drawn from crypto/rand by rejection sampling. The Store
// keeps named policies in a storage view and serves the sys paths.
package passwordpolicy

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	hcltoken "github.com/hashicorp/hcl/hcl/token"
)

// Bounds on a policy, as Vault's.
const (
	MinLength = 4
	MaxLength = 100
	// MaxSize bounds the policy text.
	MaxSize = 64 << 10
)

// Rule requires at least MinChars characters from Charset.
type Rule struct {
	Charset  []rune
	MinChars int
}

// Policy is a parsed password policy.
type Policy struct {
	Length int
	Rules  []Rule
	// union is every rune any rule allows, sorted and deduplicated.
	union []rune
}

// Default is the policy used when none is named: 20 characters from
// [A-Za-z0-9-], at least one lowercase letter, one uppercase letter and
// one digit.
func Default() *Policy {
	p, err := Parse(`length = 20
rule "charset" { charset = "abcdefghijklmnopqrstuvwxyz" min-chars = 1 }
rule "charset" { charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" min-chars = 1 }
rule "charset" { charset = "0123456789" min-chars = 1 }
rule "charset" { charset = "-" min-chars = 0 }`)
	if err != nil {
		panic(err) // a constant that parses
	}
	return p
}

// Parse parses and validates a policy; its errors say what to fix.
func Parse(text string) (p *Policy, err error) {
	if len(text) > MaxSize {
		return nil, fmt.Errorf("policy is %d bytes long; the limit is %d", len(text), MaxSize)
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("policy is not valid UTF-8")
	}
	defer func() { // the HCL library panics on some malformed input
		if r := recover(); r != nil {
			p, err = nil, errors.New("policy could not be parsed (malformed literal or escape)")
		}
	}()
	file, err := hcl.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("invalid HCL: %v", err)
	}
	root, ok := file.Node.(*ast.ObjectList)
	if !ok {
		return nil, errors.New("policy has no top-level object")
	}
	p = &Policy{}
	seenLength := false
	for _, item := range root.Items {
		key := itemKey(item, 0)
		switch key {
		case "length":
			if seenLength {
				return nil, errors.New("length is set twice")
			}
			seenLength = true
			if p.Length, err = intValue(item.Val, "length"); err != nil {
				return nil, err
			}
		case "rule":
			r, err := parseRule(item)
			if err != nil {
				return nil, err
			}
			p.Rules = append(p.Rules, r)
		default:
			return nil, fmt.Errorf("unknown key %q (a policy has length and rule blocks)", key)
		}
	}
	if !seenLength {
		return nil, errors.New("length is required")
	}
	return p, p.validate()
}

func itemKey(item *ast.ObjectItem, i int) string {
	if i >= len(item.Keys) {
		return ""
	}
	return strings.Trim(item.Keys[i].Token.Text, `"`)
}

func parseRule(item *ast.ObjectItem) (Rule, error) {
	if len(item.Keys) != 2 {
		return Rule{}, errors.New(`a rule needs a type: rule "charset" { ... }`)
	}
	if t := itemKey(item, 1); t != "charset" {
		return Rule{}, fmt.Errorf("unknown rule type %q (kinko knows \"charset\")", t)
	}
	obj, ok := item.Val.(*ast.ObjectType)
	if !ok {
		return Rule{}, errors.New(`rule "charset" must be a block`)
	}
	var r Rule
	seen := map[string]bool{}
	for _, f := range obj.List.Items {
		k := itemKey(f, 0)
		if seen[k] {
			return Rule{}, fmt.Errorf("charset rule sets %s twice", k)
		}
		seen[k] = true
		switch k {
		case "charset":
			s, err := stringValue(f.Val, "charset")
			if err != nil {
				return Rule{}, err
			}
			r.Charset = dedupe(s)
		case "min-chars", "min_chars":
			n, err := intValue(f.Val, k)
			if err != nil {
				return Rule{}, err
			}
			r.MinChars = n
		default:
			return Rule{}, fmt.Errorf("unknown key %q in a charset rule (it has charset and min-chars)", k)
		}
	}
	return r, nil
}

func literal(v ast.Node, name string) (hcltoken.Token, error) {
	lit, ok := v.(*ast.LiteralType)
	if !ok {
		return hcltoken.Token{}, fmt.Errorf("%s must be a single value", name)
	}
	return lit.Token, nil
}

func intValue(v ast.Node, name string) (int, error) {
	tok, err := literal(v, name)
	if err != nil {
		return 0, err
	}
	if tok.Type != hcltoken.NUMBER {
		return 0, fmt.Errorf("%s must be a whole number", name)
	}
	n, ok := new(big.Int).SetString(tok.Text, 10)
	if !ok || !n.IsInt64() || n.Int64() > 1<<20 || n.Int64() < -1<<20 {
		return 0, fmt.Errorf("%s must be a whole number in range", name)
	}
	return int(n.Int64()), nil
}

func stringValue(v ast.Node, name string) (string, error) {
	tok, err := literal(v, name)
	if err != nil {
		return "", err
	}
	if tok.Type != hcltoken.STRING {
		return "", fmt.Errorf("%s must be a string", name)
	}
	s, ok := tok.Value().(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string", name)
	}
	return s, nil
}

func dedupe(s string) []rune {
	seen := map[rune]bool{}
	var out []rune
	for _, r := range s {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func (p *Policy) validate() error {
	if p.Length < MinLength || p.Length > MaxLength {
		return fmt.Errorf("length must be between %d and %d, not %d", MinLength, MaxLength, p.Length)
	}
	if len(p.Rules) == 0 {
		return errors.New(`at least one rule "charset" is required`)
	}
	sum := 0
	all := map[rune]bool{}
	for i, r := range p.Rules {
		if len(r.Charset) == 0 {
			return fmt.Errorf("rule %d: charset must not be empty", i+1)
		}
		for _, c := range r.Charset {
			if !unicode.IsPrint(c) {
				return fmt.Errorf("rule %d: charset holds a character that cannot be printed (%U)", i+1, c)
			}
			all[c] = true
		}
		if r.MinChars < 0 {
			return fmt.Errorf("rule %d: min-chars must not be negative", i+1)
		}
		sum += r.MinChars
	}
	if sum > p.Length {
		return fmt.Errorf("the rules ask for %d characters at least, more than length %d", sum, p.Length)
	}
	p.union = make([]rune, 0, len(all))
	for c := range all {
		p.union = append(p.union, c)
	}
	sort.Slice(p.union, func(i, j int) bool { return p.union[i] < p.union[j] })
	return nil
}

// Generate makes a password from r (crypto/rand.Reader when nil).
func (p *Policy) Generate(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	out := make([]rune, 0, p.Length)
	for _, rule := range p.Rules {
		for i := 0; i < rule.MinChars; i++ {
			c, err := pick(r, rule.Charset)
			if err != nil {
				return "", err
			}
			out = append(out, c)
		}
	}
	for len(out) < p.Length {
		c, err := pick(r, p.union)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	for i := len(out) - 1; i > 0; i-- { // Fisher–Yates
		j, err := rand.Int(r, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func pick(r io.Reader, set []rune) (rune, error) {
	n, err := rand.Int(r, big.NewInt(int64(len(set)))) // rejection-sampled: uniform
	if err != nil {
		return 0, fmt.Errorf("generate password: %w", err)
	}
	return set[n.Int64()], nil
}

// Satisfied reports whether pw meets the policy (length, allowed
// characters, every rule's minimum).
func (p *Policy) Satisfied(pw string) bool {
	runes := []rune(pw)
	if len(runes) != p.Length {
		return false
	}
	for _, c := range runes {
		i := sort.Search(len(p.union), func(i int) bool { return p.union[i] >= c })
		if i == len(p.union) || p.union[i] != c {
			return false
		}
	}
	for _, rule := range p.Rules {
		n := 0
		for _, c := range runes {
			if containsRune(rule.Charset, c) {
				n++
			}
		}
		if n < rule.MinChars {
			return false
		}
	}
	return true
}

func containsRune(set []rune, c rune) bool {
	for _, x := range set {
		if x == c {
			return true
		}
	}
	return false
}
