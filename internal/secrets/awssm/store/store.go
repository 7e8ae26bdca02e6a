package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Options configure a Store.
type Options struct {
	// Storage holds the records; required.
	Storage logical.Storage
	// Region and AccountID go into every ARN; required.
	Region    string
	AccountID string
	// Partition of the ARNs; "kinko" when empty.
	Partition string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the source of ARN suffixes and generated version IDs;
	// crypto/rand when nil.
	Rand io.Reader
	// MaxVersions caps the versions one secret may hold after pruning
	// (LimitExceededException beyond); 200 when zero.
	MaxVersions int
	// CacheSize caps the decoded secrets kept in memory; 10000 when zero,
	// no cache when negative.
	CacheSize int
}

const (
	keyPrefix    = "secret/"
	lockStripes  = 256
	defaultCache = 10000
)

// Store is the data model of kinko's Secrets Manager-compatible secrets.
// It is safe for concurrent use. See the package documentation for its
// contract.
type Store struct {
	st          logical.Storage
	arnPrefix   string
	region      string
	now         func() time.Time
	rand        io.Reader
	maxVersions int
	cacheSize   int

	locks [lockStripes]sync.RWMutex

	cacheMu sync.RWMutex
	cache   map[string]*cached
}

// cached is an immutable decoded record with its label index.
type cached struct {
	s       *Secret
	byLabel map[string]*Version
}

// New returns a Store over o.Storage.
func New(o Options) (*Store, error) {
	if o.Storage == nil {
		return nil, errors.New("awssm store: no storage")
	}
	if o.Region == "" || o.AccountID == "" || strings.Contains(o.Region+o.AccountID, ":") {
		return nil, errors.New("awssm store: region and account ID are required and may not contain ':'")
	}
	s := &Store{
		st:          o.Storage,
		region:      o.Region,
		now:         o.Now,
		rand:        o.Rand,
		maxVersions: o.MaxVersions,
		cacheSize:   o.CacheSize,
		cache:       make(map[string]*cached),
	}
	part := o.Partition
	if part == "" {
		part = "kinko"
	}
	s.arnPrefix = fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:", part, o.Region, o.AccountID)
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.maxVersions <= 0 {
		s.maxVersions = 2 * KeepVersions
	}
	if s.cacheSize == 0 {
		s.cacheSize = defaultCache
	}
	return s, nil
}

// clock returns the current time in UTC at millisecond precision, the
// precision of the API's timestamps.
func (s *Store) clock() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

func (s *Store) lockFor(name string) *sync.RWMutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return &s.locks[h.Sum32()%lockStripes]
}

// storageKey escapes '/' (never '%', which names cannot contain) so all
// records are direct children of secret/.
func storageKey(name string) string {
	return keyPrefix + strings.ReplaceAll(name, "/", "%2F")
}

func nameFromKey(k string) string { return strings.ReplaceAll(k, "%2F", "/") }

// get returns the cached record of name, loading it from storage on a miss;
// nil when absent. The caller must not modify the result.
func (s *Store) get(ctx context.Context, name string) (*cached, error) {
	if c := s.cacheGet(name); c != nil {
		return c, nil
	}
	l := s.lockFor(name)
	l.RLock()
	defer l.RUnlock()
	return s.load(ctx, name)
}

// load reads name from storage (or the cache); the caller holds name's
// lock, so no writer can slip a newer record in between.
func (s *Store) load(ctx context.Context, name string) (*cached, error) {
	if c := s.cacheGet(name); c != nil {
		return c, nil
	}
	var sec Secret
	ok, err := logical.GetJSON(ctx, s.st, storageKey(name), &sec)
	if err != nil || !ok {
		return nil, err
	}
	if sec.Name != name {
		return nil, fmt.Errorf("awssm store: record %q holds secret %q", storageKey(name), sec.Name)
	}
	if sec.Versions == nil {
		sec.Versions = map[string]*Version{}
	}
	c := newCached(&sec)
	s.cachePut(name, c)
	return c, nil
}

func newCached(sec *Secret) *cached {
	c := &cached{s: sec, byLabel: make(map[string]*Version, 4)}
	for _, v := range sec.Versions {
		for _, l := range v.Stages {
			c.byLabel[l] = v
		}
	}
	return c
}

// save persists sec (one Put: every operation is atomic) and publishes it.
func (s *Store) save(ctx context.Context, sec *Secret) error {
	b, err := json.Marshal(sec)
	if err != nil {
		return fmt.Errorf("awssm store: encode %q: %w", sec.Name, err)
	}
	if err := s.st.Put(ctx, &logical.StorageEntry{Key: storageKey(sec.Name), Value: b}); err != nil {
		s.cacheDrop(sec.Name)
		return err
	}
	s.cachePut(sec.Name, newCached(sec))
	return nil
}

func (s *Store) remove(ctx context.Context, name string) error {
	s.cacheDrop(name)
	return s.st.Delete(ctx, storageKey(name))
}

func (s *Store) cacheGet(name string) *cached {
	s.cacheMu.RLock()
	c := s.cache[name]
	s.cacheMu.RUnlock()
	return c
}

func (s *Store) cachePut(name string, c *cached) {
	if s.cacheSize < 0 {
		return
	}
	s.cacheMu.Lock()
	if _, ok := s.cache[name]; !ok && len(s.cache) >= s.cacheSize {
		for k := range s.cache { // evict an arbitrary entry
			delete(s.cache, k)
			break
		}
	}
	s.cache[name] = c
	s.cacheMu.Unlock()
}

func (s *Store) cacheDrop(name string) {
	s.cacheMu.Lock()
	delete(s.cache, name)
	s.cacheMu.Unlock()
}

// Invalidate forgets every cached record. Call it when another process may
// have written the same storage (the cache assumes this Store is the only
// writer).
func (s *Store) Invalidate() {
	s.cacheMu.Lock()
	s.cache = make(map[string]*cached)
	s.cacheMu.Unlock()
}

// resolve maps a SecretId (name, full ARN or partial ARN) to the cached
// record of an existing secret; nil when none matches.
func (s *Store) resolve(ctx context.Context, id string) (*cached, error) {
	if err := checkSecretId(id); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(id, "arn:") {
		return s.getNamed(ctx, id)
	}
	rest, ok := strings.CutPrefix(id, s.arnPrefix)
	if !ok {
		return nil, nil
	}
	if n := len(rest) - 7; n > 0 && rest[n] == '-' && alnum(rest[n+1:]) {
		c, err := s.getNamed(ctx, rest[:n])
		if err != nil || (c != nil && c.s.ARN == id) {
			return c, err
		}
	}
	return s.getNamed(ctx, rest) // partial ARN: no suffix
}

func (s *Store) getNamed(ctx context.Context, name string) (*cached, error) {
	if !validName(name) {
		return nil, nil
	}
	return s.get(ctx, name)
}

func alnum(x string) bool {
	for i := 0; i < len(x); i++ {
		c := x[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// withLocked resolves id, takes the secret's lock, reloads it and calls fn
// with the current (shared, read-only) record. A secret named by full ARN
// that was re-created meanwhile is not found.
func (s *Store) withLocked(ctx context.Context, id string, fn func(cur *Secret) error) error {
	c, err := s.resolve(ctx, id)
	if err != nil {
		return err
	}
	if c == nil {
		return errNotFound()
	}
	name, byARN := c.s.Name, c.s.ARN == id
	l := s.lockFor(name)
	l.Lock()
	defer l.Unlock()
	c, err = s.load(ctx, name)
	if err != nil {
		return err
	}
	if c == nil || (byARN && c.s.ARN != id) {
		return errNotFound() // deleted or re-created meanwhile
	}
	return fn(c.s)
}

// mutate calls fn with a private copy of the secret id names, under its
// lock; when fn returns true the copy is saved. fn sees the secret also
// when it is scheduled for deletion. The copy is returned.
func (s *Store) mutate(ctx context.Context, id string, fn func(sec *Secret) (bool, error)) (*Secret, error) {
	var sec *Secret
	err := s.withLocked(ctx, id, func(cur *Secret) error {
		sec = cur.clone()
		write, err := fn(sec)
		if err != nil || !write {
			return err
		}
		return s.save(ctx, sec)
	})
	return sec, err
}

var alnumChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString draws n characters uniformly from set (rejection sampling).
func randomString(r io.Reader, set string, n int) (string, error) {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(set)
	buf := make([]byte, n+8)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("awssm store: random: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, set[int(b)%len(set)])
			}
		}
	}
	return string(out), nil
}

// NewVersionId returns a fresh random VersionId (a version 4 UUID), for a
// rotation driver that needs a ClientRequestToken.
func (s *Store) NewVersionId() (string, error) { return s.newVersionId() }

// newVersionId returns a random UUID (version 4), what SDKs send.
func (s *Store) newVersionId() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("awssm store: random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
