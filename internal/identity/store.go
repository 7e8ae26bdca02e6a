// Package identity is kinko's identity store: entities (one person or
// service), their aliases (the name the caller has in one auth mount), and
// internal groups whose policies add to the tokens of their members.
//
// The store keeps everything in memory, loaded from its storage view when
// built and written through on every change (the view is the durable
// copy); identity data is small and is read on every request of a token
// with an entity, so reads never touch storage. One RWMutex guards the
// maps; IdentityPolicies answers from a cache cleared on every write.
//
// Login MFA: TOTP methods, per-entity TOTP keys (only in storage, never
// returned after enrolment), and login enforcements that name which mounts,
// entities or groups must pass which methods (mfa.go).
package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Storage prefixes inside the store's view.
const (
	entityPrefix = "entity/"
	aliasPrefix  = "alias/"
	groupPrefix  = "group/"
)

// Options configure a Store.
type Options struct{ Now func() time.Time }

// Entity is one person or service.
type Entity struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Policies       []string          `json:"policies"`
	Metadata       map[string]string `json:"metadata"`
	Disabled       bool              `json:"disabled"`
	CreationTime   time.Time         `json:"creation_time"`
	LastUpdateTime time.Time         `json:"last_update_time"`
}

// Alias links an entity to a caller name within one auth mount.
type Alias struct {
	ID            string            `json:"id"`
	CanonicalID   string            `json:"canonical_id"`
	MountAccessor string            `json:"mount_accessor"`
	MountType     string            `json:"mount_type"`
	Name          string            `json:"name"`
	Metadata      map[string]string `json:"metadata"`
	CreationTime  time.Time         `json:"creation_time"`
}

// Group is an internal group of entities and other groups.
type Group struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Type            string            `json:"type"`
	Policies        []string          `json:"policies"`
	MemberEntityIDs []string          `json:"member_entity_ids"`
	MemberGroupIDs  []string          `json:"member_group_ids"`
	Metadata        map[string]string `json:"metadata"`
	CreationTime    time.Time         `json:"creation_time"`
	LastUpdateTime  time.Time         `json:"last_update_time"`
}

// MFAMethod names an MFA method a login may use.
type MFAMethod struct {
	ID, Type, Name string
	UsesPasscode   bool
}

// MFARequirement lists the methods that can complete a login.
type MFARequirement struct{ Methods []MFAMethod }

// Store is the identity store.
type Store struct {
	view logical.Storage
	now  func() time.Time

	mu       sync.RWMutex
	entities map[string]*Entity
	aliases  map[string]*Alias
	groups   map[string]*Group
	policies map[string][]string // cache: entity ID → identity policies

	totpMethods  map[string]*TOTPMethod
	enforcements map[string]*Enforcement
	mfaFailures  map[string]int // method/entity → failed validations since the last success
}

// NewStore loads the store from view.
func NewStore(view logical.Storage, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{view: view, now: opts.Now, entities: map[string]*Entity{}, aliases: map[string]*Alias{},
		groups: map[string]*Group{}, policies: map[string][]string{},
		totpMethods: map[string]*TOTPMethod{}, enforcements: map[string]*Enforcement{}, mfaFailures: map[string]int{}}
	ctx := context.Background()
	for _, l := range []struct {
		prefix string
		load   func(k string) error
	}{
		{entityPrefix, func(k string) error { return loadInto(ctx, view, k, s.entities) }},
		{aliasPrefix, func(k string) error { return loadInto(ctx, view, k, s.aliases) }},
		{groupPrefix, func(k string) error { return loadInto(ctx, view, k, s.groups) }},
		{mfaMethodPrefix, func(k string) error { return loadInto(ctx, view, k, s.totpMethods) }},
		{mfaEnforcementPrefix, func(k string) error { return loadInto(ctx, view, k, s.enforcements) }},
	} {
		if err := logical.ScanKeys(ctx, view, l.prefix, l.load); err != nil {
			return nil, fmt.Errorf("identity: load %s: %w", l.prefix, err)
		}
	}
	return s, nil
}

func loadInto[T any](ctx context.Context, view logical.Storage, key string, m map[string]*T) error {
	v := new(T)
	if _, err := logical.GetJSON(ctx, view, key, v); err != nil {
		return err
	}
	m[key[strings.LastIndexByte(key, '/')+1:]] = v
	return nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// entityByName returns the entity named name (caller holds mu).
func (s *Store) entityByName(name string) *Entity {
	for _, e := range s.entities {
		if e.Name == name {
			return e
		}
	}
	return nil
}

func (s *Store) groupByName(name string) *Group {
	for _, g := range s.groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// aliasFor finds the alias of name in a mount (caller holds mu).
func (s *Store) aliasFor(accessor, name string) *Alias {
	for _, a := range s.aliases {
		if a.MountAccessor == accessor && a.Name == name {
			return a
		}
	}
	return nil
}

// putEntity persists e and clears the policy cache (caller holds mu).
func (s *Store) putEntity(ctx context.Context, e *Entity) error {
	if err := logical.PutJSON(ctx, s.view, entityPrefix+e.ID, e); err != nil {
		return err
	}
	s.entities[e.ID] = e
	clear(s.policies)
	return nil
}

func (s *Store) putAlias(ctx context.Context, a *Alias) error {
	if err := logical.PutJSON(ctx, s.view, aliasPrefix+a.ID, a); err != nil {
		return err
	}
	s.aliases[a.ID] = a
	return nil
}

func (s *Store) putGroup(ctx context.Context, g *Group) error {
	if err := logical.PutJSON(ctx, s.view, groupPrefix+g.ID, g); err != nil {
		return err
	}
	s.groups[g.ID] = g
	clear(s.policies)
	return nil
}

// LoginEntity returns the entity behind an auth mount's alias, creating
// entity and alias on the first login.
func (s *Store) LoginEntity(ctx context.Context, mountAccessor, mountType string, alias *logical.Alias) (*Entity, error) {
	if alias == nil || alias.Name == "" {
		return nil, logical.InvalidRequest("login has no alias name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.aliasFor(mountAccessor, alias.Name); a != nil {
		e := s.entities[a.CanonicalID]
		if e == nil {
			return nil, fmt.Errorf("identity: alias %s points to a missing entity", a.ID)
		}
		if e.Disabled {
			return nil, logical.Errorf(logical.ErrPermissionDenied, "entity is disabled")
		}
		return e, nil
	}
	now := s.now().UTC()
	id := newID()
	e := &Entity{ID: id, Name: "entity_" + id[:8], Metadata: map[string]string{}, CreationTime: now, LastUpdateTime: now}
	if err := s.putEntity(ctx, e); err != nil {
		return nil, err
	}
	a := &Alias{ID: newID(), CanonicalID: e.ID, MountAccessor: mountAccessor, MountType: mountType,
		Name: alias.Name, Metadata: alias.Metadata, CreationTime: now}
	return e, s.putAlias(ctx, a)
}

// Entity returns the entity with id, or nil.
func (s *Store) Entity(ctx context.Context, id string) (*Entity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.entities[id], nil
}

// groupsOf returns the IDs of every group that contains the entity,
// directly or through member groups (caller holds mu).
func (s *Store) groupsOf(entityID string) (direct, all []string) {
	seen := map[string]bool{}
	var queue []string
	for id, g := range s.groups {
		if contains(g.MemberEntityIDs, entityID) {
			direct = append(direct, id)
			queue = append(queue, id)
			seen[id] = true
		}
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		all = append(all, cur)
		for id, g := range s.groups {
			if !seen[id] && contains(g.MemberGroupIDs, cur) {
				seen[id] = true
				queue = append(queue, id)
			}
		}
	}
	sort.Strings(direct)
	sort.Strings(all)
	return direct, all
}

// IdentityPolicies returns the policies an entity's tokens get from the
// entity and its groups, sorted. Cached until the next write.
func (s *Store) IdentityPolicies(ctx context.Context, entityID string) ([]string, error) {
	s.mu.RLock()
	p, ok := s.policies[entityID]
	s.mu.RUnlock()
	if ok {
		return p, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entities[entityID]
	if e == nil || e.Disabled {
		return nil, nil
	}
	set := map[string]bool{}
	for _, x := range e.Policies {
		set[x] = true
	}
	_, all := s.groupsOf(entityID)
	for _, gid := range all {
		for _, x := range s.groups[gid].Policies {
			set[x] = true
		}
	}
	out := make([]string, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	sort.Strings(out)
	s.policies[entityID] = out
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
