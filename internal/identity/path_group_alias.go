package identity

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// A group alias names an external group within one auth mount: a login
// through that mount whose method reports a group of that name (a JWT
// groups claim) makes the caller's entity a member of the group. A group
// alias lives inside its group's record; an external group has at most one
// (Vault's rule), and mount accessor + name (case-insensitive) is unique
// among group aliases.

func groupAliasFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"id":             {Type: logical.TypeString, Description: "ID of the group alias; when set, the alias is updated"},
		"name":           {Type: logical.TypeString, Description: "name of the group in the auth mount (e.g. a value of the JWT groups claim)"},
		"mount_accessor": {Type: logical.TypeString, Description: "accessor of the auth mount"},
		"canonical_id":   {Type: logical.TypeString, Description: "ID of the external group (a new external group when empty)"},
	}
}

func (s *Store) groupAliasPaths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "group-alias", Fields: groupAliasFields(), Operations: opMap{logical.UpdateOperation: s.handleGroupAliasWrite},
			HelpSynopsis: "Create a group alias, or update the one named by id."},
		{Pattern: "group-alias/id/?", Operations: opMap{logical.ListOperation: s.handleGroupAliasList},
			HelpSynopsis: "List group alias IDs."},
		{Pattern: "group-alias/id/(?P<id>[^/]+)", Fields: groupAliasFields(), Operations: opMap{
			logical.ReadOperation: s.handleGroupAliasRead, logical.UpdateOperation: s.handleGroupAliasWrite,
			logical.DeleteOperation: s.handleGroupAliasDelete},
			HelpSynopsis: "Read, update or delete a group alias by ID."},
	}
}

// groupAliasData renders a group's alias as group reads show it (an empty
// map without one), as Vault does (caller holds mu).
func (s *Store) groupAliasData(g *Group) map[string]any {
	if g.Alias == nil {
		return map[string]any{}
	}
	out := s.aliasData(g.Alias)
	delete(out, "custom_metadata")
	delete(out, "local")
	return out
}

// groupAliasInput is a decoded group-alias write.
type groupAliasInput struct{ id, name, accessor, canonical string }

func readGroupAliasInput(d *logical.FieldData) (groupAliasInput, error) {
	in := groupAliasInput{id: strings.TrimSpace(str(d, "id")), name: str(d, "name"),
		accessor: strings.TrimSpace(str(d, "mount_accessor")), canonical: strings.TrimSpace(str(d, "canonical_id"))}
	if in.name != "" {
		if err := checkAliasName("group alias", in.name); err != nil {
			return in, err
		}
	}
	return in, nil
}

// handleGroupAliasWrite creates a group alias (on the external group
// canonical_id, or on a new external group) or, with an id, updates one:
// fields not sent keep their values, and a canonical_id moves the alias to
// another external group.
func (s *Store) handleGroupAliasWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, err := readGroupAliasInput(d)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var from *Group // the group holding the alias being updated
	if in.id != "" {
		if from = s.groups[s.galiasIDs[in.id]]; from == nil {
			return nil, logical.InvalidRequest("invalid group alias ID")
		}
		if in.name == "" {
			in.name = from.Alias.Name
		}
		if in.accessor == "" {
			in.accessor = from.Alias.MountAccessor
		}
	}
	switch {
	case in.name == "":
		return nil, logical.InvalidRequest("missing alias name")
	case in.accessor == "":
		return nil, logical.InvalidRequest("missing mount_accessor")
	}
	to, err := s.groupAliasTarget(in, from)
	if err != nil {
		return nil, err
	}
	if from != nil && to == from && from.Alias.Name == in.name && from.Alias.MountAccessor == in.accessor {
		return nil, nil // nothing to change
	}
	return s.writeGroupAlias(ctx, in, from, to)
}

// groupAliasTarget checks a group alias write and returns the group that
// will hold the alias, nil for a new external group (caller holds mu).
func (s *Store) groupAliasTarget(in groupAliasInput, from *Group) (*Group, error) {
	to := from
	if in.canonical != "" {
		if to = s.groups[in.canonical]; to == nil {
			return nil, logical.InvalidRequest("invalid group ID given in 'canonical_id'")
		}
		if to.Type != groupTypeExternal {
			return nil, logical.InvalidRequest("alias can't be set on an internal group")
		}
		if to != from && to.Alias != nil {
			return nil, logical.InvalidRequest("group %q already has an alias: update or delete it instead", to.Name)
		}
	}
	if from == nil || in.accessor != from.Alias.MountAccessor {
		if err := s.checkAccessor(in.accessor); err != nil {
			return nil, err
		}
	}
	if g := s.groupByAlias(in.accessor, in.name); g != nil && g != from {
		return nil, logical.InvalidRequest("combination of mount and group alias name is already in use")
	}
	return to, nil
}

// writeGroupAlias stores the alias on to (a new external group when nil),
// taking it off from when it moves (caller holds mu for writing). A group
// whose alias leaves it or now names another group of the IdP loses its
// member entities: they came from logins under the old alias and come
// back with the next login under the new one.
func (s *Store) writeGroupAlias(ctx context.Context, in groupAliasInput, from, to *Group) (*logical.Response, error) {
	now := s.now().UTC()
	a := &Alias{ID: newID(), CreationTime: now}
	if from != nil {
		cp := *from.Alias
		a = &cp
	}
	if to == nil {
		to = s.newGroup(now, groupTypeExternal)
	} else {
		to = to.clone()
	}
	same := from != nil && to.ID == from.ID && aliasKey(a.MountAccessor, a.Name) == aliasKey(in.accessor, in.name)
	a.Name, a.MountAccessor, a.CanonicalID, a.LastUpdateTime = in.name, in.accessor, to.ID, now
	a.MountType = ""
	a.MountType = s.mountOf(a).Type
	if !same {
		to.MemberEntityIDs = []string{}
	}
	to.Alias = a
	touch(to, now)
	groups := []*Group{to}
	if from != nil && from.ID != to.ID {
		groups = append(groups, withoutAlias(from, now))
	}
	if err := s.putGroups(ctx, groups...); err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"id": a.ID, "canonical_id": to.ID}), nil
}

// withoutAlias returns a copy of an external group with no alias and so no
// member entities.
func withoutAlias(g *Group, now time.Time) *Group {
	g = g.clone()
	g.Alias, g.MemberEntityIDs = nil, []string{}
	touch(g, now)
	return g
}

// touch records a change to a group that is not yet stored.
func touch(g *Group, now time.Time) {
	g.ModifyIndex++
	g.LastUpdateTime = now
}

func (s *Store) handleGroupAliasRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[s.galiasIDs[str(d, "id")]]
	if g == nil {
		return nil, nil
	}
	return logical.DataResponse(s.aliasData(g.Alias)), nil
}

func (s *Store) handleGroupAliasDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[s.galiasIDs[str(d, "id")]]
	if g == nil {
		return nil, nil
	}
	return nil, s.putGroups(ctx, withoutAlias(g, s.now().UTC()))
}

func (s *Store) handleGroupAliasList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := slices.Sorted(maps.Keys(s.galiasIDs))
	info := make(map[string]any, len(keys))
	for _, id := range keys {
		a := s.groups[s.galiasIDs[id]].Alias
		m := s.mountOf(a)
		info[id] = map[string]any{"canonical_id": a.CanonicalID, "mount_accessor": a.MountAccessor,
			"mount_path": m.Path, "mount_type": m.Type, "name": a.Name}
	}
	return &logical.Response{Data: map[string]any{"keys": keys, "key_info": info}}, nil
}
