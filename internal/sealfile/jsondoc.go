package sealfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseJSON reads a JSON object into yaml.v3 nodes, keeping key order and
// the exact text of numbers.
func parseJSON(b []byte) (*treeDoc, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	top, err := jsonValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if top.Kind != yaml.MappingNode {
		return nil, invalid("JSON: the top level must be an object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("JSON: unexpected content after the top-level object")
	}
	return &treeDoc{top: top, json: true, indent: jsonIndent(b)}, nil
}

func jsonErr(dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) {
		return invalid("JSON: unexpected end of input")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalid("JSON: syntax error at byte %d", se.Offset)
	}
	return invalid("JSON: syntax error at byte %d", dec.InputOffset())
}

// jsonValue reads one value.
func jsonValue(dec *json.Decoder, depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, invalid("JSON: nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(dec, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return jsonObject(dec, depth)
		}
		if t == '[' {
			return jsonArray(dec, depth)
		}
		return nil, invalid("JSON: unexpected %s at byte %d", string(t), dec.InputOffset())
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t)}, nil
	case bool:
		v := "false"
		if t {
			v = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, invalid("JSON: unexpected token at byte %d", dec.InputOffset())
}

func jsonObject(dec *json.Decoder, depth int) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(dec, err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, invalid("JSON: object keys must be strings (byte %d)", dec.InputOffset())
		}
		v, err := jsonValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(dec, err)
	}
	return n, nil
}

func jsonArray(dec *json.Decoder, depth int) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for dec.More() {
		v, err := jsonValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(dec, err)
	}
	return n, nil
}

// jsonIndent guesses the indentation unit: the whitespace opening the
// first indented line, else two spaces.
func jsonIndent(b []byte) string {
	for _, line := range strings.Split(string(b), "\n")[1:] {
		trimmed := strings.TrimLeft(line, " \t")
		if n := len(line) - len(trimmed); n > 0 && trimmed != "" && n <= 8 {
			return line[:n]
		}
	}
	return "  "
}

// writeJSON renders a node tree as indented JSON with a final newline.
func writeJSON(n *yaml.Node, indent string) ([]byte, error) {
	var b bytes.Buffer
	if err := jsonWrite(&b, n, indent, 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func jsonWrite(b *bytes.Buffer, n *yaml.Node, indent string, depth int) error {
	if depth > maxDepth+4 {
		return invalid("JSON: nested too deeply")
	}
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		open, end, step := byte('{'), byte('}'), 2
		if n.Kind == yaml.SequenceNode {
			open, end, step = '[', ']', 1
		}
		b.WriteByte(open)
		if len(n.Content) == 0 {
			b.WriteByte(end)
			return nil
		}
		for i := 0; i < len(n.Content); i += step {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n" + strings.Repeat(indent, depth+1))
			if step == 2 {
				writeJSONString(b, n.Content[i].Value)
				b.WriteString(": ")
			}
			if err := jsonWrite(b, n.Content[i+step-1], indent, depth+1); err != nil {
				return err
			}
		}
		b.WriteString("\n" + strings.Repeat(indent, depth))
		b.WriteByte(end)
		return nil
	case yaml.ScalarNode:
		return jsonScalar(b, n)
	}
	return invalid("JSON: cannot write this kind of value")
}

func jsonScalar(b *bytes.Buffer, n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!int", "!!float":
		if !isJSONNumber(n.Value) {
			return invalid("JSON: a number value is not valid JSON")
		}
		b.WriteString(n.Value)
	case "!!bool":
		if n.Value != "true" && n.Value != "false" {
			return invalid("JSON: a boolean must be true or false")
		}
		b.WriteString(n.Value)
	case "!!null":
		b.WriteString("null")
	default:
		writeJSONString(b, n.Value)
	}
	return nil
}

func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') &&
		!strings.ContainsAny(s, " \t\r\n") && json.Valid([]byte(s))
}

func writeJSONString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Write(bytes.TrimRight(tmp.Bytes(), "\n"))
}
