package approle

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// Storage keys and prefixes (see the package doc).
const (
	saltKey             = "salt"
	rolePrefix          = "role/"
	roleIDPrefix        = "role_id/"
	secretIDPrefix      = "secret_id/"
	secretIDLocalPrefix = "secret_id_local/"
	accessorPrefix      = "accessor/"
	accessorLocalPrefix = "accessor_local/"
)

// maxInputLength caps role names, role IDs and secret IDs (Vault's limit on
// HMAC input).
const maxInputLength = 4096

var _ logical.Backend = (*backend)(nil)
var _ logical.Initializer = (*backend)(nil)

// backend is one AppRole mount.
type backend struct {
	*logical.Framework
	system logical.SystemView
	now    func() time.Time

	saltMu sync.Mutex
	salt   atomic.Pointer[[]byte]

	roleLocks   [256]sync.RWMutex
	secretLocks [256]sync.Mutex
	roleIDMu    sync.Mutex
	tidying     atomic.Bool

	// roleCache holds decoded roles for login (see cachedRole).
	roleCache    sync.Map // storage key -> *cachedEntry
	roleCacheLen atomic.Int64
}

// Factory builds the AppRole auth method for one mount.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, errors.New("approle: nil backend config")
	}
	b := &backend{system: conf.System, now: time.Now}
	paths := []*logical.Path{b.pathLogin(), b.pathRoleList(), b.pathRole(), b.pathRoleID(),
		b.pathSecretID(), b.pathCustomSecretID(), b.pathSecretIDLookup(), b.pathSecretIDDestroy(),
		b.pathAccessorLookup(), b.pathAccessorDestroy(), b.pathTidy()}
	paths = append(paths, b.fieldPaths()...)
	b.Framework = (&logical.Framework{
		PathList:  paths,
		Help:      backendHelp,
		Special:   &logical.SpecialPaths{Unauthenticated: []string{"login", "login/*"}},
		AuthRenew: b.renew,
	}).Compile()
	return b, nil
}

const backendHelp = `The AppRole auth method lets machines and applications log in with a role ID
and a secret ID issued for a role. Roles carry the token settings (policies,
TTLs, bound CIDRs) and the secret-ID constraints (use count, TTL, CIDRs).`

// Initialize creates the mount salt if it does not exist yet.
func (b *backend) Initialize(ctx context.Context, s logical.Storage) error {
	_, err := b.loadSalt(ctx, s)
	return err
}

// loadSalt returns the mount salt, creating and persisting it on first use.
func (b *backend) loadSalt(ctx context.Context, s logical.Storage) ([]byte, error) {
	if p := b.salt.Load(); p != nil {
		return *p, nil
	}
	b.saltMu.Lock()
	defer b.saltMu.Unlock()
	if p := b.salt.Load(); p != nil {
		return *p, nil
	}
	var rec struct {
		Key []byte `json:"key"`
	}
	found, err := logical.GetJSON(ctx, s, saltKey, &rec)
	if err != nil {
		return nil, fmt.Errorf("approle: read salt: %w", err)
	}
	if !found || len(rec.Key) == 0 {
		if rec.Key, err = randomBytes(32); err != nil {
			return nil, err
		}
		if err := logical.PutJSON(ctx, s, saltKey, &rec); err != nil {
			return nil, fmt.Errorf("approle: store salt: %w", err)
		}
	}
	b.salt.Store(&rec.Key)
	return rec.Key, nil
}

// saltedKey returns prefix + hex(HMAC-SHA256(salt, value)).
func (b *backend) saltedKey(ctx context.Context, s logical.Storage, prefix, value string) (string, error) {
	salt, err := b.loadSalt(ctx, s)
	if err != nil {
		return "", err
	}
	return prefix + hmacHex(salt, value), nil
}

// hmacHex is hex(HMAC-SHA256(key, value)).
func hmacHex(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0]))
}

func randomBytes(n int) ([]byte, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("approle: random: %w", err)
	}
	return buf, nil
}

// newUUID returns a random (version 4) UUID string from crypto/rand.
func newUUID() (string, error) {
	u, err := randomBytes(16)
	if err != nil {
		return "", err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

// maxLeaseTTL is the mount's effective maximum TTL.
func (b *backend) maxLeaseTTL(req *logical.Request) time.Duration {
	if req != nil && req.MountConfig.MaxLeaseTTL > 0 {
		return req.MountConfig.MaxLeaseTTL
	}
	if b.system != nil {
		return b.system.MaxLeaseTTL()
	}
	return 0
}

func stripe(key string, n int) int {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

func (b *backend) roleLock(name string) *sync.RWMutex {
	return &b.roleLocks[stripe(name, len(b.roleLocks))]
}

func (b *backend) secretLock(secretHMAC string) *sync.Mutex {
	return &b.secretLocks[stripe(secretHMAC, len(b.secretLocks))]
}

// commit applies ops in one transaction when the view supports it, or in
// the given order otherwise (callers order them so that a partial apply
// keeps the package invariants).
func commit(ctx context.Context, s logical.Storage, ops []storage.Op) error {
	return storage.Apply(ctx, s, ops)
}

func putOp(key string, value []byte) storage.Op {
	return storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: key, Value: value}}
}

func deleteOp(key string) storage.Op {
	return storage.Op{Kind: storage.OpDelete, Entry: &storage.Entry{Key: key}}
}
