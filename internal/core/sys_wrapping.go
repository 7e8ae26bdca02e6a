package core

import (
	"context"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *systemBackend) wrappingPaths() []*logical.Path {
	tokenField := map[string]*logical.FieldSchema{
		"token": {Type: logical.TypeString, Description: "the wrapping token; defaults to the request's token"},
	}
	return []*logical.Path{
		{Pattern: "wrapping/wrap", TakesArbitraryInput: true, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleWrap}), HelpSynopsis: "Wrap the request data in a single-use token (needs X-Vault-Wrap-TTL)."},
		{Pattern: "wrapping/unwrap", Fields: tokenField, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleUnwrap}), HelpSynopsis: "Return a wrapped response, once."},
		{Pattern: "wrapping/lookup", Fields: tokenField, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleWrapLookup, logical.ReadOperation: b.handleWrapLookup}),
			HelpSynopsis: "Show a wrapping token's creation facts without using it."},
		{Pattern: "wrapping/rewrap", Fields: tokenField, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleRewrap}), HelpSynopsis: "Move a wrapped response to a new wrapping token."},
	}
}

func wrappingToken(req *logical.Request, d *logical.FieldData) string {
	if t := d.Get("token").(string); t != "" {
		return t
	}
	return req.ClientToken
}

func (b *systemBackend) handleWrap(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if req.WrapTTL <= 0 {
		return nil, logical.InvalidRequest("no wrap TTL given: set the X-Vault-Wrap-TTL header")
	}
	if len(req.Data) == 0 {
		return nil, logical.InvalidRequest("empty request body: nothing to wrap")
	}
	return logical.DataResponse(req.Data), nil // core wraps it
}

// unwrapRequest spends the request's wrapping token and returns what it
// guarded.
func (b *systemBackend) unwrapRequest(ctx context.Context, req *logical.Request, d *logical.FieldData) (*unsealedState, *wrappedResponse, error) {
	st, err := b.state()
	if err != nil {
		return nil, nil, err
	}
	w, err := b.c.unwrap(ctx, st, wrappingToken(req, d))
	return st, w, err
}

func (b *systemBackend) handleUnwrap(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	_, w, err := b.unwrapRequest(ctx, req, d)
	if err != nil {
		return nil, err
	}
	return w.response(), nil
}

func (b *systemBackend) handleRewrap(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, w, err := b.unwrapRequest(ctx, req, d)
	if err != nil {
		return nil, err
	}
	return b.c.wrapResponse(ctx, st, w.CreationPath, w.TTL, w.response())
}

func (b *systemBackend) handleWrapLookup(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	te, err := b.c.wrappingEntry(ctx, st, wrappingToken(req, d))
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"creation_path": te.Path, "creation_time": te.CreationTime.UTC().Format(time.RFC3339Nano),
		"creation_ttl": secs(te.TTL),
	}), nil
}
