package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	hclscanner "github.com/hashicorp/hcl/hcl/scanner"
	hcltoken "github.com/hashicorp/hcl/hcl/token"
	jsonscanner "github.com/hashicorp/hcl/json/scanner"
	jsontoken "github.com/hashicorp/hcl/json/token"

	"github.com/kinko-dev/kinko/internal/logical"
)

// pathKeys are the keys a path block may set. Keys Vault knows but kinko does
// not implement are refused with their own message (unsupportedPathKeys)
// rather than ignored, since ignoring them would silently weaken a policy.
var pathKeys = []string{
	"allowed_parameters", "capabilities", "comment", "denied_parameters",
	"max_wrapping_ttl", "min_wrapping_ttl", "policy", "required_parameters",
	"subscribe_event_types",
}

var unsupportedPathKeys = map[string]string{
	"control_group": "control groups are a Vault Enterprise feature kinko does not implement",
	"mfa_methods":   "per-path MFA is a Vault Enterprise feature kinko does not implement",
}

// Parse parses the Vault policy text (HCL, or the JSON form HCL accepts)
// named name. Every error wraps logical.ErrInvalidRequest and says what to
// fix, with the line number when the text is at fault.
func Parse(name, text string) (*Policy, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return nil, err
	}
	if n == RootPolicyName {
		return nil, logical.Errorf(logical.ErrInvalidRequest, "the %q policy is built in and cannot be written", n)
	}
	p, err := parseText(n, text)
	if err != nil {
		return nil, logical.Errorf(logical.ErrInvalidRequest, "failed to parse policy %q: %s", n, err)
	}
	return p, nil
}

func parseText(name, text string) (p *Policy, err error) {
	if len(text) > MaxPolicySize {
		return nil, fmt.Errorf("policy is %d bytes long; the limit is %d", len(text), MaxPolicySize)
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("policy text is not valid UTF-8")
	}
	// The HCL library's scanners and parsers panic on some malformed input
	// (bad escapes, huge numbers); a policy write must never take the server
	// down, so a panic here is a parse error.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, errors.New("the policy could not be parsed (malformed literal or escape)")
		}
	}()
	if err := checkNesting(text); err != nil {
		return nil, err
	}
	file, err := hcl.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("invalid HCL: %v", err)
	}
	root, ok := file.Node.(*ast.ObjectList)
	if !ok {
		return nil, errors.New("policy does not contain a top-level object")
	}
	p = &Policy{Name: name, Raw: text}
	for _, item := range root.Items {
		if err := parseTopItem(p, item); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func parseTopItem(p *Policy, item *ast.ObjectItem) error {
	key, err := itemKey(item, 0)
	if err != nil {
		return err
	}
	switch key {
	case "name":
		// Vault accepts and ignores a name inside the text; the name given
		// to Parse wins.
		return nil
	case "path":
		if len(item.Keys) == 1 && isEmptyContainer(item.Val) {
			return nil // JSON form with no paths: {"path": []} or {"path": {}}
		}
		if len(p.Paths) >= MaxPaths {
			return errAt(line(item), "too many path blocks; the limit is %d", MaxPaths)
		}
		pr, err := parsePathBlock(item)
		if err != nil {
			return err
		}
		p.Templated = p.Templated || pr.Templated
		p.Paths = append(p.Paths, pr)
		return nil
	default:
		return errAt(line(item), "unknown top-level key %q; a policy holds only path blocks", key)
	}
}

func isEmptyContainer(n ast.Node) bool {
	switch v := n.(type) {
	case *ast.ListType:
		return len(v.List) == 0
	case *ast.ObjectType:
		return v.List == nil || len(v.List.Items) == 0
	}
	return false
}

func parsePathBlock(item *ast.ObjectItem) (*PathRules, error) {
	if len(item.Keys) < 2 {
		return nil, errAt(line(item), `a path block needs a quoted path, as in path "secret/*" { ... }`)
	}
	raw, err := itemKey(item, 1)
	if err != nil {
		return nil, err
	}
	pr := &PathRules{}
	ctx := fmt.Sprintf("path %q", raw)
	if err := setPathPattern(pr, raw); err != nil {
		return nil, at(line(item), ctx, err)
	}
	body, err := objectBody(item, 2)
	if err != nil {
		return nil, at(line(item), ctx, err)
	}
	if err := parsePathBody(pr, body); err != nil {
		return nil, at(line(item), ctx, err)
	}
	return pr, nil
}

// setPathPattern validates a path pattern and stores it without its leading
// slash.
func setPathPattern(pr *PathRules, raw string) error {
	path := strings.TrimLeft(raw, "/") // request paths never start with "/"
	if path == "" {
		return errors.New(`the path is empty; write "*" to match every path`)
	}
	if i := strings.IndexByte(path, '*'); i >= 0 && i != len(path)-1 {
		return errors.New(`"*" is only allowed as the last character of a path`)
	}
	if strings.Contains(path, "+*") {
		return errors.New(`"+*" is not allowed; write "+/*" or spell out the segment`)
	}
	if i := strings.Index(path, "{{"); i >= 0 {
		if !strings.Contains(path[i:], "}}") {
			return errors.New(`unterminated "{{" template`)
		}
		pr.Templated = true
	}
	pr.Path = path
	return nil
}

// parsePathBody reads the keys of one path block.
func parsePathBody(pr *PathRules, body *ast.ObjectList) error {
	seen := make(map[string]int, len(body.Items))
	var bits capBits
	for _, it := range body.Items {
		key, err := itemKey(it, 0)
		if err != nil {
			return err
		}
		if prev, dup := seen[key]; dup {
			return errAt(line(it), "%q is already set on line %d", key, prev)
		}
		seen[key] = line(it)
		if err := parsePathKey(pr, key, it, &bits); err != nil {
			return at(line(it), key, err)
		}
	}
	if bits&bitDeny != 0 {
		bits = bitDeny
	}
	pr.caps = bits
	pr.Capabilities = bits.names()
	if pr.MinWrappingTTL > 0 && pr.MaxWrappingTTL > 0 && pr.MaxWrappingTTL < pr.MinWrappingTTL {
		return errors.New("max_wrapping_ttl cannot be less than min_wrapping_ttl")
	}
	return nil
}

func parsePathKey(pr *PathRules, key string, it *ast.ObjectItem, bits *capBits) error {
	var err error
	switch key {
	case "comment":
		_, err = literalString(it.Val)
	case "policy":
		err = parseOldPolicy(it, bits)
	case "capabilities":
		err = parseCapabilities(it, bits)
	case "allowed_parameters":
		pr.AllowedParameters, err = parseParamMap(it)
	case "denied_parameters":
		pr.DeniedParameters, err = parseParamMap(it)
	case "required_parameters":
		pr.RequiredParameters, err = parseRequired(it)
	case "min_wrapping_ttl":
		pr.MinWrappingTTL, err = parseTTL(it)
	case "max_wrapping_ttl":
		pr.MaxWrappingTTL, err = parseTTL(it)
	case "subscribe_event_types":
		pr.SubscribeEventTypes, err = stringList(it)
	default:
		if why, ok := unsupportedPathKeys[key]; ok {
			return errors.New(why)
		}
		return fmt.Errorf("unknown key; valid keys are %s", strings.Join(pathKeys, ", "))
	}
	return err
}

// parseOldPolicy maps the old `policy = "read"` shorthand to capabilities.
func parseOldPolicy(it *ast.ObjectItem, bits *capBits) error {
	s, err := literalString(it.Val)
	if err != nil {
		return err
	}
	switch s {
	case "deny":
		*bits |= bitDeny
	case "read":
		*bits |= bitRead | bitList
	case "write":
		*bits |= bitCreate | bitRead | bitUpdate | bitDelete | bitList
	case "sudo":
		*bits |= bitCreate | bitRead | bitUpdate | bitDelete | bitList | bitSudo
	default:
		return fmt.Errorf(`%q is not valid; use "deny", "read", "write" or "sudo", or a capabilities list`, s)
	}
	return nil
}

func parseCapabilities(it *ast.ObjectItem, bits *capBits) error {
	caps, err := stringList(it)
	if err != nil {
		return err
	}
	for _, c := range caps {
		b, ok := capByName(c)
		if !ok {
			return fmt.Errorf("unknown capability %q; valid capabilities are create, read, update, patch, delete, list, sudo, deny, subscribe and recover", c)
		}
		*bits |= b
	}
	return nil
}

// checkNesting refuses text nested deeper than maxNestDepth before the
// recursive HCL parser sees it, using the HCL (or JSON) scanner itself so the
// count agrees with the parser about what is inside a string.
func checkNesting(text string) error {
	src := []byte(text)
	if isJSON(src) {
		return checkJSONTokens(src)
	}
	s := hclscanner.New(src)
	s.Error = func(hcltoken.Pos, string) {}
	depth := 0
	for n := 0; n <= len(src)+1; n++ {
		tok := s.Scan()
		switch tok.Type {
		case hcltoken.EOF:
			return nil
		case hcltoken.LBRACE, hcltoken.LBRACK:
			if depth++; depth > maxNestDepth {
				return errAt(tok.Pos.Line, "nesting deeper than %d levels", maxNestDepth)
			}
		case hcltoken.RBRACE, hcltoken.RBRACK:
			depth = max(depth-1, 0)
		}
	}
	return nil
}

// checkJSONTokens does checkNesting for the JSON form, and also refuses
// booleans and nested lists inside lists: the HCL library's JSON parser drops
// them silently, which would turn allowed_parameters = {"k": [true]} into
// "any value".
func checkJSONTokens(src []byte) error {
	s := jsonscanner.New(src)
	s.Error = func(jsontoken.Pos, string) {}
	var stack []jsontoken.Type
	inList := func() bool { return len(stack) > 0 && stack[len(stack)-1] == jsontoken.LBRACK }
	for n := 0; n <= len(src)+1; n++ {
		tok := s.Scan()
		switch tok.Type {
		case jsontoken.EOF:
			return nil
		case jsontoken.BOOL:
			if inList() {
				return errAt(tok.Pos.Line, "booleans inside lists are not supported in the JSON form; use the HCL form")
			}
		case jsontoken.LBRACE, jsontoken.LBRACK:
			if tok.Type == jsontoken.LBRACK && inList() {
				return errAt(tok.Pos.Line, "nested lists are not supported")
			}
			if stack = append(stack, tok.Type); len(stack) > maxNestDepth {
				return errAt(tok.Pos.Line, "nesting deeper than %d levels", maxNestDepth)
			}
		case jsontoken.RBRACE, jsontoken.RBRACK:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return nil
}

// isJSON mirrors the HCL library's choice: JSON when the first non-space
// character is '{'.
func isJSON(src []byte) bool {
	for len(src) > 0 {
		r, w := utf8.DecodeRune(src)
		if !unicode.IsSpace(r) {
			return r == '{'
		}
		src = src[w:]
	}
	return false
}
