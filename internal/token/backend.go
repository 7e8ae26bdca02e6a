package token

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// opMap maps operations to handlers.
type opMap = map[logical.Operation]logical.OperationFunc

// Backend returns the auth/token/ HTTP paths, served from this store. The
// store ignores req.Storage and always uses its own view.
func (s *Store) Backend() logical.Backend { return s.framework }

// limitsFor returns the TTL bounds for a request: the auth/token mount's
// tuned values when core passes them, else the store's options.
func (s *Store) limitsFor(req *logical.Request) limits {
	lim := s.defaultLimits()
	if req.MountConfig.DefaultLeaseTTL > 0 {
		lim.def = req.MountConfig.DefaultLeaseTTL
	}
	if req.MountConfig.MaxLeaseTTL > 0 {
		lim.max = req.MountConfig.MaxLeaseTTL
	}
	return lim
}

func (s *Store) buildFramework() *logical.Framework {
	tok := func(desc string) map[string]*logical.FieldSchema {
		return map[string]*logical.FieldSchema{"token": {Type: logical.TypeString, Description: desc}}
	}
	acc := map[string]*logical.FieldSchema{"accessor": {Type: logical.TypeString, Required: true, Description: "Accessor of the token."}}
	incr := &logical.FieldSchema{Type: logical.TypeDurationSecond, Description: "Requested TTL extension; may be capped."}
	withIncr := func(m map[string]*logical.FieldSchema) map[string]*logical.FieldSchema {
		m["increment"] = incr
		return m
	}
	read, update, list := logical.ReadOperation, logical.UpdateOperation, logical.ListOperation
	paths := []*logical.Path{
		{Pattern: "accessors/?", Operations: opMap{list: s.handleAccessors}, HelpSynopsis: "List token accessors (sudo)."},
		{Pattern: "create-orphan", Fields: createFields(), Operations: opMap{update: s.handleCreate(createOrphan)}, HelpSynopsis: "Create an orphan token."},
		{Pattern: "create/" + logical.GenericNameRegex("role_name"), Fields: createFields(), Operations: opMap{update: s.handleCreate(createNormal)}, HelpSynopsis: "Create a token against a role."},
		{Pattern: "create", Fields: createFields(), Operations: opMap{update: s.handleCreate(createNormal)}, HelpSynopsis: "Create a token."},
		{Pattern: "lookup", Fields: tok("Token to look up; defaults to the caller's."), Operations: opMap{update: s.handleLookup, read: s.handleLookup}, HelpSynopsis: "Look up a token."},
		{Pattern: "lookup-self", Fields: tok("Ignored: the caller's token is looked up."), Operations: opMap{read: s.handleLookupSelf, update: s.handleLookupSelf}, HelpSynopsis: "Look up the caller's token."},
		{Pattern: "lookup-accessor", Fields: acc, Operations: opMap{update: s.handleLookupAccessor}, HelpSynopsis: "Look up a token by accessor."},
		{Pattern: "renew", Fields: withIncr(tok("Token to renew.")), Operations: opMap{update: s.handleRenew}, HelpSynopsis: "Renew a token."},
		{Pattern: "renew/(?P<token>.+)", Fields: withIncr(tok("Token to renew.")), Operations: opMap{update: s.handleRenew}, HelpSynopsis: "Renew a token."},
		{Pattern: "renew-self", Fields: withIncr(tok("Ignored: the caller's token is renewed.")), Operations: opMap{update: s.handleRenewSelf}, HelpSynopsis: "Renew the caller's token."},
		{Pattern: "renew-accessor", Fields: withIncr(map[string]*logical.FieldSchema{"accessor": acc["accessor"]}), Operations: opMap{update: s.handleRenewAccessor}, HelpSynopsis: "Renew a token by accessor."},
		{Pattern: "revoke", Fields: tok("Token to revoke with its children."), Operations: opMap{update: s.handleRevoke}, HelpSynopsis: "Revoke a token and its children."},
		{Pattern: "revoke-self", Fields: tok("Ignored: the caller's token is revoked."), Operations: opMap{update: s.handleRevokeSelf}, HelpSynopsis: "Revoke the caller's token and its children."},
		{Pattern: "revoke-accessor", Fields: acc, Operations: opMap{update: s.handleRevokeAccessor}, HelpSynopsis: "Revoke a token by accessor, with its children."},
		{Pattern: "revoke-orphan", Fields: tok("Token to revoke; its children become orphans."), Operations: opMap{update: s.handleRevokeOrphan}, HelpSynopsis: "Revoke a token, orphaning its children (sudo)."},
		{Pattern: "revoke-orphan/(?P<token>.+)", Fields: tok("Token to revoke; its children become orphans."), Operations: opMap{update: s.handleRevokeOrphan}, HelpSynopsis: "Revoke a token, orphaning its children (sudo)."},
		{Pattern: "tidy", Operations: opMap{update: s.handleTidy}, HelpSynopsis: "Remove expired tokens and dangling indexes."},
	}
	paths = append(paths, s.rolePaths()...)
	f := &logical.Framework{
		PathList: paths,
		Help:     "The token store: create, look up, renew and revoke tokens, and manage token roles.",
		Special:  &logical.SpecialPaths{Root: []string{"revoke-orphan", "revoke-orphan/*", "accessors", "accessors/*"}},
	}
	return f.Compile()
}

// lookupData renders an entry as Vault's token lookup data. id is the raw
// token when the caller presented it, "" for accessor lookups.
func (s *Store) lookupData(ctx context.Context, e *Entry, id string) map[string]any {
	now := s.now()
	var expire any
	if !e.ExpireTime.IsZero() {
		expire = e.ExpireTime
	}
	var meta any
	if len(e.Meta) > 0 {
		meta = e.Meta
	}
	data := map[string]any{
		"accessor":         e.Accessor,
		"creation_time":    e.CreationTime.Unix(),
		"creation_ttl":     secs(e.TTL),
		"display_name":     e.DisplayName,
		"entity_id":        e.EntityID,
		"expire_time":      expire,
		"explicit_max_ttl": secs(e.ExplicitMaxTTL),
		"id":               id,
		"issue_time":       e.CreationTime,
		"meta":             meta,
		"num_uses":         e.NumUses,
		"orphan":           e.Parent == "",
		"path":             e.Path,
		"policies":         e.Policies,
		"renewable":        e.Renewable,
		"ttl":              e.remaining(now),
		"type":             TokenType,
	}
	if e.Period > 0 {
		data["period"] = secs(e.Period)
	}
	if e.EntityID != "" && s.IdentityPolicies != nil {
		if ip := s.IdentityPolicies(ctx, e.EntityID); len(ip) > 0 {
			data["identity_policies"] = ip
		}
	}
	if len(e.BoundCIDRs) > 0 {
		data["bound_cidrs"] = e.BoundCIDRs
	}
	if e.Role != "" {
		data["role"] = e.Role
	}
	if !e.LastRenewal.IsZero() {
		data["last_renewal_time"] = e.LastRenewal.Unix()
		data["last_renewal"] = e.LastRenewal
	}
	return data
}

func (s *Store) handleLookup(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	raw := d.Get("token").(string)
	if raw == "" {
		raw = req.ClientToken
	}
	return s.lookupRaw(ctx, raw)
}

func (s *Store) handleLookupSelf(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return s.lookupRaw(ctx, req.ClientToken)
}

func (s *Store) lookupRaw(ctx context.Context, raw string) (*logical.Response, error) {
	e, err := s.Lookup(ctx, raw)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, ErrBadToken
	}
	return logical.DataResponse(s.lookupData(ctx, e, raw)), nil
}

func (s *Store) handleLookupAccessor(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	e, err := s.LookupAccessor(ctx, d.Get("accessor").(string))
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, ErrInvalidAccessor
	}
	return logical.DataResponse(s.lookupData(ctx, e, "")), nil
}

func (s *Store) handleAccessors(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	keys, err := s.view.List(ctx, accessorPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		var idx accessorIndex
		ok, err := logical.GetJSON(ctx, s.view, accessorPrefix+k, &idx)
		if err != nil {
			return nil, err
		}
		if ok && idx.Accessor != "" {
			out = append(out, idx.Accessor)
		}
	}
	sort.Strings(out)
	return logical.ListResponse(out), nil
}

func (s *Store) handleRenew(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	raw := d.Get("token").(string)
	if raw == "" {
		return nil, logical.InvalidRequest("missing token ID")
	}
	return s.renewRaw(ctx, req, raw, d.Get("increment").(time.Duration))
}

func (s *Store) handleRenewSelf(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return s.renewRaw(ctx, req, req.ClientToken, d.Get("increment").(time.Duration))
}

func (s *Store) renewRaw(ctx context.Context, req *logical.Request, raw string, incr time.Duration) (*logical.Response, error) {
	e, err := s.Lookup(ctx, raw)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, ErrTokenNotFound
	}
	return s.renewResponse(ctx, req, e.Hash, raw, incr)
}

func (s *Store) handleRenewAccessor(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	e, err := s.LookupAccessor(ctx, d.Get("accessor").(string))
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, ErrInvalidAccessor
	}
	return s.renewResponse(ctx, req, e.Hash, "", d.Get("increment").(time.Duration))
}

func (s *Store) renewResponse(ctx context.Context, req *logical.Request, hash, raw string, incr time.Duration) (*logical.Response, error) {
	e, ttl, warnings, err := s.renew(ctx, hash, incr, s.limitsFor(req), req.Conn)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Auth: authFor(e, raw, ttl), Warnings: warnings}, nil
}

func (s *Store) handleRevoke(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	raw := d.Get("token").(string)
	if raw == "" {
		return nil, logical.InvalidRequest("missing token ID")
	}
	return nil, s.Revoke(ctx, raw)
}

func (s *Store) handleRevokeSelf(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, s.Revoke(ctx, req.ClientToken)
}

func (s *Store) handleRevokeAccessor(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, s.RevokeAccessor(ctx, d.Get("accessor").(string))
}

func (s *Store) handleRevokeOrphan(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if !req.Sudo && !s.callerIsRoot(ctx, req) {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "root or sudo privileges required to revoke and orphan")
	}
	raw := d.Get("token").(string)
	if raw == "" {
		return nil, logical.InvalidRequest("missing token ID")
	}
	return nil, s.RevokeOrphan(ctx, raw)
}

// callerIsRoot reports whether the calling token holds the root policy.
func (s *Store) callerIsRoot(ctx context.Context, req *logical.Request) bool {
	e, err := s.Lookup(ctx, req.ClientToken)
	return err == nil && e != nil && IsRoot(e.Policies)
}

func (s *Store) handleTidy(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	n, err := s.Tidy(ctx)
	if err != nil {
		return nil, err
	}
	resp := &logical.Response{}
	resp.AddWarning("Tidy operation successfully completed; expired or revoked tokens removed: " + strconv.Itoa(n))
	return resp, nil
}
