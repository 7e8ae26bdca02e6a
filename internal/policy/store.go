package policy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kinko-dev/kinko/internal/logical"
)

// storagePrefix is where policies live in the Store's view: acl/<name>.
const storagePrefix = "acl/"

// maxCachedACLs bounds the compiled-ACL cache; when full it is emptied.
const maxCachedACLs = 4096

// storedPolicy is the JSON kept at acl/<name>.
type storedPolicy struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	Raw     string `json:"raw"`
}

// Store keeps named ACL policies in a storage view and hands out compiled
// ACLs, cached by the set of policy names.
//
// Concurrency: all methods are safe for concurrent use. Writes (Set, Delete,
// Invalidate) are serialised by mu and bump gen, which empties both caches;
// a cache fill that started before a write is discarded rather than stored,
// so a stale policy is never cached after the write returns.
type Store struct {
	view logical.Storage

	acls atomic.Pointer[sync.Map] // sorted names joined by "\n" -> *ACL
	gen  atomic.Uint64

	mu       sync.Mutex         // guards writes, policies and nACLs
	policies map[string]*Policy // parsed policy cache by name
	nACLs    int
}

// NewStore returns a Store over view.
func NewStore(view logical.Storage) *Store {
	s := &Store{view: view, policies: make(map[string]*Policy)}
	s.acls.Store(new(sync.Map))
	return s
}

// Get returns the named policy, or (nil, nil) when there is none. "root" and
// "default" always exist; default reads as DefaultPolicy until overwritten.
func (s *Store) Get(ctx context.Context, name string) (*Policy, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return nil, nil // an invalid name cannot have been stored
	}
	if n == RootPolicyName {
		return RootPolicy(), nil
	}
	g := s.gen.Load()
	s.mu.Lock()
	p, ok := s.policies[n]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err = s.load(ctx, n)
	if err != nil || p == nil {
		return p, err
	}
	s.mu.Lock()
	if s.gen.Load() == g {
		s.policies[n] = p
	}
	s.mu.Unlock()
	return p, nil
}

func (s *Store) load(ctx context.Context, n string) (*Policy, error) {
	var sp storedPolicy
	found, err := logical.GetJSON(ctx, s.view, storagePrefix+n, &sp)
	if err != nil {
		return nil, fmt.Errorf("policy: read %q: %w", n, err)
	}
	if !found {
		if n == DefaultPolicyName {
			return Parse(n, DefaultPolicy)
		}
		return nil, nil
	}
	p, err := Parse(n, sp.Raw)
	if err != nil {
		// Stored text that no longer parses is a server-side problem, not
		// the caller's; do not present it as an invalid request.
		return nil, fmt.Errorf("policy: stored policy %q does not parse: %s", n, logicalMessage(err))
	}
	return p, nil
}

func logicalMessage(err error) string {
	if msg, ok := logical.UserMessage(err); ok {
		return msg
	}
	return err.Error()
}

// Set parses text and stores it as policy name. Nothing is written when the
// text does not parse. The root policy cannot be written.
func (s *Store) Set(ctx context.Context, name, text string) error {
	n, err := NormalizeName(name)
	if err != nil {
		return err
	}
	if n == RootPolicyName {
		return logical.Errorf(logical.ErrInvalidRequest, "cannot update the %q policy", n)
	}
	p, err := Parse(n, text)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := logical.PutJSON(ctx, s.view, storagePrefix+n, storedPolicy{Version: 1, Name: n, Raw: text}); err != nil {
		return fmt.Errorf("policy: write %q: %w", n, err)
	}
	s.invalidateLocked()
	s.policies[n] = p
	return nil
}

// Delete removes policy name; deleting one that does not exist succeeds. The
// root and default policies cannot be deleted.
func (s *Store) Delete(ctx context.Context, name string) error {
	n, err := NormalizeName(name)
	if err != nil {
		return err
	}
	if n == RootPolicyName || n == DefaultPolicyName {
		return logical.Errorf(logical.ErrInvalidRequest, "cannot delete the %q policy", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.view.Delete(ctx, storagePrefix+n); err != nil {
		return fmt.Errorf("policy: delete %q: %w", n, err)
	}
	s.invalidateLocked()
	return nil
}

// Invalidate drops every cached policy and ACL. Call it when the view was
// changed behind the Store's back (replication, restore).
func (s *Store) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidateLocked()
}

func (s *Store) invalidateLocked() {
	s.gen.Add(1)
	s.acls.Store(new(sync.Map))
	s.nACLs = 0
	clear(s.policies)
}

// List returns the policy names, as Vault's sys/policies/acl list does: the
// stored names and "default", sorted, followed by "root".
func (s *Store) List(ctx context.Context) ([]string, error) {
	keys, err := s.view.List(ctx, storagePrefix)
	if err != nil {
		return nil, fmt.Errorf("policy: list: %w", err)
	}
	out := make([]string, 0, len(keys)+2)
	hasDefault := false
	for _, k := range keys {
		if strings.HasSuffix(k, "/") {
			continue
		}
		hasDefault = hasDefault || k == DefaultPolicyName
		out = append(out, k)
	}
	if !hasDefault {
		out = append(out, DefaultPolicyName)
	}
	sort.Strings(out)
	return append(out, RootPolicyName), nil
}

// ACL returns the compiled ACL for the named policies. Names are matched
// case-insensitively; unknown names are ignored; "root" among them yields the
// root ACL. Results are cached by the set of names until the next write.
func (s *Store) ACL(ctx context.Context, names []string) (*ACL, error) {
	key := aclKey(names)
	cache := s.acls.Load()
	if v, ok := cache.Load(key); ok {
		return v.(*ACL), nil
	}
	g := s.gen.Load()
	acl, err := s.build(ctx, names)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.gen.Load() == g {
		if s.nACLs >= maxCachedACLs {
			s.acls.Store(new(sync.Map))
			s.nACLs = 0
		}
		if _, loaded := s.acls.Load().LoadOrStore(key, acl); !loaded {
			s.nACLs++
		}
	}
	s.mu.Unlock()
	return acl, nil
}

func (s *Store) build(ctx context.Context, names []string) (*ACL, error) {
	norm := normalizeNames(names)
	if containsString(norm, RootPolicyName) {
		return NewACL(RootPolicy())
	}
	ps := make([]*Policy, 0, len(norm))
	for _, n := range norm {
		p, err := s.Get(ctx, n)
		if err != nil {
			return nil, err
		}
		if p != nil {
			ps = append(ps, p)
		}
	}
	return NewACL(ps...)
}

// normalizeNames lower-cases, validates, deduplicates and sorts names,
// dropping the ones that cannot be policy names.
func normalizeNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if v, err := NormalizeName(n); err == nil {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return compactSorted(out)
}

func compactSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// aclKey is the cache key for names: the normalised set joined by "\n". When
// names are already normalised and sorted (what the token store keeps), a
// single name costs no allocation and several cost one join.
func aclKey(names []string) string {
	if isNormalizedSorted(names) {
		if len(names) == 1 {
			return names[0]
		}
		return strings.Join(names, "\n")
	}
	return strings.Join(normalizeNames(names), "\n")
}

func isNormalizedSorted(names []string) bool {
	for i, n := range names {
		if n == "" || (i > 0 && n <= names[i-1]) {
			return false
		}
		for j := 0; j < len(n); j++ {
			c := n[j]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return false
			}
		}
	}
	return true
}
