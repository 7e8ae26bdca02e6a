package identity

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// policyCache maps an entity ID to its *cachedPolicies. A write replaces
// the whole cache (invalidate) while holding mu for writing; a miss fills
// the cache it loaded while holding mu for reading, so a fill can never
// land in a cache newer than the data it was computed from.
type policyCache struct{ m sync.Map }

type cachedPolicies struct {
	policies []string
	err      error
}

// invalidate drops every cached answer (caller holds mu for writing).
func (s *Store) invalidate() { s.cache.Store(&policyCache{}) }

// IdentityPolicies returns the policies an entity's tokens get from the
// entity and from every group it is in, directly or through nested groups:
// sorted, without duplicates. The returned slice is shared: callers must
// not modify it. An unknown entity has none (nil, nil); a disabled entity
// gives ErrEntityDisabled. Tokens of an entity merged into another get the
// surviving entity's policies.
//
// Answers are cached until the next write to the store; the cached path
// takes no lock and reads no storage.
func (s *Store) IdentityPolicies(ctx context.Context, entityID string) ([]string, error) {
	if v, ok := s.cache.Load().m.Load(entityID); ok {
		c := v.(*cachedPolicies)
		return c.policies, c.err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.computePolicies(entityID)
	s.cache.Load().m.Store(entityID, c)
	return c.policies, c.err
}

// computePolicies works out an entity's identity policies (caller holds mu).
func (s *Store) computePolicies(entityID string) *cachedPolicies {
	e := s.entities[s.resolve(entityID)]
	if e == nil {
		return &cachedPolicies{}
	}
	if e.Disabled {
		return &cachedPolicies{err: ErrEntityDisabled}
	}
	set := map[string]struct{}{}
	for _, p := range e.Policies {
		set[p] = struct{}{}
	}
	direct, inherited := s.groupsOf(e.ID)
	for _, gid := range append(direct, inherited...) {
		for _, p := range s.groups[gid].Policies {
			set[p] = struct{}{}
		}
	}
	if len(set) == 0 {
		return &cachedPolicies{}
	}
	return &cachedPolicies{policies: slices.Sorted(maps.Keys(set))}
}

// GroupIDs returns the IDs of every group the entity is in, directly or
// through nested groups, sorted.
func (s *Store) GroupIDs(ctx context.Context, entityID string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	direct, inherited := s.groupsOf(s.resolve(entityID))
	all := append(direct, inherited...)
	slices.Sort(all)
	return all, nil
}

// Entity returns a copy of the entity with id (following merges), or nil.
func (s *Store) Entity(ctx context.Context, id string) (*Entity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e := s.entities[s.resolve(id)]; e != nil {
		return e.clone(), nil
	}
	return nil, nil
}

// LoginEntity returns the entity behind an auth mount's alias, creating the
// entity ("entity_<short id>") and its alias on the first login. Alias
// metadata sent by the auth method replaces the stored metadata when it
// changed. A disabled entity gives ErrEntityDisabled: core refuses the login.
func (s *Store) LoginEntity(ctx context.Context, mountAccessor, mountType string, alias *logical.Alias) (*Entity, error) {
	if alias == nil || alias.Name == "" {
		return nil, logical.InvalidRequest("login has no alias name")
	}
	if mountAccessor == "" {
		return nil, fmt.Errorf("identity: login without a mount accessor")
	}
	s.mu.RLock()
	e, fresh := s.loginLookup(mountAccessor, alias)
	s.mu.RUnlock()
	if !fresh {
		s.mu.Lock()
		defer s.mu.Unlock()
		var err error
		if e, err = s.loginWrite(ctx, mountAccessor, mountType, alias); err != nil {
			return nil, err
		}
	}
	if e.Disabled {
		return nil, ErrEntityDisabled
	}
	return e.clone(), nil
}

// loginLookup finds the alias's entity; fresh reports that nothing needs
// writing (caller holds mu).
func (s *Store) loginLookup(accessor string, alias *logical.Alias) (*Entity, bool) {
	a := s.aliasFor(accessor, alias.Name)
	if a == nil {
		return nil, false
	}
	e := s.entities[a.CanonicalID]
	if e == nil || (alias.Metadata != nil && !maps.Equal(alias.Metadata, a.Metadata)) {
		return nil, false
	}
	return e, true
}

// loginWrite creates the entity and alias of a first login, or updates the
// alias metadata (caller holds mu for writing).
func (s *Store) loginWrite(ctx context.Context, accessor, mountType string, la *logical.Alias) (*Entity, error) {
	now := s.now().UTC()
	b := &batch{}
	a := s.aliasFor(accessor, la.Name)
	var e *Entity
	if a != nil {
		if e = s.entities[a.CanonicalID]; e == nil {
			return nil, fmt.Errorf("identity: alias %s points to missing entity %s", a.ID, a.CanonicalID)
		}
		if la.Metadata == nil || maps.Equal(la.Metadata, a.Metadata) {
			return e, nil
		}
		cp := *a
		cp.Metadata, cp.LastUpdateTime = cloneMap(la.Metadata), now
		a = &cp
	} else {
		e = s.newEntity(now, "")
		a = &Alias{ID: newID(), CanonicalID: e.ID, MountAccessor: accessor, MountType: mountType, Name: la.Name,
			Metadata: cloneMap(la.Metadata), CreationTime: now, LastUpdateTime: now}
		if err := b.put(entityPrefix+e.ID, e); err != nil {
			return nil, err
		}
	}
	if err := b.put(aliasPrefix+a.ID, a); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	s.setEntity(e)
	s.setAlias(a)
	s.invalidate()
	return e, nil
}

// newEntity returns a fresh entity; with no name it is named
// "entity_<first 8 hex digits of its ID>", drawing a new ID on the rare
// clash (caller holds mu).
func (s *Store) newEntity(now time.Time, name string) *Entity {
	for {
		id := newID()
		n := name
		if n == "" {
			n = "entity_" + id[:8]
		}
		if s.entities[id] == nil && (name != "" || s.entityByName(n) == nil) {
			return &Entity{ID: id, Name: n, Policies: []string{}, Metadata: map[string]string{},
				CreationTime: now, LastUpdateTime: now}
		}
	}
}

// DisableEntity disables the entity with id (following merges): its tokens
// and logins are refused from then on. It is what the detector's automatic
// "disable_entity" response calls.
func (s *Store) DisableEntity(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entities[s.resolve(id)]
	if e == nil {
		return logical.Errorf(logical.ErrNotFound, "entity not found from id")
	}
	if e.Disabled {
		return nil
	}
	e = e.clone()
	e.Disabled, e.LastUpdateTime = true, s.now().UTC()
	b := &batch{}
	if err := b.put(entityPrefix+e.ID, e); err != nil {
		return err
	}
	if err := s.commit(ctx, b); err != nil {
		return err
	}
	s.setEntity(e)
	s.invalidate()
	return nil
}
