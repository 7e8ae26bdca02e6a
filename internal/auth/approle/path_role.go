package approle

import (
	"context"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

// rolePattern is "role/<role_name>" followed by suffix.
func rolePattern(suffix string) string {
	return "role/" + logical.GenericNameRegex("role_name") + suffix
}

func roleNameField() *logical.FieldSchema {
	return &logical.FieldSchema{Type: logical.TypeString, Description: "Name of the role (at most 4096 bytes)."}
}

func (b *backend) pathRoleList() *logical.Path {
	return &logical.Path{
		Pattern:         "role/?",
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.roleList},
		HelpSynopsis:    "List the roles of this AppRole mount.",
		HelpDescription: "Returns the names of all roles.",
	}
}

func (b *backend) pathRole() *logical.Path {
	fields := map[string]*logical.FieldSchema{
		"role_name":      roleNameField(),
		"bind_secret_id": {Type: logical.TypeBool, Default: true, Description: "Require a secret_id at login (default true)."},
		"secret_id_bound_cidrs": {Type: logical.TypeCommaStringSlice,
			Description: "CIDR blocks (comma-separated or list) allowed to log in."},
		"bound_cidr_list":    {Type: logical.TypeCommaStringSlice, Description: `Deprecated: use "secret_id_bound_cidrs".`},
		"secret_id_num_uses": {Type: logical.TypeInt, Description: "Logins allowed per secret ID (0 = unlimited)."},
		"secret_id_ttl":      {Type: logical.TypeDurationSecond, Description: "Lifetime of secret IDs (0 = no expiry)."},
		"role_id":            {Type: logical.TypeString, Description: "Role ID to set instead of a random UUID."},
		"local_secret_ids": {Type: logical.TypeBool,
			Description: "Store secret IDs as cluster-local; only settable at creation."},
	}
	return &logical.Path{
		Pattern:        rolePattern(""),
		Fields:         tokenutil.AddFields(fields, true),
		ExistenceCheck: b.roleExists,
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.CreateOperation: b.roleWrite,
			logical.UpdateOperation: b.roleWrite,
			logical.ReadOperation:   b.roleRead,
			logical.DeleteOperation: b.roleDelete,
		},
		HelpSynopsis: "Create, read, update or delete a role.",
		HelpDescription: `A role holds the settings of the tokens its logins receive (token_*) and
the constraints its secret IDs carry (bind_secret_id, secret_id_bound_cidrs,
secret_id_num_uses, secret_id_ttl). At least one constraint must be enabled.`,
	}
}

func (b *backend) roleExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	r, err := loadRole(ctx, req.Storage, d.Get("role_name").(string))
	return r != nil, err
}

func (b *backend) roleList(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	keys, err := req.Storage.List(ctx, rolePrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

// roleName returns the validated, normalised role name of a request.
func roleName(d *logical.FieldData) (string, error) {
	name := d.Get("role_name").(string)
	switch {
	case name == "":
		return "", logical.InvalidRequest("missing role_name")
	case len(name) > maxInputLength:
		return "", logical.InvalidRequest("role_name is longer than maximum of %d bytes", maxInputLength)
	}
	return normalizeName(name), nil
}

func (b *backend) roleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
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
	return &logical.Response{Data: r.responseData()}, nil
}

func (b *backend) roleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name, err := roleName(d)
	if err != nil {
		return nil, err
	}
	lock := b.roleLock(name)
	lock.Lock()
	defer lock.Unlock()
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil || r == nil {
		return nil, err
	}
	return nil, b.deleteRole(ctx, req.Storage, r)
}

func (b *backend) roleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
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
	create := r == nil
	if create {
		if req.Operation != logical.CreateOperation {
			return nil, logical.Errorf(logical.ErrUnsupportedPath, "role name %q doesn't exist", name)
		}
		if r, err = newRole(name); err != nil {
			return nil, err
		}
	}
	previousRoleID := r.RoleID
	resp, err := b.applyRoleFields(req, d, r, create)
	if err != nil {
		return nil, err
	}
	if err := b.saveRole(ctx, req.Storage, r, previousRoleID); err != nil {
		return nil, err
	}
	return resp, nil
}

// newRole is a fresh role with Vault's creation defaults and a random role
// ID and HMAC key.
func newRole(name string) (*role, error) {
	key, err := randomBytes(32)
	if err != nil {
		return nil, err
	}
	id, err := newUUID()
	if err != nil {
		return nil, err
	}
	return &role{Name: name, RoleID: id, HMACKey: key, BindSecretID: true}, nil
}

// applyRoleFields copies the sent fields onto r and validates them. It
// returns a response carrying warnings, if any.
func (b *backend) applyRoleFields(req *logical.Request, d *logical.FieldData, r *role, create bool) (*logical.Response, error) {
	if err := r.Params.Parse(d); err != nil {
		return nil, err
	}
	trackDeprecated(d, r)
	if v, ok, _ := d.GetOk("local_secret_ids"); ok {
		if !create {
			return nil, logical.InvalidRequest("local_secret_ids can only be modified during role creation")
		}
		r.LocalSecretIDs = v.(bool)
	}
	if v, ok, _ := d.GetOk("role_id"); ok {
		r.RoleID = strings.TrimSpace(v.(string))
		if r.RoleID == "" {
			return nil, logical.InvalidRequest("invalid role_id supplied, or failed to generate a role_id")
		}
	}
	if v, ok, _ := d.GetOk("bind_secret_id"); ok {
		r.BindSecretID = v.(bool)
	}
	if v, ok := firstSent(d, "secret_id_bound_cidrs", "bound_cidr_list"); ok {
		r.SecretIDBoundCIDRs = v.([]string)
		if err := tokenutil.ValidateCIDRs(r.SecretIDBoundCIDRs); err != nil {
			return nil, err
		}
	}
	if v, ok, _ := d.GetOk("secret_id_num_uses"); ok {
		r.SecretIDNumUses = v.(int)
	}
	if r.SecretIDNumUses < 0 {
		return nil, logical.InvalidRequest("secret_id_num_uses cannot be negative")
	}
	if v, ok, _ := d.GetOk("secret_id_ttl"); ok {
		r.SecretIDTTL = v.(time.Duration)
	}
	return b.checkTokenLimits(req, r)
}

// checkTokenLimits compares the token settings with the mount's max TTL.
func (b *backend) checkTokenLimits(req *logical.Request, r *role) (*logical.Response, error) {
	maxTTL := b.maxLeaseTTL(req)
	if maxTTL > 0 && r.TokenPeriod > maxTTL {
		return nil, logical.InvalidRequest("period of %q is greater than the backend's maximum lease TTL of %q",
			r.TokenPeriod.String(), maxTTL.String())
	}
	if maxTTL > 0 && r.TokenMaxTTL > maxTTL {
		resp := &logical.Response{}
		resp.AddWarning("token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be truncated")
		return resp, nil
	}
	return nil, nil
}

// trackDeprecated keeps the deprecated policies/period mirrors in step with
// what the request set, as Vault's upgrade handling does.
func trackDeprecated(d *logical.FieldData, r *role) {
	if _, ok, _ := d.GetOk("policies"); ok {
		r.Policies = append([]string(nil), r.TokenPolicies...)
	} else if _, ok, _ := d.GetOk("token_policies"); ok {
		r.Policies = nil
	}
	if _, ok, _ := d.GetOk("period"); ok {
		r.Period = r.TokenPeriod
	} else if _, ok, _ := d.GetOk("token_period"); ok {
		r.Period = 0
	}
}

// firstSent returns the value of the first of names that was sent.
func firstSent(d *logical.FieldData, names ...string) (any, bool) {
	for _, n := range names {
		if v, ok, _ := d.GetOk(n); ok {
			return v, true
		}
	}
	return nil, false
}
