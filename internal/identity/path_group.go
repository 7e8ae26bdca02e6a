package identity

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Group types: an internal group's members are managed through the API,
// an external group's member entities by logins through its alias's mount.
const (
	groupTypeInternal = "internal"
	groupTypeExternal = "external"
)

func groupFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"id":                {Type: logical.TypeString, Description: "ID of the group; when set, the group is updated"},
		"name":              {Type: logical.TypeString, Description: "name of the group (unique, case-insensitive)"},
		"type":              {Type: logical.TypeString, Description: `type of the group: "internal" (default; members set through the API) or "external" (member entities set by logins, through its group alias); it cannot be changed`},
		"policies":          {Type: logical.TypeCommaStringSlice, Description: "policies granted to the members"},
		"member_entity_ids": {Type: logical.TypeCommaStringSlice, Description: "entities in the group"},
		"member_group_ids":  {Type: logical.TypeCommaStringSlice, Description: "groups whose members also belong to this group"},
		"metadata":          {Type: logical.TypeKVPairs, Description: "metadata as key=value pairs or a map of strings"},
	}
}

func (s *Store) groupPaths() []*logical.Path {
	byName := groupFields()
	delete(byName, "id")
	rw := func(update logical.OperationFunc) opMap {
		return opMap{logical.ReadOperation: s.handleGroupRead, logical.UpdateOperation: update,
			logical.DeleteOperation: s.handleGroupDelete}
	}
	return []*logical.Path{
		{Pattern: "group", Fields: groupFields(), Operations: opMap{logical.UpdateOperation: s.groupWriter(false)},
			HelpSynopsis: "Create a group, or update the one named by id or name."},
		{Pattern: "group/id/?", Operations: opMap{logical.ListOperation: s.handleGroupList(false)},
			HelpSynopsis: "List group IDs."},
		{Pattern: "group/id/(?P<id>[^/]+)", Fields: groupFields(), Operations: rw(s.groupWriter(true)),
			HelpSynopsis: "Read, update or delete a group by ID."},
		{Pattern: "group/name/?", Operations: opMap{logical.ListOperation: s.handleGroupList(true)},
			HelpSynopsis: "List group names."},
		{Pattern: "group/name/(?P<name>[^/]+)", Fields: byName, Operations: rw(s.groupWriter(false)),
			HelpSynopsis: "Read, create or update, or delete a group by name."},
	}
}

// groupFromPath resolves the group a path names by ID or name (caller
// holds mu).
func (s *Store) groupFromPath(req *logical.Request, d *logical.FieldData) *Group {
	if strings.HasPrefix(req.Path, "group/name/") {
		return s.groupByName(str(d, "name"))
	}
	return s.groups[str(d, "id")]
}

// groupWriter creates or updates a group as Vault does: by id when given
// (it must exist; always for group/id/:id), else by name (created when
// absent).
func (s *Store) groupWriter(needID bool) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		id, name := strings.TrimSpace(str(d, "id")), str(d, "name")
		if name != "" {
			if err := checkName("group", name); err != nil {
				return nil, err
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var g *Group
		if id != "" || needID {
			if g = s.groups[id]; g == nil {
				return nil, logical.InvalidRequest("invalid group ID")
			}
		}
		if other := s.groupByName(name); name != "" && other != nil {
			if g == nil {
				g = other
			} else if other.ID != g.ID {
				return nil, logical.InvalidRequest("group name is already in use")
			}
		}
		return s.writeGroup(ctx, g, name, d)
	}
}

// writeGroup applies a write to g (nil: a new group) and stores it (caller
// holds mu for writing).
func (s *Store) writeGroup(ctx context.Context, g *Group, name string, d *logical.FieldData) (*logical.Response, error) {
	now := s.now().UTC()
	fresh := g == nil
	if fresh {
		g = s.newGroup(now, groupTypeInternal)
	} else {
		g = g.clone()
	}
	if name != "" {
		g.Name = name
	}
	if err := applyGroupType(g, d, fresh); err != nil {
		return nil, err
	}
	if err := s.applyGroupFields(g, d); err != nil {
		return nil, err
	}
	g.LastUpdateTime = now
	g.ModifyIndex++
	if err := s.putGroups(ctx, g); err != nil {
		return nil, err
	}
	if !fresh {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"id": g.ID, "name": g.Name}), nil
}

// newGroup returns a fresh group of type typ named "group_<first 8 hex
// digits of its ID>", drawing a new ID on the rare clash (caller holds mu).
func (s *Store) newGroup(now time.Time, typ string) *Group {
	for {
		id := newID()
		g := &Group{ID: id, Name: "group_" + id[:8], Type: typ, Policies: []string{}, MemberEntityIDs: []string{},
			MemberGroupIDs: []string{}, Metadata: map[string]string{}, CreationTime: now}
		if s.groups[id] == nil && s.groupByName(g.Name) == nil {
			return g
		}
	}
}

// putGroups stores the groups in one write, then puts them in memory and
// drops the policy cache (caller holds mu for writing).
func (s *Store) putGroups(ctx context.Context, groups ...*Group) error {
	b := &batch{}
	for _, g := range groups {
		if err := b.put(groupPrefix+g.ID, g); err != nil {
			return err
		}
	}
	if err := s.commit(ctx, b); err != nil {
		return err
	}
	for _, g := range groups {
		s.setGroup(g)
	}
	s.invalidate()
	return nil
}

// applyGroupType sets the type of a new group; an existing group's type
// cannot change (Vault's rule).
func applyGroupType(g *Group, d *logical.FieldData, fresh bool) error {
	t := strings.ToLower(strings.TrimSpace(str(d, "type")))
	switch {
	case t == "":
		return nil
	case t != groupTypeInternal && t != groupTypeExternal:
		return logical.InvalidRequest("invalid group type %q: it must be \"internal\" or \"external\"", t)
	case !fresh && t != g.Type:
		return logical.InvalidRequest("group type cannot be changed")
	}
	g.Type = t
	return nil
}

// applyGroupFields validates and sets the fields sent (caller holds mu).
// An external group's member entities come from logins and it has no
// member groups: non-empty lists for them are refused, empty ones ignored.
func (s *Store) applyGroupFields(g *Group, d *logical.FieldData) error {
	if v, ok := strs(d, "policies"); ok {
		p, err := normalizePolicies(v)
		if err != nil {
			return err
		}
		g.Policies = p
	}
	if m, ok := kv(d, "metadata"); ok {
		g.Metadata = m
	}
	entities, eSent := strs(d, "member_entity_ids")
	groups, gSent := strs(d, "member_group_ids")
	if g.Type == groupTypeExternal {
		switch {
		case len(uniqueIDs(entities)) > 0:
			return logical.InvalidRequest("member entities can't be set manually for external groups")
		case len(uniqueIDs(groups)) > 0:
			return logical.InvalidRequest("member groups can't be set for external groups")
		}
		return nil
	}
	if eSent {
		ids := uniqueIDs(entities)
		for _, id := range ids {
			if s.entities[id] == nil {
				return logical.InvalidRequest("member entity ID %q does not exist", id)
			}
		}
		g.MemberEntityIDs = ids
	}
	if gSent {
		ids := uniqueIDs(groups)
		for _, id := range ids {
			if s.groups[id] == nil {
				return logical.InvalidRequest("member group ID %q does not exist", id)
			}
			if id == g.ID || s.reaches(id, g.ID) {
				return logical.InvalidRequest("cyclic relationship detected for member group ID %q", id)
			}
		}
		g.MemberGroupIDs = ids
	}
	return nil
}

func (s *Store) handleGroupRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groupFromPath(req, d)
	if g == nil {
		return nil, nil
	}
	return logical.DataResponse(s.groupData(g)), nil
}

// groupData renders a group as Vault does (caller holds mu).
func (s *Store) groupData(g *Group) map[string]any {
	return map[string]any{
		"id": g.ID, "name": g.Name, "type": g.Type, "policies": nonNil(g.Policies), "metadata": g.Metadata,
		"member_entity_ids": nonNil(g.MemberEntityIDs), "member_group_ids": nonNil(g.MemberGroupIDs),
		"parent_group_ids": nonNil(slices.Clone(s.parentGroups[g.ID])), "alias": s.groupAliasData(g),
		"modify_index": g.ModifyIndex, "namespace_id": "root",
		"creation_time": stamp(g.CreationTime), "last_update_time": stamp(g.LastUpdateTime),
	}
}

func (s *Store) handleGroupDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupFromPath(req, d)
	if g == nil {
		return nil, nil
	}
	b := &batch{}
	parents, err := s.withoutMember(b, "", g.ID)
	if err != nil {
		return nil, err
	}
	b.del(groupPrefix + g.ID)
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	for _, p := range parents {
		s.setGroup(p)
	}
	s.dropGroup(g.ID)
	s.invalidate()
	return nil, nil
}

func (s *Store) handleGroupList(byName bool) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		keys := make([]string, 0, len(s.groups))
		info := make(map[string]any, len(s.groups))
		for id, g := range s.groups {
			key := id
			if byName {
				key = g.Name
			}
			keys = append(keys, key)
			info[key] = map[string]any{"name": g.Name, "num_member_entities": len(g.MemberEntityIDs),
				"num_parent_groups": len(s.parentGroups[id])}
		}
		slices.Sort(keys)
		return &logical.Response{Data: map[string]any{"keys": keys, "key_info": info}}, nil
	}
}
