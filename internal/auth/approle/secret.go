package approle

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// secretEntry is the stored record of one secret ID (never the secret ID
// itself: it is stored under the HMAC of it).
type secretEntry struct {
	Accessor        string            `json:"secret_id_accessor"`
	NumUses         int               `json:"secret_id_num_uses"`
	TTL             time.Duration     `json:"secret_id_ttl"`
	CreationTime    time.Time         `json:"creation_time"`
	ExpirationTime  time.Time         `json:"expiration_time"`
	LastUpdatedTime time.Time         `json:"last_updated_time"`
	Metadata        map[string]string `json:"metadata"`
	CIDRList        []string          `json:"cidr_list"`
	TokenBoundCIDRs []string          `json:"token_bound_cidrs"`
}

// accessorEntry is the value stored under accessor/.
type accessorEntry struct {
	SecretIDHMAC string `json:"secret_id_hmac"`
	// SecretKey is the full storage key of the secret record.
	SecretKey string `json:"secret_key"`
}

// expired reports whether the secret ID's expiration time has passed.
func (e *secretEntry) expired(now time.Time) bool {
	return !e.ExpirationTime.IsZero() && !now.Before(e.ExpirationTime)
}

// responseData is the secret ID's properties as Vault's lookup shows them.
func (e *secretEntry) responseData() map[string]any {
	meta := e.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	return map[string]any{
		"secret_id_accessor": e.Accessor,
		"secret_id_num_uses": e.NumUses,
		"secret_id_ttl":      seconds(e.TTL),
		"creation_time":      e.CreationTime,
		"expiration_time":    e.ExpirationTime,
		"last_updated_time":  e.LastUpdatedTime,
		"metadata":           meta,
		"cidr_list":          nonNil(e.CIDRList),
		"token_bound_cidrs":  nonNil(e.TokenBoundCIDRs),
	}
}

// readSecret reads the record stored under key; nil when absent.
func readSecret(ctx context.Context, s logical.Storage, key string) (*secretEntry, error) {
	e := &secretEntry{}
	found, err := logical.GetJSON(ctx, s, key, e)
	if err != nil || !found {
		return nil, err
	}
	return e, nil
}

// registerSecret stores a new secret ID for r with its accessor and returns
// the stored record. ttl is the effective TTL (already capped by the mount).
func (b *backend) registerSecret(ctx context.Context, s logical.Storage, r *role, secretID string, e *secretEntry, ttl time.Duration) error {
	h := r.secretHMAC(secretID)
	key := r.secretKey(h)
	lock := b.secretLock(h)
	lock.Lock()
	defer lock.Unlock()
	if existing, err := s.Get(ctx, key); err != nil {
		return err
	} else if existing != nil {
		return logical.InvalidRequest("secret_id is already registered")
	}
	accessor, err := newUUID()
	if err != nil {
		return err
	}
	accKey, err := b.saltedKey(ctx, s, r.accessorPrefix(), accessor)
	if err != nil {
		return err
	}
	now := b.now().UTC()
	e.Accessor, e.CreationTime, e.LastUpdatedTime = accessor, now, now
	if ttl > 0 {
		e.ExpirationTime = now.Add(ttl)
	}
	rec, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("approle: encode secret: %w", err)
	}
	acc, err := json.Marshal(accessorEntry{SecretIDHMAC: h, SecretKey: key})
	if err != nil {
		return err
	}
	// Accessor first: without a transaction a crash leaves at worst an
	// orphan accessor, never a secret without one.
	return commit(ctx, s, []storage.Op{putOp(accKey, acc), putOp(key, rec)})
}

// destroySecret deletes the secret record with HMAC h of role r and its
// accessor, if present.
func (b *backend) destroySecret(ctx context.Context, s logical.Storage, r *role, h string) error {
	lock := b.secretLock(h)
	lock.Lock()
	defer lock.Unlock()
	return b.destroySecretLocked(ctx, s, r, h)
}

// destroySecretLocked is destroySecret for a caller holding the lock.
func (b *backend) destroySecretLocked(ctx context.Context, s logical.Storage, r *role, h string) error {
	key := r.secretKey(h)
	e, err := readSecret(ctx, s, key)
	if err != nil || e == nil {
		return err
	}
	return b.deleteSecretOps(ctx, s, r.accessorPrefix(), key, e.Accessor)
}

// deleteSecretOps deletes a secret record and then its accessor.
func (b *backend) deleteSecretOps(ctx context.Context, s logical.Storage, accPrefix, key, accessor string) error {
	ops := []storage.Op{deleteOp(key)}
	if accessor != "" {
		accKey, err := b.saltedKey(ctx, s, accPrefix, accessor)
		if err != nil {
			return err
		}
		ops = append(ops, deleteOp(accKey))
	}
	return commit(ctx, s, ops)
}

// liveSecret reads the secret record with HMAC h of role r, deleting it
// and returning nil when it has expired. The caller holds its lock.
func (b *backend) liveSecretLocked(ctx context.Context, s logical.Storage, r *role, h string) (*secretEntry, error) {
	key := r.secretKey(h)
	e, err := readSecret(ctx, s, key)
	if err != nil || e == nil {
		return nil, err
	}
	if e.expired(b.now()) {
		return nil, b.deleteSecretOps(ctx, s, r.accessorPrefix(), key, e.Accessor)
	}
	return e, nil
}

// useSecret spends one use of a limited secret ID: the record is re-read
// under its lock, decremented, or deleted with its accessor on its last
// use. It returns the record as it was before this use, or nil when the
// secret ID is gone or expired.
func (b *backend) useSecret(ctx context.Context, s logical.Storage, r *role, h string) (*secretEntry, error) {
	lock := b.secretLock(h)
	lock.Lock()
	defer lock.Unlock()
	e, err := b.liveSecretLocked(ctx, s, r, h)
	if err != nil || e == nil {
		return nil, err
	}
	key := r.secretKey(h)
	switch {
	case e.NumUses == 0:
		return e, nil // unlimited (cannot happen for callers, kept total)
	case e.NumUses == 1:
		return e, b.deleteSecretOps(ctx, s, r.accessorPrefix(), key, e.Accessor)
	}
	next := *e
	next.NumUses--
	next.LastUpdatedTime = b.now().UTC()
	return e, logical.PutJSON(ctx, s, key, &next)
}

// secretByAccessor resolves an accessor of role r to its secret HMAC; ""
// when the accessor is unknown or belongs to another role.
func (b *backend) secretByAccessor(ctx context.Context, s logical.Storage, r *role, accessor string) (string, error) {
	accKey, err := b.saltedKey(ctx, s, r.accessorPrefix(), accessor)
	if err != nil {
		return "", err
	}
	var acc accessorEntry
	found, err := logical.GetJSON(ctx, s, accKey, &acc)
	if err != nil || !found || r.secretKey(acc.SecretIDHMAC) != acc.SecretKey {
		return "", err
	}
	return acc.SecretIDHMAC, nil
}
