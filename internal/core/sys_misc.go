package core

import (
	"context"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *systemBackend) miscPaths() []*logical.Path {
	capFields := map[string]*logical.FieldSchema{
		"paths":    {Type: logical.TypeCommaStringSlice, Description: "paths to check"},
		"path":     {Type: logical.TypeCommaStringSlice, Description: "deprecated: paths to check"},
		"token":    {Type: logical.TypeString, Description: "token to check (capabilities)"},
		"accessor": {Type: logical.TypeString, Description: "accessor of the token to check"},
	}
	return []*logical.Path{
		{Pattern: "capabilities-self", Fields: capFields, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleCapabilities("self")}), HelpSynopsis: "Capabilities of the calling token on paths."},
		{Pattern: "capabilities", Fields: capFields, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleCapabilities("token")}), HelpSynopsis: "Capabilities of a token on paths."},
		{Pattern: "capabilities-accessor", Fields: capFields, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleCapabilities("accessor")}), HelpSynopsis: "Capabilities of a token, by accessor."},
		{Pattern: "rotate", Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleRotate}), HelpSynopsis: "Add a new barrier encryption key term."},
		{Pattern: "key-status", Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation: b.handleKeyStatus}), HelpSynopsis: "The active barrier key term."},
		{Pattern: "seal", Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleSeal}), HelpSynopsis: "Seal the server."},
		{Pattern: "internal/ui/mounts/?", Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation: b.handleUIMounts}), HelpSynopsis: "Mounts visible to the caller."},
		{Pattern: "internal/ui/mounts/(?P<path>.+)", Fields: map[string]*logical.FieldSchema{
			"path": {Type: logical.TypeString, Description: "a path inside a mount"}},
			Operations: ops(map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation: b.handleUIMount}), HelpSynopsis: "The mount owning a path."},
	}
}

func (b *systemBackend) handleCapabilities(kind string) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		st, err := b.state()
		if err != nil {
			return nil, err
		}
		paths := append(d.Get("paths").([]string), d.Get("path").([]string)...)
		if len(paths) == 0 {
			return nil, logical.InvalidRequest("missing paths")
		}
		policies := req.Auth.Policies
		switch kind {
		case "token":
			te, err := st.tokens.Lookup(ctx, d.Get("token").(string))
			if err != nil {
				return nil, err
			}
			if te == nil {
				return nil, logical.InvalidRequest("invalid token")
			}
			policies = te.Policies
		case "accessor":
			te, err := st.tokens.LookupAccessor(ctx, d.Get("accessor").(string))
			if err != nil {
				return nil, err
			}
			if te == nil {
				return nil, logical.InvalidRequest("invalid accessor")
			}
			policies = te.Policies
		}
		acl, err := st.policies.ACL(ctx, policies)
		if err != nil {
			return nil, err
		}
		data := map[string]any{}
		for _, p := range paths {
			data[p] = acl.Capabilities(strings.TrimPrefix(p, "/"))
		}
		if len(paths) == 1 {
			data["capabilities"] = data[paths[0]]
		}
		return logical.DataResponse(data), nil
	}
}

func (b *systemBackend) handleRotate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	term, err := b.c.barrier.Rotate(ctx)
	if err != nil {
		return nil, err
	}
	b.c.logger.Info("barrier key rotated", "term", term)
	return nil, nil
}

func (b *systemBackend) handleKeyStatus(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	ks, err := b.c.barrier.KeyStatus()
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"term": ks.Term, "install_time": ks.InstallTime.UTC().Format(time.RFC3339Nano), "encryptions": ks.Encryptions,
	}), nil
}

func (b *systemBackend) handleSeal(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, b.c.Seal(ctx)
}

// uiCaller authenticates the caller of the sys/internal/ui endpoints, which
// are routed unauthenticated but need a valid token.
func (b *systemBackend) uiCaller(ctx context.Context, req *logical.Request) (*unsealedState, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	te, err := st.tokens.Lookup(ctx, req.ClientToken)
	if err != nil {
		return nil, err
	}
	if te == nil {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "permission denied")
	}
	return st, nil
}

func (b *systemBackend) handleUIMounts(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if _, err := b.uiCaller(ctx, req); err != nil {
		return nil, err
	}
	secret, auth := map[string]any{}, map[string]any{}
	for _, table := range []string{TableMounts, TableAuth} {
		ms, err := b.c.Mounts(table)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if table == TableAuth {
				auth[m.Path] = mountInfo(m)
			} else {
				secret[m.Path] = mountInfo(m)
			}
		}
	}
	return logical.DataResponse(map[string]any{"secret": secret, "auth": auth}), nil
}

func (b *systemBackend) handleUIMount(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.uiCaller(ctx, req)
	if err != nil {
		return nil, err
	}
	p := strings.Trim(d.Get("path").(string), "/")
	e, _ := st.router.Load().match(p)
	if e == nil {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "preflight capability check returned 403, please ensure client's policies grant access to path %q", p+"/")
	}
	info := mountInfo(e.mount)
	info["path"] = e.prefix
	return logical.DataResponse(info), nil
}
