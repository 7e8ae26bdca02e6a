package approle

import (
	"context"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathRoleID() *logical.Path {
	return &logical.Path{
		Pattern: rolePattern("/role-id"),
		Fields: map[string]*logical.FieldSchema{
			"role_name": roleNameField(),
			"role_id":   {Type: logical.TypeString, Description: "The role ID to set."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.roleIDRead,
			logical.UpdateOperation: b.roleIDUpdate,
		},
		HelpSynopsis:    "Read or set the role ID of a role.",
		HelpDescription: "The role ID identifies the role at login. A custom value must not be used by another role.",
	}
}

func (b *backend) roleIDRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name, err := roleName(d)
	if err != nil {
		return nil, err
	}
	lock := b.roleLock(name)
	lock.RLock()
	defer lock.RUnlock()
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil || r == nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]any{"role_id": r.RoleID}}, nil
}

func (b *backend) roleIDUpdate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name, err := roleName(d)
	if err != nil {
		return nil, err
	}
	lock := b.roleLock(name)
	lock.Lock()
	defer lock.Unlock()
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.Errorf(logical.ErrUnsupportedPath, "role %q does not exist", name)
	}
	id := strings.TrimSpace(d.Get("role_id").(string))
	if id == "" {
		return nil, logical.InvalidRequest("missing role_id")
	}
	previous := r.RoleID
	r.RoleID = id
	return nil, b.saveRole(ctx, req.Storage, r, previous)
}
