package sealfile

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDepth caps the nesting of YAML and JSON documents.
const maxDepth = 256

// treeDoc is a YAML or JSON document held as a yaml.v3 node tree (JSON is
// parsed into the same nodes), so both share walking and metadata.
type treeDoc struct {
	top    *yaml.Node // the top-level mapping
	doc    *yaml.Node // the document node (YAML)
	json   bool
	indent string
}

func parseYAML(b []byte) (*treeDoc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalid("the YAML file is empty; it must hold a mapping")
		}
		return nil, invalid("YAML: %v", yamlErr(err))
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, invalid("YAML: only one document per file is supported (found a second --- document or trailing content)")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, invalid("YAML: the top level must be a mapping (key: value)")
	}
	return &treeDoc{top: doc.Content[0], doc: &doc, indent: strings.Repeat(" ", yamlIndent(b))}, nil
}

// yamlErr keeps yaml.v3's position but not any quoted document text.
func yamlErr(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	if i := strings.IndexAny(msg, "\"`'"); i >= 0 {
		msg = strings.TrimSpace(msg[:i]) + " (the text there is not shown)"
	}
	return msg
}

// yamlIndent guesses the indentation step of a YAML file: the smallest
// indentation of a key line, between 2 and 9 (default 2).
func yamlIndent(b []byte) int {
	best := 0
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		n := len(line) - len(trimmed)
		if n == 0 || trimmed == "" || trimmed[0] == '#' || trimmed[0] == '-' || !strings.Contains(trimmed, ":") {
			continue
		}
		if best == 0 || n < best {
			best = n
		}
	}
	if best < 2 || best > 9 {
		return 2
	}
	return best
}

func (d *treeDoc) bytes() ([]byte, error) {
	if d.json {
		return writeJSON(d.top, d.indent)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(len(d.indent))
	if err := enc.Encode(d.doc); err != nil {
		return nil, invalid("YAML: %v", err)
	}
	if err := enc.Close(); err != nil {
		return nil, invalid("YAML: %v", err)
	}
	return buf.Bytes(), nil
}

func (d *treeDoc) takeMetadata() (*Metadata, error) {
	c := d.top.Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Kind != yaml.ScalarNode || c[i].Value != metaKey {
			continue
		}
		var m Metadata
		if err := c[i+1].Decode(&m); err != nil || c[i+1].Kind != yaml.MappingNode {
			return nil, invalid("the top-level key %q is reserved for kinko's metadata, and this one is not valid metadata", metaKey)
		}
		d.top.Content = append(c[:i:i], c[i+2:]...)
		return &m, nil
	}
	return nil, nil
}

func (d *treeDoc) putMetadata(m *Metadata) error {
	var v yaml.Node
	if err := v.Encode(m); err != nil {
		return err
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: metaKey}
	d.top.Content = append(d.top.Content, k, &v)
	return nil
}

func (d *treeDoc) walk() ([]*entry, error) {
	var out []*entry
	err := walkNode(d.top, nil, &out, 0)
	return out, err
}

func walkNode(n *yaml.Node, path []seg, out *[]*entry, depth int) error {
	if depth > maxDepth {
		return invalid("the document is nested deeper than %d levels at %s", maxDepth, displayPath(path))
	}
	switch n.Kind {
	case yaml.MappingNode:
		return walkMapping(n, path, out, depth)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			*out = append(*out, &entry{path: path, kind: kindEmptySeq, line: n.Line})
		}
		for i, c := range n.Content {
			if err := walkNode(c, appendSeg(path, idxSeg(i)), out, depth+1); err != nil {
				return err
			}
		}
		return nil
	case yaml.AliasNode:
		*out = append(*out, &entry{path: path, kind: kindAlias, value: n.Value, line: n.Line})
		return nil
	case yaml.ScalarNode:
		*out = append(*out, scalarEntry(n, path))
		return nil
	}
	return invalid("unsupported YAML node at %s", displayPath(path))
}

func walkMapping(n *yaml.Node, path []seg, out *[]*entry, depth int) error {
	if len(n.Content) == 0 {
		*out = append(*out, &entry{path: path, kind: kindEmptyMap, line: n.Line})
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return invalid("line %d: mapping keys must be plain scalars (at %s)", k.Line, displayPath(path))
		}
		if seen[k.Value] {
			return invalid("line %d: duplicate key %s", k.Line, displayPath(appendSeg(path, keySeg(k.Value))))
		}
		seen[k.Value] = true
		if k.Tag == "!!merge" && k.Style&yaml.TaggedStyle == 0 {
			k.Tag = "" // yaml.v3 would write an implicit merge key as "!!merge <<"
		}
		if err := walkNode(n.Content[i+1], appendSeg(path, keySeg(k.Value)), out, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func appendSeg(path []seg, s seg) []seg {
	return append(path[:len(path):len(path)], s)
}

// yamlTypes maps core YAML tags to token types.
var yamlTypes = map[string]string{
	"!!str": typeStr, "!!int": typeInt, "!!float": typeFloat, "!!bool": typeBool,
	"!!timestamp": typeTimestamp, "!!binary": typeBinary,
}

func scalarEntry(n *yaml.Node, path []seg) *entry {
	tag := n.ShortTag()
	if tag == "!!null" {
		return &entry{path: path, kind: kindNull, value: n.Value, line: n.Line}
	}
	custom := !strings.HasPrefix(tag, "!!")
	typ, ok := yamlTypes[tag]
	if !ok {
		typ = typeStr // a custom tag (kept on the node) or an unusual core one
	}
	e := &entry{path: path, kind: kindScalar, typ: typ, value: n.Value, line: n.Line}
	e.set = func(value, typ string, sealed bool) {
		n.Value = value
		n.Style &^= yaml.TaggedStyle
		if custom {
			return
		}
		switch {
		case sealed:
			n.Tag = "!!str"
		case typ == typeStr:
			n.Tag = "!!str"
		default:
			n.Tag = "!!" + typ
			n.Style = 0
		}
	}
	return e
}

// isK8sSecret reports whether the top level says apiVersion: v1 and
// kind: Secret.
func isK8sSecret(entries []*entry) bool {
	found := 0
	for _, e := range entries {
		if e.kind != kindScalar || len(e.path) != 1 || e.path[0].isIdx {
			continue
		}
		if e.path[0].key == "apiVersion" && e.value == "v1" || e.path[0].key == "kind" && e.value == "Secret" {
			found++
		}
	}
	return found == 2
}

// checkK8s validates a Secret manifest before sealing: data and stringData
// are mappings of strings, and data values are base64.
func checkK8s(entries []*entry) error {
	for _, e := range entries {
		if len(e.path) == 0 || e.path[0].isIdx || e.path[0].key != "data" && e.path[0].key != "stringData" {
			continue
		}
		where := displayPath(e.path)
		if len(e.path) != 2 || e.path[1].isIdx {
			if e.kind == kindEmptyMap && len(e.path) == 1 {
				continue
			}
			return invalid("%s: data and stringData must map names to strings", where)
		}
		if e.kind != kindScalar {
			return invalid("%s: data and stringData values must be strings", where)
		}
		if e.path[0].key == "data" {
			if _, err := base64.StdEncoding.DecodeString(e.value); err != nil {
				return invalid("%s is not base64 (put plain text under stringData)", where)
			}
		}
	}
	return nil
}
