package userpass

import (
	"context"
	"maps"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathUsersList() *logical.Path {
	return &logical.Path{
		Pattern:         "users/?",
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.listUsers},
		HelpSynopsis:    "List the users.",
		HelpDescription: `Lists the (lower-case) names of the users allowed to authenticate.`,
	}
}

func (b *backend) pathUsers() *logical.Path {
	fields := map[string]*logical.FieldSchema{
		"username": {Type: logical.TypeString, Description: "Username of the user (case-insensitive)."},
		"password": {Type: logical.TypeString,
			Description: "Password of the user (at most 72 bytes). Required on create unless password_hash is given."},
		"password_hash": {Type: logical.TypeString,
			Description: "Pre-computed bcrypt hash of the password (cost 5 to 12). Mutually exclusive with password."},
	}
	maps.Copy(fields, deprecatedFields())
	return &logical.Path{
		Pattern: "users/" + logical.GenericNameRegex("username"),
		Fields:  tokenutil.AddFields(fields, false),
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.readUser,
			logical.CreateOperation: b.writeUser,
			logical.UpdateOperation: b.writeUser,
			logical.DeleteOperation: b.deleteUser,
		},
		ExistenceCheck: b.userExists,
		HelpSynopsis:   "Manage users allowed to authenticate.",
		HelpDescription: `Create, read, update and delete users. A user carries a password (stored only
as a bcrypt hash) and the settings of the tokens its logins receive. Deleting
a user does not revoke the tokens it already holds.`,
	}
}

func usernameOf(d *logical.FieldData) string {
	return normalizeUsername(d.Get("username").(string))
}

func (b *backend) userExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	u, err := readUser(ctx, req.Storage, usernameOf(d))
	return u != nil, err
}

func (b *backend) listUsers(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	keys, err := req.Storage.List(ctx, userPrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (b *backend) readUser(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	u, err := readUser(ctx, req.Storage, usernameOf(d))
	if err != nil || u == nil {
		return nil, err
	}
	return logical.DataResponse(u.response()), nil
}

func (b *backend) deleteUser(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := usernameOf(d)
	lock := b.userLock(name)
	lock.Lock()
	defer lock.Unlock()
	return nil, req.Storage.Delete(ctx, userPrefix+name)
}

// writeUser creates a user or updates the fields sent. A create needs a
// password or a password_hash; an update keeps the password when neither
// is sent.
func (b *backend) writeUser(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := usernameOf(d)
	lock := b.userLock(name)
	lock.Lock()
	defer lock.Unlock()
	u, err := readUser(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if u == nil {
		if req.Operation == logical.UpdateOperation && !passwordSent(d) {
			// Core resolves create vs update with the existence check; an
			// update of a missing user (a race with delete) needs one too.
			return nil, logical.InvalidRequest("missing password")
		}
		u = &user{}
	}
	if err := u.parseTokenFields(d); err != nil {
		return nil, err
	}
	if u.PasswordHash == nil || passwordSent(d) {
		if err := b.setPassword(u, d); err != nil {
			return nil, err
		}
	}
	return nil, writeUser(ctx, req.Storage, name, u)
}

func passwordSent(d *logical.FieldData) bool {
	return d.Get("password").(string) != "" || d.Get("password_hash").(string) != ""
}

// setPassword sets u's hash from the password or password_hash field;
// exactly one must be sent.
func (b *backend) setPassword(u *user, d *logical.FieldData) error {
	password, hash := d.Get("password").(string), d.Get("password_hash").(string)
	var err error
	switch {
	case password != "" && hash != "":
		return logical.InvalidRequest("only one of password or password_hash may be provided")
	case password != "":
		u.PasswordHash, err = hashPassword(password, b.cost)
	case hash != "":
		u.PasswordHash, err = importHash(hash)
	default:
		return logical.InvalidRequest("missing password")
	}
	return err
}
