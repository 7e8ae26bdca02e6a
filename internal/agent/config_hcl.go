package agent

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	hclscanner "github.com/hashicorp/hcl/hcl/scanner"
	hcltoken "github.com/hashicorp/hcl/hcl/token"
	jsonscanner "github.com/hashicorp/hcl/json/scanner"
	jsontoken "github.com/hashicorp/hcl/json/token"
)

// Limits on the config text.
const (
	maxConfigSize = 1 << 20
	maxNestDepth  = 32
)

// checkNesting refuses nesting deeper than maxNestDepth before the HCL
// parser, which recurses, sees it.
func checkNesting(text string) error {
	src := []byte(text)
	depth := 0
	step := func(open, closing bool, line int) error {
		switch {
		case open:
			if depth++; depth > maxNestDepth {
				return fmt.Errorf("config: line %d: nesting deeper than %d levels", line, maxNestDepth)
			}
		case closing:
			depth = max(depth-1, 0)
		}
		return nil
	}
	if strings.HasPrefix(strings.TrimSpace(text), "{") {
		s := jsonscanner.New(src)
		s.Error = func(jsontoken.Pos, string) {}
		for n := 0; n <= len(src)+1; n++ {
			tok := s.Scan()
			if tok.Type == jsontoken.EOF {
				return nil
			}
			if err := step(tok.Type == jsontoken.LBRACE || tok.Type == jsontoken.LBRACK,
				tok.Type == jsontoken.RBRACE || tok.Type == jsontoken.RBRACK, tok.Pos.Line); err != nil {
				return err
			}
		}
		return nil
	}
	s := hclscanner.New(src)
	s.Error = func(hcltoken.Pos, string) {}
	for n := 0; n <= len(src)+1; n++ {
		tok := s.Scan()
		if tok.Type == hcltoken.EOF {
			return nil
		}
		if err := step(tok.Type == hcltoken.LBRACE || tok.Type == hcltoken.LBRACK,
			tok.Type == hcltoken.RBRACE || tok.Type == hcltoken.RBRACK, tok.Pos.Line); err != nil {
			return err
		}
	}
	return nil
}

func keys(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// checkKeys refuses keys of list that are not allowed.
func checkKeys(where string, list *ast.ObjectList, allowed map[string]bool) error {
	for _, it := range list.Items {
		if len(it.Keys) == 0 {
			continue
		}
		k, _ := it.Keys[0].Token.Value().(string)
		if !allowed[k] {
			return fmt.Errorf("%s: unknown key %q at line %d", where, k, it.Pos().Line)
		}
	}
	return nil
}

func decode(where string, node ast.Node, out any) error {
	if err := hcl.DecodeObject(out, node); err != nil {
		return fmt.Errorf("%s: %v", where, err)
	}
	return nil
}

// objectList returns the body of a block, with its keys checked.
func objectList(name string, it *ast.ObjectItem, allowed map[string]bool) (*ast.ObjectList, error) {
	obj, ok := it.Val.(*ast.ObjectType)
	if !ok {
		return nil, fmt.Errorf("config: line %d: %s must be a block", it.Pos().Line, name)
	}
	if err := checkKeys("config: "+name, obj.List, allowed); err != nil {
		return nil, err
	}
	return obj.List, nil
}

// decodeBlock decodes a block's body into out after checking its keys.
func decodeBlock(name string, it *ast.ObjectItem, out any, allowed map[string]bool) error {
	if _, err := objectList(name, it, allowed); err != nil {
		return err
	}
	return decode("config: "+name, it.Val, out)
}

// cfgMap reads the free-form `config = { ... }` of a method or sink and
// remembers which keys were used and any type error, so done can refuse
// unknown keys and wrong types.
type cfgMap struct {
	where string
	m     map[string]any
	used  map[string]bool
	err   error
}

// configMap normalises what HCL decodes a `config` object into (a map,
// or a list of maps for `config { ... }`).
func configMap(where string, v any) (*cfgMap, error) {
	c := &cfgMap{where: where, m: map[string]any{}, used: map[string]bool{}}
	switch t := v.(type) {
	case nil:
	case map[string]any:
		c.m = t
	case []map[string]any:
		for _, m := range t {
			maps.Copy(c.m, m)
		}
	default:
		return nil, fmt.Errorf("config: %s: config must be an object", where)
	}
	return c, nil
}

func (c *cfgMap) fail(key, want string) {
	if c.err == nil {
		c.err = fmt.Errorf("config: %s: %s must be %s", c.where, key, want)
	}
}

func (c *cfgMap) str(key string) string {
	c.used[key] = true
	v, ok := c.m[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		c.fail(key, "a string")
	}
	return s
}

func (c *cfgMap) boolean(key string, def bool) bool {
	c.used[key] = true
	switch v := c.m[key].(type) {
	case nil:
		return def
	case bool:
		return v
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	c.fail(key, "true or false")
	return def
}

// integer accepts HCL numbers (0600 is octal, as in C) and strings
// ("0600", "0o600").
func (c *cfgMap) integer(key string, def int64) int64 {
	c.used[key] = true
	switch v := c.m[key].(type) {
	case nil:
		return def
	case int:
		return int64(v)
	case int64:
		return v
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 0, 64); err == nil {
			return n
		}
	}
	c.fail(key, "an integer")
	return def
}

// done returns the first type error, or an error naming unknown keys.
func (c *cfgMap) done() error {
	if c.err != nil {
		return c.err
	}
	var unknown []string
	for k := range c.m {
		if !c.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return errors.New("config: " + c.where + ": unknown config keys " + strings.Join(unknown, ", "))
	}
	return nil
}

// blockSpec says how many labels a block takes and what blocks it holds.
type blockSpec struct {
	labels   int
	children map[string]blockSpec
}

var configSpec = map[string]blockSpec{
	"vault": {}, "kinko": {}, "cache": {}, "aws_secrets_manager": {}, "agent_token": {}, "template": {}, "template_config": {}, "exec": {},
	"env_template": {labels: 1},
	"listener":     {labels: 1},
	"auto_auth": {children: map[string]blockSpec{
		"method": {labels: 1, children: map[string]blockSpec{"config": {}}},
		"sink":   {labels: 1, children: map[string]blockSpec{"config": {}}},
	}},
}

// unflatten undoes what HCL's JSON parser does to nested objects: it
// turns {"auto_auth": {"method": {"approle": {...}}}} into one item with
// the keys auto_auth, method, approle. Items with more keys than their
// block takes labels are nested again, and the items so split from one
// JSON object are merged back into one block.
func unflatten(list *ast.ObjectList, spec map[string]blockSpec) {
	var out []*ast.ObjectItem
	merged := map[string]*ast.ObjectItem{}
	for _, it := range list.Items {
		if len(it.Keys) == 0 {
			out = append(out, it)
			continue
		}
		name, _ := it.Keys[0].Token.Value().(string)
		bs, ok := spec[name]
		n := 1 + bs.labels
		if !ok || len(it.Keys) <= n {
			out = append(out, it)
			if obj, isObj := it.Val.(*ast.ObjectType); ok && isObj {
				unflatten(obj.List, bs.children)
			}
			continue
		}
		inner := &ast.ObjectItem{Keys: it.Keys[n:], Val: it.Val}
		id := ""
		for _, k := range it.Keys[:n] {
			v, _ := k.Token.Value().(string)
			id += v + "\x00"
		}
		if m, seen := merged[id]; seen {
			obj := m.Val.(*ast.ObjectType)
			obj.List.Items = append(obj.List.Items, inner)
			continue
		}
		m := &ast.ObjectItem{Keys: it.Keys[:n], Val: &ast.ObjectType{List: &ast.ObjectList{Items: []*ast.ObjectItem{inner}}}}
		merged[id] = m
		out = append(out, m)
	}
	list.Items = out
	for _, m := range merged {
		unflatten(m.Val.(*ast.ObjectType).List, spec[m.Keys[0].Token.Value().(string)].children)
	}
}
