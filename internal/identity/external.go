package identity

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/kinko-dev/kinko/internal/logical"
)

// SyncExternalGroups records the groups an auth method reported for a
// login (or a renewal) through the mount with mountAccessor: afterwards
// the entity (following merges) is a member of exactly those external
// groups whose alias is on that mount and named in groupNames (names
// compared case-insensitively; names without a group alias are ignored).
// Memberships in external groups whose alias is on another mount are left
// alone; memberships in external groups that have lost their alias are
// dropped. Internal groups are never touched.
//
// Core calls it with the names of the login's GroupAliases whenever the
// method sent a list, even an empty one (the caller was removed from every
// group in the identity provider), and never when it sent none. Changes
// are stored before it returns and apply to the entity's existing tokens
// at once. When nothing changes it takes no write lock and writes nothing.
func (s *Store) SyncExternalGroups(ctx context.Context, entityID, mountAccessor string, groupNames []string) error {
	if mountAccessor == "" {
		return fmt.Errorf("identity: group sync without a mount accessor")
	}
	s.mu.RLock()
	add, drop, err := s.membershipDiff(entityID, mountAccessor, groupNames)
	s.mu.RUnlock()
	if err != nil || len(add)+len(drop) == 0 {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if add, drop, err = s.membershipDiff(entityID, mountAccessor, groupNames); err != nil {
		return err
	}
	id := s.resolve(entityID)
	now := s.now().UTC()
	changed := make([]*Group, 0, len(add)+len(drop))
	for _, gid := range add {
		g := s.groups[gid].clone()
		g.MemberEntityIDs = append(g.MemberEntityIDs, id)
		touch(g, now)
		changed = append(changed, g)
	}
	for _, gid := range drop {
		g := s.groups[gid].clone()
		g.MemberEntityIDs = slices.DeleteFunc(g.MemberEntityIDs, func(m string) bool { return m == id })
		touch(g, now)
		changed = append(changed, g)
	}
	return s.putGroups(ctx, changed...)
}

// membershipDiff returns the external groups the entity must join and
// leave, sorted (caller holds mu).
func (s *Store) membershipDiff(entityID, accessor string, names []string) (add, drop []string, err error) {
	id := s.resolve(entityID)
	if s.entities[id] == nil {
		return nil, nil, logical.Errorf(logical.ErrNotFound, "entity not found from id")
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		if gid := s.galiasKeys[aliasKey(accessor, n)]; gid != "" {
			want[gid] = true
		}
	}
	for _, gid := range s.directGroups[id] {
		g := s.groups[gid]
		switch {
		case g.Type != groupTypeExternal:
		case want[gid]:
			delete(want, gid)
		case g.Alias == nil || g.Alias.MountAccessor == accessor:
			drop = append(drop, gid)
		}
	}
	return slices.Sorted(maps.Keys(want)), drop, nil
}
