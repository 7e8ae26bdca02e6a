package kv

import (
	"context"
	"fmt"

	"github.com/kinko-dev/kinko/internal/logical"
)

// pathInvalid catches every path no other path matched and answers, as
// Vault does, 404 with a warning pointing at the right endpoint. It must
// stay last in the path list.
func (b *versionedBackend) pathInvalid() *logical.Path {
	return &logical.Path{
		Pattern: `.*`,
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.invalid,
			logical.UpdateOperation: b.invalid,
			logical.PatchOperation:  b.invalid,
			logical.DeleteOperation: b.invalid,
			logical.ListOperation:   b.invalid,
		},
		TakesArbitraryInput: true,
		HelpSynopsis:        "Paths outside the KV v2 API.",
		HelpDescription:     "Use data/, metadata/, delete/, undelete/, destroy/, subkeys/ or config.",
	}
}

var invalidNotFound = logical.Errorf(logical.ErrNotFound, "invalid path for a versioned K/V secrets engine")

func (b *versionedBackend) invalid(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	resp := &logical.Response{}
	switch req.Path {
	case "metadata":
		if req.Operation == logical.ListOperation {
			// LIST on the mount root arrived without its trailing slash.
			return b.list(ctx, req.Storage, "", false)
		}
		fallthrough
	case "data", "delete", "undelete", "destroy":
		resp.AddWarning("Non-listing operations on the root of a K/V v2 mount are not supported.")
		return resp, invalidNotFound
	}
	var sub string
	switch req.Operation {
	case logical.CreateOperation, logical.UpdateOperation:
		sub = "put"
	case logical.PatchOperation:
		sub = "patch"
	case logical.ReadOperation:
		sub = "get"
	case logical.ListOperation:
		sub = "list"
	case logical.DeleteOperation:
		sub = "delete"
	}
	resp.AddWarning(fmt.Sprintf("Invalid path for a versioned K/V secrets engine. See the API docs for the "+
		"appropriate API endpoints to use. If using the Vault CLI, use 'vault kv %s' for this operation.", sub))
	return resp, invalidNotFound
}
