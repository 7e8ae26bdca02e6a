package core

import (
	"context"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *systemBackend) mfaPath() *logical.Path {
	return &logical.Path{
		Pattern: "mfa/validate",
		Fields: map[string]*logical.FieldSchema{
			"mfa_request_id": {Type: logical.TypeString, Required: true, Description: "the ID from the login's mfa_requirement"},
			"mfa_payload":    {Type: logical.TypeMap, Required: true, Description: "method ID → list of passcodes"},
		},
		Operations:   ops(map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.handleMFAValidate}),
		HelpSynopsis: "Complete a login that requires MFA.",
	}
}

func (b *systemBackend) handleMFAValidate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	payload := map[string][]string{}
	for id, v := range d.Get("mfa_payload").(map[string]any) {
		switch x := v.(type) {
		case []any:
			for _, c := range x {
				if s, ok := c.(string); ok {
					payload[id] = append(payload[id], s)
				}
			}
		case string:
			payload[id] = []string{x}
		default:
			return nil, logical.InvalidRequest("mfa_payload values must be lists of passcodes")
		}
	}
	return b.c.validateMFA(ctx, st, d.Get("mfa_request_id").(string), payload)
}
