package kv

import (
	"context"
	"errors"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *versionedBackend) pathSubkeys() *logical.Path {
	return &logical.Path{
		Pattern: `subkeys/` + logical.MatchAllRegex("path"),
		Fields: map[string]*logical.FieldSchema{
			"path":    {Type: logical.TypeString, Description: "Location of the secret."},
			"version": {Type: logical.TypeInt, Description: "The version to read (default: the latest)."},
			"depth": {Type: logical.TypeInt,
				Description: "Deepest nesting level to return; 0 means no limit."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation: b.subkeysRead,
		},
		HelpSynopsis:    "Read the structure of a secret with every value replaced by null.",
		HelpDescription: subkeysHelp,
	}
}

func (b *versionedBackend) subkeysRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := pathField(d)
	if err != nil {
		return nil, err
	}
	want, _ := d.Get("version").(int)
	depth, _ := d.Get("depth").(int)
	for attempt := 0; ; attempt++ {
		resp, data, err := b.readVersion(ctx, req.Storage, p, want)
		if resp == nil || err != nil {
			if resp != nil {
				resp.Data = subkeysBody(resp.Data, nil)
			}
			return resp, err
		}
		if data == nil {
			if attempt == 0 {
				continue
			}
			return nil, errors.New("kv: version data missing from storage")
		}
		m, err := decodeData(data)
		if err != nil {
			return nil, err
		}
		stripValues(m, depth, 1)
		resp.Data = subkeysBody(resp.Data, m)
		return resp, nil
	}
}

// subkeysBody turns a data read body into a subkeys body.
func subkeysBody(read map[string]any, subkeys map[string]any) map[string]any {
	var sk any
	if subkeys != nil {
		sk = subkeys
	}
	return map[string]any{"subkeys": sk, "metadata": read["metadata"]}
}

// stripValues replaces every leaf with nil in place. An object at level
// depth+1 or deeper (when maxDepth > 0) and an empty object count as leaves,
// as in Vault.
func stripValues(m map[string]any, maxDepth, depth int) {
	for k, v := range m {
		child, ok := v.(map[string]any)
		if ok && len(child) > 0 && (maxDepth == 0 || depth+1 <= maxDepth) {
			stripValues(child, maxDepth, depth+1)
			continue
		}
		m[k] = nil
	}
}

const subkeysHelp = `
Returns the secret's keys with every leaf value (any non-object value, or an
empty object) replaced by null. "depth" limits the nesting returned: objects
at that depth are shown as null. "version" selects a version.
`
