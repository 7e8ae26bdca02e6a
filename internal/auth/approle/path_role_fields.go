package approle

import (
	"context"
	"time"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

// fieldEndpoint is one of Vault's role/:role_name/<field> endpoints, which
// read, set and reset a single role setting so ACLs can delegate it.
type fieldEndpoint struct {
	suffix string
	fields map[string]*logical.FieldSchema
	read   func(r *role) map[string]any
	// set applies the sent value; it fails with "missing <field>" when the
	// field was not sent.
	set func(b *backend, req *logical.Request, d *logical.FieldData, r *role) error
	// reset restores the default; nil means the endpoint has no delete.
	reset func(r *role)
	help  string
}

func field(t logical.FieldType, desc string) *logical.FieldSchema {
	return &logical.FieldSchema{Type: t, Description: desc}
}

// tokenParam builds the endpoint of one token_* setting, set through
// tokenutil so validation is the same as on the role itself.
func tokenParam(suffix, name string, get func(p *tokenutil.Params) any, reset func(p *tokenutil.Params)) fieldEndpoint {
	return fieldEndpoint{
		suffix: suffix,
		fields: map[string]*logical.FieldSchema{name: tokenutil.Fields(false)[name]},
		read:   func(r *role) map[string]any { return map[string]any{name: get(&r.Params)} },
		set: func(_ *backend, _ *logical.Request, d *logical.FieldData, r *role) error {
			if _, ok, _ := d.GetOk(name); !ok {
				return logical.InvalidRequest("missing %s", name)
			}
			return r.Params.Parse(d)
		},
		reset: func(r *role) { reset(&r.Params) },
		help:  "Read, update or reset the " + name + " of a role.",
	}
}

func fieldEndpoints() []fieldEndpoint {
	return []fieldEndpoint{
		policiesEndpoint(),
		periodEndpoint(),
		tokenParam("token-ttl", "token_ttl",
			func(p *tokenutil.Params) any { return seconds(p.TokenTTL) }, func(p *tokenutil.Params) { p.TokenTTL = 0 }),
		tokenParam("token-max-ttl", "token_max_ttl",
			func(p *tokenutil.Params) any { return seconds(p.TokenMaxTTL) }, func(p *tokenutil.Params) { p.TokenMaxTTL = 0 }),
		tokenParam("token-num-uses", "token_num_uses",
			func(p *tokenutil.Params) any { return p.TokenNumUses }, func(p *tokenutil.Params) { p.TokenNumUses = 0 }),
		tokenParam("token-bound-cidrs", "token_bound_cidrs",
			func(p *tokenutil.Params) any { return nonNil(p.TokenBoundCIDRs) }, func(p *tokenutil.Params) { p.TokenBoundCIDRs = nil }),
		secretIDNumUsesEndpoint(),
		secretIDTTLEndpoint(),
		bindSecretIDEndpoint(),
		cidrEndpoint("secret-id-bound-cidrs", "secret_id_bound_cidrs"),
		cidrEndpoint("bound-cidr-list", "bound_cidr_list"),
		{
			suffix: "local-secret-ids",
			fields: map[string]*logical.FieldSchema{},
			read:   func(r *role) map[string]any { return map[string]any{"local_secret_ids": r.LocalSecretIDs} },
			help:   "Read whether a role's secret IDs are cluster-local.",
		},
	}
}

func secretIDNumUsesEndpoint() fieldEndpoint {
	return fieldEndpoint{
		suffix: "secret-id-num-uses",
		fields: map[string]*logical.FieldSchema{"secret_id_num_uses": field(logical.TypeInt, "Logins allowed per secret ID (0 = unlimited).")},
		read:   func(r *role) map[string]any { return map[string]any{"secret_id_num_uses": r.SecretIDNumUses} },
		set: func(_ *backend, _ *logical.Request, d *logical.FieldData, r *role) error {
			v, ok, _ := d.GetOk("secret_id_num_uses")
			if !ok {
				return logical.InvalidRequest("missing secret_id_num_uses")
			}
			if v.(int) < 0 {
				return logical.InvalidRequest("secret_id_num_uses cannot be negative")
			}
			r.SecretIDNumUses = v.(int)
			return nil
		},
		reset: func(r *role) { r.SecretIDNumUses = 0 },
		help:  "Read, update or reset the secret_id_num_uses of a role.",
	}
}

func secretIDTTLEndpoint() fieldEndpoint {
	return fieldEndpoint{
		suffix: "secret-id-ttl",
		fields: map[string]*logical.FieldSchema{"secret_id_ttl": field(logical.TypeDurationSecond, "Lifetime of secret IDs (0 = no expiry).")},
		read:   func(r *role) map[string]any { return map[string]any{"secret_id_ttl": seconds(r.SecretIDTTL)} },
		set: func(_ *backend, _ *logical.Request, d *logical.FieldData, r *role) error {
			v, ok, _ := d.GetOk("secret_id_ttl")
			if !ok {
				return logical.InvalidRequest("missing secret_id_ttl")
			}
			r.SecretIDTTL = v.(time.Duration)
			return nil
		},
		reset: func(r *role) { r.SecretIDTTL = 0 },
		help:  "Read, update or reset the secret_id_ttl of a role.",
	}
}

func bindSecretIDEndpoint() fieldEndpoint {
	return fieldEndpoint{
		suffix: "bind-secret-id",
		fields: map[string]*logical.FieldSchema{"bind_secret_id": field(logical.TypeBool, "Require a secret_id at login.")},
		read:   func(r *role) map[string]any { return map[string]any{"bind_secret_id": r.BindSecretID} },
		set: func(_ *backend, _ *logical.Request, d *logical.FieldData, r *role) error {
			v, ok, _ := d.GetOk("bind_secret_id")
			if !ok {
				return logical.InvalidRequest("missing bind_secret_id")
			}
			r.BindSecretID = v.(bool)
			return nil
		},
		reset: func(r *role) { r.BindSecretID = true },
		help:  "Read, update or reset the bind_secret_id of a role.",
	}
}

func policiesEndpoint() fieldEndpoint {
	return fieldEndpoint{
		suffix: "policies",
		fields: map[string]*logical.FieldSchema{
			"token_policies": tokenutil.Fields(false)["token_policies"],
			"policies":       tokenutil.Fields(true)["policies"],
		},
		read: func(r *role) map[string]any {
			m := map[string]any{"token_policies": nonNil(r.TokenPolicies)}
			if len(r.Policies) > 0 {
				m["policies"] = r.Policies
			}
			return m
		},
		set: func(_ *backend, _ *logical.Request, d *logical.FieldData, r *role) error {
			if _, ok := firstSent(d, "token_policies", "policies"); !ok {
				return logical.InvalidRequest("missing token_policies")
			}
			if err := r.Params.Parse(d); err != nil {
				return err
			}
			trackDeprecated(d, r)
			return nil
		},
		reset: func(r *role) { r.TokenPolicies, r.Policies = nil, nil },
		help:  "Read, update or reset the token_policies of a role.",
	}
}

func periodEndpoint() fieldEndpoint {
	return fieldEndpoint{
		suffix: "period",
		fields: map[string]*logical.FieldSchema{
			"token_period": tokenutil.Fields(false)["token_period"],
			"period":       tokenutil.Fields(true)["period"],
		},
		read: func(r *role) map[string]any {
			m := map[string]any{"token_period": seconds(r.TokenPeriod)}
			if r.Period > 0 {
				m["period"] = seconds(r.Period)
			}
			return m
		},
		set: func(b *backend, req *logical.Request, d *logical.FieldData, r *role) error {
			if _, ok := firstSent(d, "token_period", "period"); !ok {
				return logical.InvalidRequest("missing period")
			}
			if err := r.Params.Parse(d); err != nil {
				return err
			}
			trackDeprecated(d, r)
			_, err := b.checkTokenLimits(req, r)
			return err
		},
		reset: func(r *role) { r.TokenPeriod, r.Period = 0, 0 },
		help:  "Read, update or reset the token_period of a role.",
	}
}

// cidrEndpoint serves secret_id_bound_cidrs under its own and its
// deprecated name.
func cidrEndpoint(suffix, name string) fieldEndpoint {
	return fieldEndpoint{
		suffix: suffix,
		fields: map[string]*logical.FieldSchema{name: field(logical.TypeCommaStringSlice, "CIDR blocks allowed to log in.")},
		read:   func(r *role) map[string]any { return map[string]any{name: nonNil(r.SecretIDBoundCIDRs)} },
		set: func(_ *backend, _ *logical.Request, d *logical.FieldData, r *role) error {
			v, ok, _ := d.GetOk(name)
			if !ok || len(v.([]string)) == 0 {
				return logical.InvalidRequest("missing bound_cidr_list")
			}
			if err := tokenutil.ValidateCIDRs(v.([]string)); err != nil {
				return err
			}
			r.SecretIDBoundCIDRs = v.([]string)
			return nil
		},
		reset: func(r *role) { r.SecretIDBoundCIDRs = nil },
		help:  "Read, update or reset the CIDR blocks allowed to log in with a role.",
	}
}

// fieldPaths turns the endpoints into paths.
func (b *backend) fieldPaths() []*logical.Path {
	var out []*logical.Path
	for _, ep := range fieldEndpoints() {
		ep := ep
		fields := map[string]*logical.FieldSchema{"role_name": roleNameField()}
		for k, v := range ep.fields {
			fields[k] = v
		}
		ops := map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				return b.fieldRead(ctx, req, d, ep)
			},
		}
		if ep.set != nil {
			ops[logical.UpdateOperation] = func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				return b.fieldUpdate(ctx, req, d, ep)
			}
			ops[logical.DeleteOperation] = func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				return b.fieldReset(ctx, req, d, ep)
			}
		}
		out = append(out, &logical.Path{
			Pattern: rolePattern("/" + ep.suffix), Fields: fields, Operations: ops,
			HelpSynopsis: ep.help, HelpDescription: ep.help,
		})
	}
	return out
}

func (b *backend) fieldRead(ctx context.Context, req *logical.Request, d *logical.FieldData, ep fieldEndpoint) (*logical.Response, error) {
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
	resp := &logical.Response{Data: ep.read(r)}
	if ep.suffix == "bound-cidr-list" {
		resp.AddWarning(`The "bound_cidr_list" field is deprecated and will be removed. Please use "secret_id_bound_cidrs" instead.`)
	}
	return resp, nil
}

func (b *backend) fieldUpdate(ctx context.Context, req *logical.Request, d *logical.FieldData, ep fieldEndpoint) (*logical.Response, error) {
	return b.modifyRole(ctx, req, d, true, func(r *role) error { return ep.set(b, req, d, r) })
}

func (b *backend) fieldReset(ctx context.Context, req *logical.Request, d *logical.FieldData, ep fieldEndpoint) (*logical.Response, error) {
	return b.modifyRole(ctx, req, d, false, func(r *role) error { ep.reset(r); return nil })
}

// modifyRole loads a role under its write lock, applies fn and saves it. A
// missing role is a 404 when mustExist, otherwise a no-op.
func (b *backend) modifyRole(ctx context.Context, req *logical.Request, d *logical.FieldData, mustExist bool, fn func(r *role) error) (*logical.Response, error) {
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
		if mustExist {
			return nil, logical.Errorf(logical.ErrUnsupportedPath, "role %q does not exist", name)
		}
		return nil, nil
	}
	if err := fn(r); err != nil {
		return nil, err
	}
	return nil, b.saveRole(ctx, req.Storage, r, r.RoleID)
}
