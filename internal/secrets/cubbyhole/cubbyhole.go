// Package cubbyhole is Vault's cubbyhole secrets engine: private storage
// per token. Every token sees only its own cubbyhole, not even root can read
// another's, and a token's cubbyhole is destroyed when the token is revoked.
//
// Layout in the mount's storage view: "<token accessor>/<path>". Core relies
// on that layout to clear a revoked token's cubbyhole (ClearPrefix of
// "<accessor>/"), so it must not change.
package cubbyhole

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// MaxValueSize bounds one cubbyhole entry (as KV's default).
const MaxValueSize = 1 << 20

// Backend is the cubbyhole engine.
type Backend struct {
	*logical.Framework
}

var _ logical.Backend = (*Backend)(nil)

// Factory builds the engine.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	b := &Backend{}
	b.Framework = (&logical.Framework{
		Help: "The cubbyhole backend stores secrets private to the calling token.",
		PathList: []*logical.Path{{
			Pattern:             logical.MatchAllRegex("path"),
			Fields:              map[string]*logical.FieldSchema{"path": {Type: logical.TypeString, Description: "secret path"}},
			TakesArbitraryInput: true,
			Operations: map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation:   b.handleRead,
				logical.UpdateOperation: b.handleWrite,
				logical.DeleteOperation: b.handleDelete,
				logical.ListOperation:   b.handleList,
			},
			ExistenceCheck: b.exists,
			HelpSynopsis:   "Read, write, delete and list secrets private to the calling token.",
		}},
	}).Compile()
	return b, nil
}

// key maps a request path to the caller's private storage key.
func key(req *logical.Request, d *logical.FieldData) (string, error) {
	if req.Auth == nil || req.Auth.Accessor == "" {
		return "", logical.Errorf(logical.ErrPermissionDenied, "cubbyhole requires a token")
	}
	p := d.Get("path").(string)
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", logical.InvalidRequest("invalid path %q", p)
		}
	}
	return req.Auth.Accessor + "/" + p, nil
}

func (b *Backend) exists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	k, err := key(req, d)
	if err != nil {
		return false, err
	}
	e, err := req.Storage.Get(ctx, k)
	return e != nil, err
}

func (b *Backend) handleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	k, err := key(req, d)
	if err != nil {
		return nil, err
	}
	var data map[string]any
	ok, err := logical.GetJSON(ctx, req.Storage, k, &data)
	if err != nil || !ok {
		return nil, err
	}
	return logical.DataResponse(data), nil
}

func (b *Backend) handleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	k, err := key(req, d)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(k, "/") || d.Get("path").(string) == "" {
		return nil, logical.InvalidRequest("missing secret path")
	}
	if len(req.Data) == 0 {
		return nil, logical.InvalidRequest("missing data fields")
	}
	buf, err := json.Marshal(req.Data)
	if err != nil {
		return nil, logical.InvalidRequest("data is not JSON-encodable")
	}
	if len(buf) > MaxValueSize {
		return nil, logical.Errorf(logical.ErrTooLarge, "secret is %d bytes, above the limit of %d", len(buf), MaxValueSize)
	}
	return nil, req.Storage.Put(ctx, &logical.StorageEntry{Key: k, Value: buf})
}

func (b *Backend) handleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	k, err := key(req, d)
	if err != nil {
		return nil, err
	}
	return nil, req.Storage.Delete(ctx, k)
}

func (b *Backend) handleList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	k, err := key(req, d)
	if err != nil {
		return nil, err
	}
	if k != "" && !strings.HasSuffix(k, "/") {
		k += "/"
	}
	keys, err := req.Storage.List(ctx, k)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}
