package core

import (
	"context"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *systemBackend) policyPaths() []*logical.Path {
	fields := map[string]*logical.FieldSchema{
		"name":   {Type: logical.TypeString, Description: "policy name"},
		"policy": {Type: logical.TypeString, Description: "policy document (HCL or JSON)"},
		"rules":  {Type: logical.TypeString, Description: "old name of policy"},
	}
	return []*logical.Path{
		{
			Pattern: "policies/acl/?",
			Operations: ops(map[logical.Operation]logical.OperationFunc{
				logical.ListOperation: b.handlePolicyList(false),
			}),
			HelpSynopsis: "List ACL policies.",
		},
		{
			Pattern: "policies/acl/(?P<name>.+)", Fields: fields,
			Operations: ops(map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation:   b.handlePolicyRead("policy"),
				logical.UpdateOperation: b.handlePolicyWrite,
				logical.DeleteOperation: b.handlePolicyDelete,
			}),
			HelpSynopsis: "Read, write or delete an ACL policy.",
		},
		{
			Pattern: "policy/?",
			Operations: ops(map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation: b.handlePolicyList(true),
				logical.ListOperation: b.handlePolicyList(true),
			}),
			HelpSynopsis: "List policies (old form).",
		},
		{
			Pattern: "policy/(?P<name>.+)", Fields: fields,
			Operations: ops(map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation:   b.handlePolicyRead("rules"),
				logical.UpdateOperation: b.handlePolicyWrite,
				logical.DeleteOperation: b.handlePolicyDelete,
			}),
			HelpSynopsis: "Read, write or delete a policy (old form).",
		},
	}
}

func (b *systemBackend) handlePolicyList(old bool) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		st, err := b.state()
		if err != nil {
			return nil, err
		}
		names, err := st.policies.List(ctx)
		if err != nil {
			return nil, err
		}
		if !contains(names, "root") {
			names = append(names, "root") // Vault lists the built-in root policy too
		}
		if !old {
			return logical.ListResponse(names), nil
		}
		return logical.DataResponse(map[string]any{"policies": names, "keys": names}), nil
	}
}

func (b *systemBackend) handlePolicyRead(field string) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		st, err := b.state()
		if err != nil {
			return nil, err
		}
		name := strings.ToLower(d.Get("name").(string))
		p, err := st.policies.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, nil
		}
		return logical.DataResponse(map[string]any{"name": name, field: p.Raw}), nil
	}
}

func (b *systemBackend) handlePolicyWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	text := d.Get("policy").(string)
	if text == "" {
		text = d.Get("rules").(string)
	}
	if strings.TrimSpace(text) == "" {
		return nil, logical.InvalidRequest("'policy' parameter not supplied or empty")
	}
	return nil, st.policies.Set(ctx, strings.ToLower(d.Get("name").(string)), text)
}

func (b *systemBackend) handlePolicyDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	return nil, st.policies.Delete(ctx, strings.ToLower(d.Get("name").(string)))
}
