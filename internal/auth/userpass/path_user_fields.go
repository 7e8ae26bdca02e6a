package userpass

import (
	"context"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathUserPassword() *logical.Path {
	return &logical.Path{
		Pattern: "users/" + logical.GenericNameRegex("username") + "/password",
		Fields: map[string]*logical.FieldSchema{
			"username":      {Type: logical.TypeString, Description: "Username of the user (case-insensitive)."},
			"password":      {Type: logical.TypeString, Description: "New password (at most 72 bytes)."},
			"password_hash": {Type: logical.TypeString, Description: "New password as a bcrypt hash (cost 5 to 12). Mutually exclusive with password."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.updatePassword},
		HelpSynopsis:    "Reset a user's password.",
		HelpDescription: `Sets the user's password, from a plain password (hashed with bcrypt) or a bcrypt password_hash.`,
	}
}

func (b *backend) pathUserPolicies() *logical.Path {
	return &logical.Path{
		Pattern: "users/" + logical.GenericNameRegex("username") + "/policies",
		Fields: map[string]*logical.FieldSchema{
			"username":       {Type: logical.TypeString, Description: "Username of the user (case-insensitive)."},
			"token_policies": {Type: logical.TypeCommaStringSlice, Description: "Policies of the tokens the user's logins receive."},
			"policies":       {Type: logical.TypeCommaStringSlice, Description: "Deprecated: use token_policies."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.updatePolicies},
		HelpSynopsis:    "Update the policies of a user.",
		HelpDescription: `Replaces the token policies of the user.`,
	}
}

// modifyUser applies fn to an existing user under its lock and stores it.
func (b *backend) modifyUser(ctx context.Context, req *logical.Request, d *logical.FieldData, fn func(*user) error) (*logical.Response, error) {
	name := usernameOf(d)
	lock := b.userLock(name)
	lock.Lock()
	defer lock.Unlock()
	u, err := readUser(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, logical.InvalidRequest("username does not exist")
	}
	if err := fn(u); err != nil {
		return nil, err
	}
	return nil, writeUser(ctx, req.Storage, name, u)
}

func (b *backend) updatePassword(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.modifyUser(ctx, req, d, func(u *user) error { return b.setPassword(u, d) })
}

// updatePolicies sets token_policies (or the deprecated policies, which
// then also shows in reads), as Vault does; sending neither changes nothing.
func (b *backend) updatePolicies(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.modifyUser(ctx, req, d, func(u *user) error {
		if err := u.Params.Parse(d); err != nil {
			return err
		}
		upgrade(d, "policies", "token_policies", &u.Policies, u.TokenPolicies)
		return nil
	})
}
