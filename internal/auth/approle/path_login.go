package approle

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

// errInvalidCredentials is every login failure that must not reveal which
// of the role ID and the secret ID was wrong (current Vault's wording).
var errInvalidCredentials = logical.InvalidRequest("invalid role or secret ID")

func (b *backend) pathLogin() *logical.Path {
	return &logical.Path{
		Pattern: "login",
		Fields: map[string]*logical.FieldSchema{
			"role_id":   {Type: logical.TypeString, Description: "Role ID of the role."},
			"secret_id": {Type: logical.TypeString, Default: "", Description: "A secret ID of the role (required when bind_secret_id is set)."},
		},
		Operations:   map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.login},
		HelpSynopsis: "Log in with a role ID and a secret ID.",
		HelpDescription: `role_id is always required; secret_id is required when the role has
bind_secret_id (the default). The role's CIDR bindings are checked too.`,
	}
}

// login validates the credentials and returns the token to mint. It reads
// the role_id index, the role and the secret record, and writes only for a
// secret ID with a use limit.
func (b *backend) login(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	roleID := strings.TrimSpace(d.Get("role_id").(string))
	if roleID == "" {
		return nil, logical.InvalidRequest("missing role_id")
	}
	if len(roleID) > maxInputLength {
		return nil, errInvalidCredentials
	}
	r, err := b.roleByID(ctx, req.Storage, roleID)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errInvalidCredentials
	}
	remote := ""
	if req.Conn != nil {
		remote = req.Conn.RemoteAddr
	}
	var sec *secretEntry
	if r.BindSecretID {
		secretID := strings.TrimSpace(d.Get("secret_id").(string))
		if secretID == "" {
			return nil, logical.InvalidRequest("missing secret_id")
		}
		if sec, err = b.checkSecretID(ctx, req, r, secretID, remote); err != nil {
			return nil, err
		}
	} else if err := checkRoleCIDRs(r, remote); err != nil {
		return nil, err
	}
	return &logical.Response{Auth: loginAuth(r, sec)}, nil
}

// checkSecretID validates a secret ID of r presented from remote and
// spends one of its uses when it has a limit. CIDR bindings are checked
// before a use is spent, so a refused attempt costs none.
func (b *backend) checkSecretID(ctx context.Context, req *logical.Request, r *role, secretID, remote string) (*secretEntry, error) {
	if len(secretID) > maxInputLength {
		return nil, errInvalidCredentials
	}
	h := r.secretHMAC(secretID)
	sec, err := readSecret(ctx, req.Storage, r.secretKey(h))
	if err != nil {
		return nil, err
	}
	if sec == nil {
		return nil, errInvalidCredentials
	}
	if sec.expired(b.now()) {
		// Removed under its lock; the result is refused either way.
		if _, err := b.dropExpired(ctx, req, r, h); err != nil {
			return nil, err
		}
		return nil, errInvalidCredentials
	}
	if err := checkSecretCIDRs(r, sec, remote); err != nil {
		return nil, err
	}
	if err := checkRoleCIDRs(r, remote); err != nil {
		return nil, err
	}
	if sec.NumUses == 0 {
		return sec, nil
	}
	if sec, err = b.useSecret(ctx, req.Storage, r, h); err != nil {
		return nil, err
	}
	if sec == nil {
		return nil, errInvalidCredentials
	}
	return sec, nil
}

// dropExpired deletes the secret ID with HMAC h, under its lock, if it has
// expired; it returns the record when it is still live.
func (b *backend) dropExpired(ctx context.Context, req *logical.Request, r *role, h string) (*secretEntry, error) {
	lock := b.secretLock(h)
	lock.Lock()
	defer lock.Unlock()
	return b.liveSecretLocked(ctx, req.Storage, r, h)
}

// checkSecretCIDRs enforces the secret ID's cidr_list, which must still be
// inside the role's secret_id_bound_cidrs.
func checkSecretCIDRs(r *role, sec *secretEntry, remote string) error {
	if len(sec.CIDRList) == 0 {
		return nil
	}
	if len(r.SecretIDBoundCIDRs) > 0 && !cidrSubset(sec.CIDRList, r.SecretIDBoundCIDRs) {
		return logical.InvalidRequest("failed to verify subset relationship between CIDR blocks on the role %q and CIDR blocks on the secret ID %q",
			r.SecretIDBoundCIDRs, sec.CIDRList)
	}
	if !tokenutil.RemoteAllowed(sec.CIDRList, remote) {
		return logical.InvalidRequest("source address %q unauthorized through CIDR restrictions on the secret ID", remote)
	}
	return nil
}

// checkRoleCIDRs enforces the role's secret_id_bound_cidrs.
func checkRoleCIDRs(r *role, remote string) error {
	if !tokenutil.RemoteAllowed(r.SecretIDBoundCIDRs, remote) {
		return logical.InvalidRequest("source address %q unauthorized by CIDR restrictions on the role", remote)
	}
	return nil
}

// loginAuth is the token request of a successful login. sec is nil for a
// role without bind_secret_id.
func loginAuth(r *role, sec *secretEntry) *logical.Auth {
	meta := make(map[string]string, 1)
	internal := map[string]any{"role_name": r.Name, roleIDTagKey: r.roleIDTag()}
	if sec != nil {
		for k, v := range sec.Metadata {
			meta[k] = v
		}
		internal["secret_id_accessor"] = sec.Accessor
	}
	meta["role_name"] = r.Name
	aliasMeta := make(map[string]string, len(meta))
	for k, v := range meta {
		aliasMeta[k] = v
	}
	a := &logical.Auth{
		Metadata:     meta,
		InternalData: internal,
		Alias:        &logical.Alias{Name: r.RoleID, Metadata: aliasMeta},
	}
	r.Params.PopulateAuth(a)
	if sec != nil && len(sec.TokenBoundCIDRs) > 0 {
		a.BoundCIDRs = append([]string(nil), sec.TokenBoundCIDRs...)
	}
	return a
}

// roleIDTagKey names, in a token's internal data, the tag of the role ID
// (and role) it logged in with.
const roleIDTagKey = "role_id_tag"

// roleIDTag is an HMAC of the role ID under the role's own key: it changes
// when the role ID is rotated or the role is deleted and created again,
// and reveals nothing about the role ID.
func (r *role) roleIDTag() string { return hmacHex(r.HMACKey, "role_id\x00"+r.RoleID) }

// renew answers core's renewal of a token a login minted. As Vault, the
// role must still exist and the token renews by the role's current
// token_ttl, token_max_ttl and token_period. Unlike Vault, a token whose
// role ID was rotated since (or whose role was deleted and re-created)
// is not renewed either: it logged in with credentials no longer valid.
func (b *backend) renew(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	name, _ := req.Auth.InternalData["role_name"].(string)
	if name == "" {
		return nil, logical.InvalidRequest("failed to fetch role_name during renewal")
	}
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, fmt.Errorf("approle: read role %q during renewal: %w", name, err)
	}
	if r == nil {
		return nil, logical.InvalidRequest("role %q does not exist during renewal", name)
	}
	if tag, ok := req.Auth.InternalData[roleIDTagKey].(string); ok &&
		subtle.ConstantTimeCompare([]byte(tag), []byte(r.roleIDTag())) != 1 {
		return nil, logical.InvalidRequest("the role ID of role %q has changed since login, not renewing", name)
	}
	return &logical.Response{Auth: r.Params.RenewAuth(req.Auth)}, nil
}
