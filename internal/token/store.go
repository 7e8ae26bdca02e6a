package token

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// Storage key prefixes inside the store's view.
const (
	saltKey        = "salt"
	idPrefix       = "id/"
	accessorPrefix = "accessor/"
	parentPrefix   = "parent/"
	rolePrefix     = "role/"
)

// Vault's system defaults, used when Options leave a limit at zero.
const (
	defaultTTL       = 768 * time.Hour
	defaultCacheSize = 1 << 17
)

// Options tune a Store. Zero values get defaults.
type Options struct {
	// Now is the clock (tests pass a fake one); defaults to time.Now.
	Now func() time.Time
	// DefaultTTL applies to non-root tokens created without a TTL; zero
	// means 768h.
	DefaultTTL time.Duration
	// MaxTTL caps TTLs and renewals of non-periodic tokens; zero means 768h.
	MaxTTL time.Duration
	// CacheSize bounds the number of cached entries; zero means 131072.
	CacheSize int
}

const numShards = 64

// shard is one stripe of the lookup cache. mu guards m; fill serialises
// storage reads that populate m with every mutation of the same stripe.
type shard struct {
	mu   sync.RWMutex
	m    map[[32]byte]*Entry
	fill sync.Mutex
}

// Store is the token store. Create it with NewStore.
type Store struct {
	view     logical.Storage
	opts     Options
	now      func() time.Time
	perShard int

	tokenKey    []byte // HMAC key for tokens, derived from the salt
	accessorKey []byte // HMAC key for accessors
	tokenPool   sync.Pool
	accPool     sync.Pool

	shards    [numShards]shard
	framework *logical.Framework

	// OnRevoke, if set, is called for every token being revoked, after it
	// stopped authenticating and before its entry is deleted (the lease
	// manager revokes the token's leases here). Set it before use.
	OnRevoke func(ctx context.Context, e *Entry)
	// IdentityPolicies, if set, returns the policies a token gets from its
	// identity entity and groups; lookups show them. Set it before use.
	IdentityPolicies func(ctx context.Context, entityID string) []string
	// RenewCheck, if set, is asked before a token minted by an auth method
	// login is renewed (see Renew). Set it before use.
	RenewCheck RenewCheckFunc
}

// NewStore opens the token store kept in view, creating its salt on first
// use.
func NewStore(view logical.Storage, opts Options) (*Store, error) {
	if view == nil {
		return nil, errors.New("token: nil storage view")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DefaultTTL <= 0 {
		opts.DefaultTTL = defaultTTL
	}
	if opts.MaxTTL <= 0 {
		opts.MaxTTL = defaultTTL
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = defaultCacheSize
	}
	salt, err := loadSalt(context.Background(), view)
	if err != nil {
		return nil, err
	}
	s := &Store{view: view, opts: opts, now: opts.Now, perShard: max(1, opts.CacheSize/numShards)}
	s.tokenKey = derive(salt, "kinko token v1")
	s.accessorKey = derive(salt, "kinko accessor v1")
	clear(salt)
	s.tokenPool.New = func() any { return &hasher{h: hmac.New(sha256.New, s.tokenKey)} }
	s.accPool.New = func() any { return &hasher{h: hmac.New(sha256.New, s.accessorKey)} }
	for i := range s.shards {
		s.shards[i].m = make(map[[32]byte]*Entry)
	}
	s.framework = s.buildFramework()
	return s, nil
}

func loadSalt(ctx context.Context, view logical.Storage) ([]byte, error) {
	e, err := view.Get(ctx, saltKey)
	if err != nil {
		return nil, fmt.Errorf("token: read salt: %w", err)
	}
	if e != nil {
		if len(e.Value) < 32 {
			return nil, errors.New("token: stored salt is too short")
		}
		return e.Value, nil
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("token: generate salt: %w", err)
	}
	if err := view.Put(ctx, &storage.Entry{Key: saltKey, Value: salt}); err != nil {
		return nil, fmt.Errorf("token: write salt: %w", err)
	}
	return salt, nil
}

func derive(salt []byte, label string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// hasher is a pooled HMAC with scratch space, so hashing a token does not
// allocate.
type hasher struct {
	h   hash.Hash
	buf []byte
	sum [32]byte
}

func sum(pool *sync.Pool, s string) [32]byte {
	hs := pool.Get().(*hasher)
	hs.h.Reset()
	hs.buf = append(hs.buf[:0], s...)
	hs.h.Write(hs.buf)
	hs.h.Sum(hs.sum[:0])
	out := hs.sum
	if cap(hs.buf) > 4096 {
		hs.buf = nil
	}
	pool.Put(hs)
	return out
}

func (s *Store) hashToken(raw string) [32]byte    { return sum(&s.tokenPool, raw) }
func (s *Store) hashAccessor(acc string) [32]byte { return sum(&s.accPool, acc) }

// HashID returns the keyed hash (hex) a raw token is stored under, the
// Entry.Hash it has or had: a way to recognise a token without keeping it.
func (s *Store) HashID(raw string) string {
	k := s.hashToken(raw)
	return hex.EncodeToString(k[:])
}

// decodeHash parses a hex hash; ok is false for anything else.
func decodeHash(h string) (k [32]byte, ok bool) {
	if len(h) != 64 {
		return k, false
	}
	if _, err := hex.Decode(k[:], []byte(h)); err != nil {
		return k, false
	}
	return k, true
}

func (s *Store) shard(k [32]byte) *shard { return &s.shards[k[0]%numShards] }

func (s *Store) cacheGet(k [32]byte) *Entry {
	sh := s.shard(k)
	sh.mu.RLock()
	e := sh.m[k]
	sh.mu.RUnlock()
	return e
}

// cachePut stores e; the caller holds the shard's fill lock.
func (s *Store) cachePut(k [32]byte, e *Entry) {
	sh := s.shard(k)
	sh.mu.Lock()
	if _, ok := sh.m[k]; !ok && len(sh.m) >= s.perShard {
		for victim := range sh.m {
			delete(sh.m, victim)
			break
		}
	}
	sh.m[k] = e
	sh.mu.Unlock()
}

// cacheDelete drops k; the caller holds the shard's fill lock.
func (s *Store) cacheDelete(k [32]byte) {
	sh := s.shard(k)
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

// Lookup returns the live entry of a raw token, or nil, nil when the token
// is unknown, expired or revoked. An expired token is revoked on the spot
// (a failure there is left to Tidy). The entry is shared: do not modify it.
func (s *Store) Lookup(ctx context.Context, raw string) (*Entry, error) {
	if raw == "" || len(raw) > maxTokenLen {
		return nil, nil
	}
	k := s.hashToken(raw)
	e := s.cacheGet(k)
	if e == nil {
		var err error
		if e, err = s.fill(ctx, k); err != nil || e == nil {
			return nil, err
		}
	}
	if now := s.now(); !e.valid(now) {
		if e.expired(now) {
			_, _ = s.revokeTree(ctx, e.Hash, "")
		}
		return nil, nil
	}
	return e, nil
}

// fill reads k from storage into the cache. Pending (being revoked) entries
// are returned but not cached.
func (s *Store) fill(ctx context.Context, k [32]byte) (*Entry, error) {
	sh := s.shard(k)
	sh.fill.Lock()
	defer sh.fill.Unlock()
	if e := s.cacheGet(k); e != nil {
		return e, nil
	}
	e, err := s.load(ctx, k)
	if err != nil || e == nil {
		return nil, err
	}
	if e.NumUses >= 0 {
		s.cachePut(k, e)
	}
	return e, nil
}

// load reads the entry stored for k, bypassing the cache.
func (s *Store) load(ctx context.Context, k [32]byte) (*Entry, error) {
	h := hex.EncodeToString(k[:])
	var e Entry
	ok, err := logical.GetJSON(ctx, s.view, idPrefix+h, &e)
	if err != nil || !ok {
		return nil, err
	}
	if !hmac.Equal([]byte(e.Hash), []byte(h)) {
		return nil, fmt.Errorf("token: entry %s... does not match its key", h[:8])
	}
	return &e, nil
}

// current returns the entry for k from the cache or storage; the caller
// holds the shard's fill lock.
func (s *Store) current(ctx context.Context, k [32]byte) (*Entry, error) {
	if e := s.cacheGet(k); e != nil {
		return e, nil
	}
	return s.load(ctx, k)
}

// LookupHash returns the live token whose hash (Entry.Hash, HashID) is h,
// or nil.
func (s *Store) LookupHash(ctx context.Context, h string) (*Entry, error) {
	return s.lookupHash(ctx, h)
}

// lookupHash returns the live entry named by a hex hash, or nil.
func (s *Store) lookupHash(ctx context.Context, h string) (*Entry, error) {
	k, ok := decodeHash(h)
	if !ok {
		return nil, nil
	}
	e := s.cacheGet(k)
	if e == nil {
		var err error
		if e, err = s.fill(ctx, k); err != nil || e == nil {
			return nil, err
		}
	}
	if !e.valid(s.now()) {
		return nil, nil
	}
	return e, nil
}

// accessorIndex is the value stored at accessor/<accessorHash>.
type accessorIndex struct {
	Accessor  string `json:"accessor"`
	TokenHash string `json:"token_hash"`
}

// accessorKeyFor is the storage key of an accessor's index entry.
func (s *Store) accessorKeyFor(acc string) string {
	k := s.hashAccessor(acc)
	return accessorPrefix + hex.EncodeToString(k[:])
}

// tokenHashForAccessor returns the token hash an accessor points to, or "".
func (s *Store) tokenHashForAccessor(ctx context.Context, acc string) (string, error) {
	if acc == "" || len(acc) > maxTokenLen {
		return "", nil
	}
	var idx accessorIndex
	ok, err := logical.GetJSON(ctx, s.view, s.accessorKeyFor(acc), &idx)
	if err != nil || !ok {
		return "", err
	}
	if !hmac.Equal([]byte(idx.Accessor), []byte(acc)) {
		return "", nil
	}
	return idx.TokenHash, nil
}

// LookupAccessor returns the live entry of the token an accessor belongs
// to, or nil, nil. The entry is shared: do not modify it.
func (s *Store) LookupAccessor(ctx context.Context, accessor string) (*Entry, error) {
	h, err := s.tokenHashForAccessor(ctx, accessor)
	if err != nil || h == "" {
		return nil, err
	}
	return s.lookupHash(ctx, h)
}

// put writes an entry; the caller holds the shard's fill lock.
func (s *Store) put(ctx context.Context, e *Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("token: encode entry: %w", err)
	}
	return s.view.Put(ctx, &storage.Entry{Key: idPrefix + e.Hash, Value: b})
}

// apply runs ops atomically when the view supports it, else in order.
func (s *Store) apply(ctx context.Context, ops []storage.Op) error {
	return storage.Apply(ctx, s.view, ops)
}

// UseToken spends one use of a limited token and returns its updated
// entry; the use that brings NumUses to 0 revokes the token (the returned
// entry then shows 0 uses left). It returns nil, nil when the token has no
// use left or is gone. Unlimited tokens are returned unchanged.
func (s *Store) UseToken(ctx context.Context, e *Entry) (*Entry, error) {
	if e == nil || e.NumUses < 0 {
		return nil, nil
	}
	if e.NumUses == 0 {
		return e, nil
	}
	k, ok := decodeHash(e.Hash)
	if !ok {
		return nil, nil
	}
	sh := s.shard(k)
	sh.fill.Lock()
	cur, err := s.current(ctx, k)
	if err != nil || !cur.valid(s.now()) || cur.NumUses == 0 {
		sh.fill.Unlock()
		return nil, err
	}
	next := cur.clone()
	next.NumUses--
	last := next.NumUses == 0
	if last {
		pending := cur.clone()
		pending.NumUses = revokePending
		err = s.put(ctx, pending)
	} else {
		err = s.put(ctx, next)
	}
	if err != nil {
		sh.fill.Unlock()
		return nil, fmt.Errorf("token: record use: %w", err)
	}
	if last {
		s.cacheDelete(k)
	} else {
		s.cachePut(k, next)
	}
	sh.fill.Unlock()
	if last {
		// The token is already marked revoked and cannot be used again; a
		// failure to finish here is left to Tidy.
		_, _ = s.revokeTree(ctx, e.Hash, "")
	}
	return next, nil
}
