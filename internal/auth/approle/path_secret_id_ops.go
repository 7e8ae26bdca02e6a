package approle

import (
	"context"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

func secretIDOpPath(suffix, field, synopsis string, handler logical.OperationFunc, destroy bool) *logical.Path {
	ops := map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: handler}
	if destroy {
		ops[logical.DeleteOperation] = handler
	}
	return &logical.Path{
		Pattern: rolePattern(suffix),
		Fields: map[string]*logical.FieldSchema{
			"role_name": roleNameField(),
			field:       {Type: logical.TypeString, Description: "The " + strings.ReplaceAll(field, "_", " ") + "."},
		},
		Operations:      ops,
		HelpSynopsis:    synopsis,
		HelpDescription: synopsis,
	}
}

func (b *backend) pathSecretIDLookup() *logical.Path {
	return secretIDOpPath("/secret-id/lookup/?", "secret_id", "Read the properties of a secret ID.", b.secretIDLookup, false)
}

func (b *backend) pathSecretIDDestroy() *logical.Path {
	return secretIDOpPath("/secret-id/destroy/?", "secret_id", "Destroy a secret ID.", b.secretIDDestroy, true)
}

func (b *backend) pathAccessorLookup() *logical.Path {
	return secretIDOpPath("/secret-id-accessor/lookup/?", "secret_id_accessor",
		"Read the properties of a secret ID by its accessor.", b.accessorLookup, false)
}

func (b *backend) pathAccessorDestroy() *logical.Path {
	return secretIDOpPath("/secret-id-accessor/destroy/?", "secret_id_accessor",
		"Destroy a secret ID by its accessor.", b.accessorDestroy, true)
}

// roleAndValue reads the role of a secret-ID operation (under its read
// lock, released by the returned func) and the named string field.
func (b *backend) roleAndValue(ctx context.Context, req *logical.Request, d *logical.FieldData, field string) (*role, string, func(), error) {
	name, err := roleName(d)
	if err != nil {
		return nil, "", nil, err
	}
	value := strings.TrimSpace(d.Get(field).(string))
	if value == "" {
		return nil, "", nil, logical.InvalidRequest("missing %s", field)
	}
	lock := b.roleLock(name)
	lock.RLock()
	r, err := loadRole(ctx, req.Storage, name)
	if err == nil && r == nil {
		err = logical.InvalidRequest("role %q does not exist", name)
	}
	if err != nil {
		lock.RUnlock()
		return nil, "", nil, err
	}
	return r, value, lock.RUnlock, nil
}

func (b *backend) secretIDLookup(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, secretID, unlock, err := b.roleAndValue(ctx, req, d, "secret_id")
	if err != nil {
		return nil, err
	}
	defer unlock()
	return b.lookupByHMAC(ctx, req, r, r.secretHMAC(secretID))
}

func (b *backend) accessorLookup(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, accessor, unlock, err := b.roleAndValue(ctx, req, d, "secret_id_accessor")
	if err != nil {
		return nil, err
	}
	defer unlock()
	h, err := b.secretByAccessor(ctx, req.Storage, r, accessor)
	if err != nil {
		return nil, err
	}
	if h == "" {
		return nil, logical.Errorf(logical.ErrNotFound, "failed to find accessor entry for secret_id_accessor: %q", accessor)
	}
	return b.lookupByHMAC(ctx, req, r, h)
}

// lookupByHMAC returns a secret ID's properties; nil when it does not
// exist (an expired one is deleted and reported as absent).
func (b *backend) lookupByHMAC(ctx context.Context, req *logical.Request, r *role, h string) (*logical.Response, error) {
	lock := b.secretLock(h)
	lock.Lock()
	defer lock.Unlock()
	e, err := b.liveSecretLocked(ctx, req.Storage, r, h)
	if err != nil || e == nil {
		return nil, err
	}
	return &logical.Response{Data: e.responseData()}, nil
}

func (b *backend) secretIDDestroy(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, secretID, unlock, err := b.roleAndValue(ctx, req, d, "secret_id")
	if err != nil {
		return nil, err
	}
	defer unlock()
	return nil, b.destroySecret(ctx, req.Storage, r, r.secretHMAC(secretID))
}

func (b *backend) accessorDestroy(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, accessor, unlock, err := b.roleAndValue(ctx, req, d, "secret_id_accessor")
	if err != nil {
		return nil, err
	}
	defer unlock()
	h, err := b.secretByAccessor(ctx, req.Storage, r, accessor)
	if err != nil {
		return nil, err
	}
	if h == "" {
		return nil, logical.Errorf(logical.ErrNotFound, "failed to find accessor entry for secret_id_accessor: %q", accessor)
	}
	lock := b.secretLock(h)
	lock.Lock()
	defer lock.Unlock()
	e, err := readSecret(ctx, req.Storage, r.secretKey(h))
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "invalid secret id accessor")
	}
	return nil, b.deleteSecretOps(ctx, req.Storage, r.accessorPrefix(), r.secretKey(h), e.Accessor)
}
