package approle

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

func secretIDFields(custom bool) map[string]*logical.FieldSchema {
	f := map[string]*logical.FieldSchema{
		"role_name": roleNameField(),
		"metadata": {Type: logical.TypeString,
			Description: "JSON object of string values to attach to the secret ID and the tokens it issues (logged in audit logs in plaintext)."},
		"cidr_list": {Type: logical.TypeCommaStringSlice,
			Description: "CIDR blocks the secret ID may be used from; a subset of the role's secret_id_bound_cidrs."},
		"token_bound_cidrs": {Type: logical.TypeCommaStringSlice,
			Description: "CIDR blocks the issued tokens may be used from; a subset of the role's token_bound_cidrs."},
		"num_uses": {Type: logical.TypeInt, Description: "Logins allowed with this secret ID (0 = unlimited); at most the role's secret_id_num_uses."},
		"ttl":      {Type: logical.TypeDurationSecond, Description: "Lifetime of this secret ID (0 = no expiry); at most the role's secret_id_ttl."},
	}
	if custom {
		f["secret_id"] = &logical.FieldSchema{Type: logical.TypeString, Description: "The secret ID to register."}
	}
	return f
}

func (b *backend) pathSecretID() *logical.Path {
	return &logical.Path{
		Pattern: rolePattern("/secret-id/?"),
		Fields:  secretIDFields(false),
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.secretIDGenerate,
			logical.ListOperation:   b.secretIDList,
		},
		HelpSynopsis: "Generate a secret ID for a role, or list the accessors of its secret IDs.",
		HelpDescription: `POST returns a new random secret ID with its accessor; the secret ID is
shown only in this response. LIST returns the accessors of the role's secret IDs.`,
	}
}

func (b *backend) pathCustomSecretID() *logical.Path {
	return &logical.Path{
		Pattern:         rolePattern("/custom-secret-id"),
		Fields:          secretIDFields(true),
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.secretIDCustom},
		HelpSynopsis:    "Register a secret ID of your choosing for a role.",
		HelpDescription: "Used in the push model: the secret ID is supplied rather than generated.",
	}
}

func (b *backend) secretIDGenerate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	id, err := newUUID()
	if err != nil {
		return nil, err
	}
	return b.issueSecretID(ctx, req, d, id)
}

func (b *backend) secretIDCustom(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	id := d.Get("secret_id").(string)
	if len(id) > maxInputLength {
		return nil, logical.InvalidRequest("secret_id is longer than maximum of %d bytes", maxInputLength)
	}
	if id != strings.TrimSpace(id) {
		// Login trims what it is given, so such a secret ID could never be used.
		return nil, logical.InvalidRequest("secret_id must not begin or end with whitespace")
	}
	return b.issueSecretID(ctx, req, d, id)
}

// issueSecretID registers secretID for the role and returns it once.
func (b *backend) issueSecretID(ctx context.Context, req *logical.Request, d *logical.FieldData, secretID string) (*logical.Response, error) {
	name, err := roleName(d)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(secretID) == "" {
		return nil, logical.InvalidRequest("missing secret_id")
	}
	lock := b.roleLock(name)
	lock.RLock()
	defer lock.RUnlock()
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.Errorf(logical.ErrUnsupportedPath, "role %q does not exist", name)
	}
	if !r.BindSecretID {
		return nil, logical.InvalidRequest("bind_secret_id is not set on the role")
	}
	e, err := secretSettings(d, r)
	if err != nil {
		return nil, err
	}
	ttl := b.effectiveSecretTTL(req, e.TTL)
	if err := b.registerSecret(ctx, req.Storage, r, secretID, e, ttl); err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]any{
		"secret_id":          secretID,
		"secret_id_accessor": e.Accessor,
		"secret_id_ttl":      seconds(ttl),
		"secret_id_num_uses": e.NumUses,
	}}, nil
}

// effectiveSecretTTL caps a secret ID TTL by the mount's max lease TTL, as
// Vault does (0 stays "no expiry").
func (b *backend) effectiveSecretTTL(req *logical.Request, ttl time.Duration) time.Duration {
	if maxTTL := b.maxLeaseTTL(req); maxTTL > 0 && (ttl < 0 || ttl > maxTTL) {
		return maxTTL
	}
	return ttl
}

// secretSettings validates the settings of a new secret ID against its
// role and returns the record to store.
func secretSettings(d *logical.FieldData, r *role) (*secretEntry, error) {
	cidrs := d.Get("cidr_list").([]string)
	if err := checkSubset("cidr_list", cidrs, "secret_id_bound_cidrs", r.SecretIDBoundCIDRs); err != nil {
		return nil, err
	}
	tokenCIDRs := d.Get("token_bound_cidrs").([]string)
	if err := checkSubset("token_bound_cidrs", tokenCIDRs, "token_bound_cidrs", r.TokenBoundCIDRs); err != nil {
		return nil, err
	}
	numUses := r.SecretIDNumUses
	if v, ok, _ := d.GetOk("num_uses"); ok {
		numUses = v.(int)
		if numUses < 0 {
			return nil, logical.InvalidRequest("num_uses cannot be negative")
		}
		if r.SecretIDNumUses > 0 && (numUses == 0 || numUses > r.SecretIDNumUses) {
			return nil, logical.InvalidRequest("num_uses cannot be higher than the role's secret_id_num_uses")
		}
	}
	ttl := r.SecretIDTTL
	if v, ok, _ := d.GetOk("ttl"); ok {
		ttl = v.(time.Duration)
		if r.SecretIDTTL > 0 && (ttl == 0 || ttl > r.SecretIDTTL) {
			return nil, logical.InvalidRequest("ttl cannot be longer than the role's secret_id_ttl")
		}
	}
	meta, err := parseMetadata(d.Get("metadata").(string))
	if err != nil {
		return nil, err
	}
	return &secretEntry{NumUses: numUses, TTL: ttl, Metadata: meta, CIDRList: cidrs, TokenBoundCIDRs: tokenCIDRs}, nil
}

// checkSubset validates cidrs and, when the role restricts the same thing
// (roleCIDRs non-empty), checks every block lies inside one of the role's.
func checkSubset(name string, cidrs []string, roleName string, roleCIDRs []string) error {
	if err := tokenutil.ValidateCIDRs(cidrs); err != nil {
		return err
	}
	if len(cidrs) > 0 && len(roleCIDRs) > 0 && !cidrSubset(cidrs, roleCIDRs) {
		return logical.InvalidRequest("%s %q must be a subset of the role's %s %q", name, cidrs, roleName, roleCIDRs)
	}
	return nil
}

// parseMetadata accepts what Vault does: a JSON object of strings (plain
// or base64-encoded), or comma-separated key=value pairs.
func parseMetadata(s string) (map[string]string, error) {
	out := map[string]string{}
	s = strings.TrimSpace(s)
	if s == "" {
		return out, nil
	}
	if !utf8.ValidString(s) {
		return nil, logical.InvalidRequest("failed to parse metadata: it must be valid UTF-8")
	}
	if raw, err := base64.StdEncoding.DecodeString(s); err == nil && json.Valid(raw) {
		s = string(raw)
	}
	if strings.HasPrefix(s, "{") {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, logical.InvalidRequest("failed to parse metadata: it must be a JSON object of string values")
		}
		return out, nil
	}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, logical.InvalidRequest("failed to parse metadata: use a JSON object or key=value pairs")
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func (b *backend) secretIDList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name, err := roleName(d)
	if err != nil {
		return nil, err
	}
	lock := b.roleLock(name)
	lock.RLock()
	defer lock.RUnlock()
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("role %q does not exist", name)
	}
	hmacs, err := req.Storage.List(ctx, r.secretDir())
	if err != nil {
		return nil, err
	}
	accessors := make([]string, 0, len(hmacs))
	for _, h := range hmacs {
		e, err := readSecret(ctx, req.Storage, r.secretKey(h))
		if err != nil {
			return nil, err
		}
		if e != nil {
			accessors = append(accessors, e.Accessor)
		}
	}
	return logical.ListResponse(accessors), nil
}
