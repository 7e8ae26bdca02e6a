package approle

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// role is the stored record of one AppRole.
type role struct {
	tokenutil.Params

	Name   string `json:"name"`
	RoleID string `json:"role_id"`
	// HMACKey keys the HMACs of this role's secret IDs; never shown.
	HMACKey            []byte        `json:"hmac_key"`
	BindSecretID       bool          `json:"bind_secret_id"`
	SecretIDBoundCIDRs []string      `json:"secret_id_bound_cidrs"`
	SecretIDNumUses    int           `json:"secret_id_num_uses"`
	SecretIDTTL        time.Duration `json:"secret_id_ttl"`
	LocalSecretIDs     bool          `json:"local_secret_ids"`
	// Policies and Period mirror token_policies and token_period when they
	// were set through the deprecated names, so reads show them as Vault does.
	Policies []string      `json:"policies,omitempty"`
	Period   time.Duration `json:"period,omitempty"`

	// dir caches secretDir() in records shared through the login cache
	// (set before the record is published, never written after).
	dir string
}

// secretPrefix is where the role's secret IDs live.
func (r *role) secretPrefix() string {
	if r.LocalSecretIDs {
		return secretIDLocalPrefix
	}
	return secretIDPrefix
}

func (r *role) accessorPrefix() string {
	if r.LocalSecretIDs {
		return accessorLocalPrefix
	}
	return accessorPrefix
}

// secretDir is the folder of the role's secret ID records.
func (r *role) secretDir() string {
	if r.dir != "" {
		return r.dir
	}
	return r.secretPrefix() + hmacHex(r.HMACKey, r.Name) + "/"
}

// secretKey is the storage key of the secret ID whose HMAC is h.
func (r *role) secretKey(h string) string { return r.secretDir() + h }

// secretHMAC is the HMAC of a secret ID under the role key.
func (r *role) secretHMAC(secretID string) string { return hmacHex(r.HMACKey, secretID) }

// validateConstraints checks the role has at least one login constraint.
func (r *role) validateConstraints() error {
	if r.BindSecretID || len(r.SecretIDBoundCIDRs) > 0 || len(r.TokenBoundCIDRs) > 0 {
		return nil
	}
	return logical.InvalidRequest("at least one constraint should be enabled on the role: " +
		"set bind_secret_id, secret_id_bound_cidrs or token_bound_cidrs")
}

// responseData is the role as Vault's role read shows it.
func (r *role) responseData() map[string]any {
	m := map[string]any{
		"bind_secret_id":        r.BindSecretID,
		"secret_id_bound_cidrs": nonNil(r.SecretIDBoundCIDRs),
		"secret_id_num_uses":    r.SecretIDNumUses,
		"secret_id_ttl":         seconds(r.SecretIDTTL),
		"local_secret_ids":      r.LocalSecretIDs,
	}
	r.Params.Response(m)
	if r.Period > 0 {
		m["period"] = seconds(r.Period)
	}
	if len(r.Policies) > 0 {
		m["policies"] = r.Policies
	}
	return m
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// normalizeName is the storage form of a role name (Vault lower-cases).
func normalizeName(name string) string { return strings.ToLower(name) }

// loadRole reads a role by name; nil when absent.
func loadRole(ctx context.Context, s logical.Storage, name string) (*role, error) {
	r := &role{}
	found, err := logical.GetJSON(ctx, s, rolePrefix+normalizeName(name), r)
	if err != nil || !found {
		return nil, err
	}
	return r, nil
}

// roleByID resolves a role ID presented at login; nil when unknown. The
// returned record may be shared with concurrent logins: read-only.
func (b *backend) roleByID(ctx context.Context, s logical.Storage, roleID string) (*role, error) {
	key, err := b.saltedKey(ctx, s, roleIDPrefix, roleID)
	if err != nil {
		return nil, err
	}
	name, found, err := readIndex(ctx, s, key)
	if err != nil || !found {
		return nil, err
	}
	r, err := b.cachedRole(ctx, s, name)
	if err != nil || r == nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(r.RoleID), []byte(roleID)) != 1 {
		return nil, nil // stale index
	}
	return r, nil
}

// maxCachedRoles bounds the login cache; it is emptied when full.
const maxCachedRoles = 4096

// cachedEntry is a decoded role and the exact stored bytes it came from.
type cachedEntry struct {
	raw []byte
	r   *role
}

// cachedRole reads a role for login. The storage read always happens; the
// JSON decoding is skipped when the stored bytes equal those of the cached
// record, so the cache can never serve a stale role.
func (b *backend) cachedRole(ctx context.Context, s logical.Storage, name string) (*role, error) {
	key := rolePrefix + normalizeName(name)
	e, err := s.Get(ctx, key)
	if err != nil || e == nil {
		return nil, err
	}
	if v, ok := b.roleCache.Load(key); ok {
		if c := v.(*cachedEntry); bytes.Equal(c.raw, e.Value) {
			return c.r, nil
		}
	}
	r := &role{}
	if err := json.Unmarshal(e.Value, r); err != nil {
		return nil, fmt.Errorf("approle: decode role: %w", err)
	}
	r.dir = r.secretDir()
	if b.roleCacheLen.Add(1) > maxCachedRoles {
		b.roleCache.Clear()
		b.roleCacheLen.Store(0)
	}
	b.roleCache.Store(key, &cachedEntry{raw: e.Value, r: r})
	return r, nil
}

// readIndex reads the role name stored under a role_id index key.
func readIndex(ctx context.Context, s logical.Storage, key string) (string, bool, error) {
	e, err := s.Get(ctx, key)
	if err != nil || e == nil {
		return "", false, err
	}
	return string(e.Value), true, nil
}

// saveRole validates r and writes it with its role_id index, replacing the
// index of previousRoleID when the role ID changed. The caller holds the
// role's write lock.
func (b *backend) saveRole(ctx context.Context, s logical.Storage, r *role, previousRoleID string) error {
	if err := r.validateConstraints(); err != nil {
		return err
	}
	if r.RoleID == "" {
		return logical.InvalidRequest("role_id must not be empty")
	}
	if len(r.RoleID) > maxInputLength {
		return logical.InvalidRequest("role_id is longer than the maximum of %d bytes", maxInputLength)
	}
	b.roleIDMu.Lock()
	defer b.roleIDMu.Unlock()
	newKey, err := b.saltedKey(ctx, s, roleIDPrefix, r.RoleID)
	if err != nil {
		return err
	}
	owner, found, err := readIndex(ctx, s, newKey)
	if err != nil {
		return err
	}
	if found && owner != r.Name {
		if other, err := loadRole(ctx, s, owner); err != nil {
			return err
		} else if other != nil && other.RoleID == r.RoleID {
			return logical.InvalidRequest("role_id already in use")
		}
	}
	return b.writeRole(ctx, s, r, newKey, previousRoleID)
}

// writeRole stores the role record and index (the index first, and the
// stale index last, when there is no transaction: an index is only trusted
// after the role it names confirms it).
func (b *backend) writeRole(ctx context.Context, s logical.Storage, r *role, newKey, previousRoleID string) error {
	rec, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("approle: encode role: %w", err)
	}
	ops := []storage.Op{putOp(newKey, []byte(r.Name)), putOp(rolePrefix+r.Name, rec)}
	if previousRoleID != "" && previousRoleID != r.RoleID {
		oldKey, err := b.saltedKey(ctx, s, roleIDPrefix, previousRoleID)
		if err != nil {
			return err
		}
		ops = append(ops, deleteOp(oldKey))
	}
	return commit(ctx, s, ops)
}

// deleteRole removes a role, its secret IDs and accessors, and its index.
// The caller holds the role's write lock.
func (b *backend) deleteRole(ctx context.Context, s logical.Storage, r *role) error {
	hmacs, err := s.List(ctx, r.secretDir())
	if err != nil {
		return err
	}
	for _, h := range hmacs {
		if err := b.destroySecret(ctx, s, r, h); err != nil {
			return err
		}
	}
	idxKey, err := b.saltedKey(ctx, s, roleIDPrefix, r.RoleID)
	if err != nil {
		return err
	}
	b.roleIDMu.Lock()
	defer b.roleIDMu.Unlock()
	ops := []storage.Op{deleteOp(rolePrefix + r.Name)}
	if owner, found, err := readIndex(ctx, s, idxKey); err != nil {
		return err
	} else if found && owner == r.Name {
		ops = append(ops, deleteOp(idxKey))
	}
	b.roleCache.Delete(rolePrefix + r.Name)
	return commit(ctx, s, ops)
}
