package jwt

import (
	"context"

	"github.com/kinko-dev/kinko/internal/logical"
)

// renew is the AuthRenew handler: a token from a JWT or OIDC login renews
// only while its role exists, and by the role's current token settings.
func (b *backend) renew(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	name, _ := req.Auth.InternalData["role"].(string)
	if name == "" {
		return nil, logical.InvalidRequest("failed to fetch role_name during renewal")
	}
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("role %q does not exist during renewal", name)
	}
	if err := r.Params.CheckPolicies(req.Auth); err != nil {
		return nil, err
	}
	return &logical.Response{Auth: r.Params.RenewAuth(req.Auth)}, nil
}
