package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
	hcltoken "github.com/hashicorp/hcl/hcl/token"
)

// maxTTL bounds wrapping TTLs so conversions cannot overflow.
const maxTTL = 100 * 365 * 24 * time.Hour

func line(n ast.Node) int { return n.Pos().Line }

// posError is a parse error at a line of the policy text.
type posError struct {
	line int
	msg  string
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func errAt(l int, format string, args ...any) error {
	return &posError{line: l, msg: fmt.Sprintf(format, args...)}
}

// at puts context before err's message and gives it line l, unless err
// already carries a line, which is the more precise one.
func at(l int, context string, err error) error {
	pe, ok := err.(*posError)
	if !ok {
		pe = &posError{line: l, msg: err.Error()}
	}
	if context == "" {
		return pe
	}
	return &posError{line: pe.line, msg: context + ": " + pe.msg}
}

// tokenValue decodes a literal token. The HCL library panics on malformed
// literals (an integer that overflows, a bad escape); that becomes an error.
func tokenValue(t hcltoken.Token) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, errAt(t.Pos.Line, "malformed value")
		}
	}()
	return t.Value(), nil
}

// itemKey returns the i-th key of item as a string.
func itemKey(item *ast.ObjectItem, i int) (string, error) {
	if i >= len(item.Keys) {
		return "", errAt(line(item), "missing key")
	}
	v, err := tokenValue(item.Keys[i].Token)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", errAt(line(item), "key must be a name or a quoted string")
	}
	return s, nil
}

// objectBody returns the object that item holds once its first depth keys
// are consumed. HCL spells nested blocks as extra keys (`a "b" { }`, and the
// JSON form is flattened the same way), so the remaining keys become one
// synthetic item.
func objectBody(item *ast.ObjectItem, depth int) (*ast.ObjectList, error) {
	if len(item.Keys) > depth {
		return &ast.ObjectList{Items: []*ast.ObjectItem{{Keys: item.Keys[depth:], Val: item.Val}}}, nil
	}
	ot, ok := item.Val.(*ast.ObjectType)
	if !ok || ot.List == nil {
		return nil, errors.New("expected a { ... } block")
	}
	return ot.List, nil
}

func literalString(n ast.Node) (string, error) {
	lit, ok := n.(*ast.LiteralType)
	if !ok || (lit.Token.Type != hcltoken.STRING && lit.Token.Type != hcltoken.HEREDOC) {
		return "", errors.New("must be a quoted string")
	}
	v, err := tokenValue(lit.Token)
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// stringList reads `key = ["a", "b"]`; a single string is accepted as a list
// of one.
func stringList(it *ast.ObjectItem) ([]string, error) {
	if len(it.Keys) > 1 {
		return nil, errors.New(`must be a list of strings, as in ["a", "b"]`)
	}
	if _, ok := it.Val.(*ast.LiteralType); ok {
		s, err := literalString(it.Val)
		if err != nil {
			return nil, errors.New(`must be a list of strings, as in ["a", "b"]`)
		}
		return []string{s}, nil
	}
	lt, ok := it.Val.(*ast.ListType)
	if !ok {
		return nil, errors.New(`must be a list of strings, as in ["a", "b"]`)
	}
	out := make([]string, 0, len(lt.List))
	for _, el := range lt.List {
		s, err := literalString(el)
		if err != nil {
			return nil, at(line(el), "list element", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// parseParamMap reads allowed_parameters or denied_parameters:
// { "name" = ["value", ...], "*" = [] }. Names are lower-cased as Vault
// matches them case-insensitively.
func parseParamMap(it *ast.ObjectItem) (map[string][]any, error) {
	body, err := objectBody(it, 1)
	if err != nil {
		return nil, errors.New(`must be a map of parameter names to lists of values, as in { "name" = ["a", "b"] }`)
	}
	out := make(map[string][]any, len(body.Items))
	for _, pi := range body.Items {
		name, err := itemKey(pi, 0)
		if err != nil {
			return nil, err
		}
		if err := checkParamName(name, true); err != nil {
			return nil, at(line(pi), "", err)
		}
		key := strings.ToLower(name)
		if _, dup := out[key]; dup {
			return nil, errAt(line(pi), "parameter %q is listed more than once", name)
		}
		if len(pi.Keys) > 1 {
			return nil, errAt(line(pi), "parameter %q must map to a list of values", name)
		}
		vals, err := paramValues(pi.Val)
		if err != nil {
			return nil, at(line(pi), fmt.Sprintf("parameter %q", name), err)
		}
		out[key] = vals
	}
	return out, nil
}

func checkParamName(name string, wildcardOK bool) error {
	switch {
	case name == "":
		return errors.New("parameter name must not be empty")
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("parameter %q: JSON-pointer parameter names are not supported", name)
	case name == "*" && wildcardOK:
		return nil
	case strings.Contains(name, "*"):
		return fmt.Errorf(`parameter %q: "*" may only be used alone, to mean every parameter`, name)
	}
	return nil
}

// paramValues reads the value list of one parameter: strings, numbers and
// booleans. A single literal counts as a list of one.
func paramValues(n ast.Node) ([]any, error) {
	var elems []ast.Node
	switch v := n.(type) {
	case *ast.ListType:
		elems = v.List
	case *ast.LiteralType:
		elems = []ast.Node{v}
	default:
		return nil, errors.New("values must be a list of strings, numbers or booleans")
	}
	if len(elems) > maxParamValues {
		return nil, fmt.Errorf("too many values; the limit is %d", maxParamValues)
	}
	out := make([]any, 0, len(elems))
	for _, el := range elems {
		lit, ok := el.(*ast.LiteralType)
		if !ok {
			return nil, errors.New("values must be strings, numbers or booleans")
		}
		switch lit.Token.Type {
		case hcltoken.STRING, hcltoken.HEREDOC, hcltoken.NUMBER, hcltoken.FLOAT, hcltoken.BOOL:
		default:
			return nil, errors.New("values must be strings, numbers or booleans")
		}
		v, err := tokenValue(lit.Token)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parseRequired(it *ast.ObjectItem) ([]string, error) {
	names, err := stringList(it)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if err := checkParamName(n, false); err != nil {
			return nil, err
		}
		k := strings.ToLower(n)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// parseTTL reads a duration as Vault does: a number of seconds, or a string
// such as "90", "90s", "15m", "1h30m" or "2d".
func parseTTL(it *ast.ObjectItem) (time.Duration, error) {
	lit, ok := it.Val.(*ast.LiteralType)
	if !ok || len(it.Keys) > 1 {
		return 0, errors.New(`must be a duration such as "30s", "15m" or "1h", or a number of seconds`)
	}
	v, err := tokenValue(lit.Token)
	if err != nil {
		return 0, err
	}
	var d time.Duration
	switch x := v.(type) {
	case int64:
		if x < 0 || x > int64(maxTTL/time.Second) {
			return 0, errors.New("must be between 0 and 100 years")
		}
		d = time.Duration(x) * time.Second
	case string:
		if d, err = parseDuration(x); err != nil {
			return 0, err
		}
	default:
		return 0, errors.New(`must be a duration such as "30s", "15m" or "1h", or a number of seconds`)
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf(`%q is not a duration; use for example "30s", "15m", "1h" or "2d"`, s)
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > int64(maxTTL/time.Second) {
			return 0, errors.New("must be between 0 and 100 years")
		}
		d = time.Duration(n) * time.Second
	} else if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > int64(maxTTL/(24*time.Hour)) {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	if d < 0 || d > maxTTL {
		return 0, errors.New("must be between 0 and 100 years")
	}
	return d, nil
}
