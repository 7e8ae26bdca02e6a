package identity

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func aliasData(a *Alias) map[string]any {
	return map[string]any{"id": a.ID, "canonical_id": a.CanonicalID, "mount_accessor": a.MountAccessor,
		"mount_type": a.MountType, "name": a.Name, "metadata": a.Metadata, "creation_time": a.CreationTime.Format(time.RFC3339Nano)}
}

func (s *Store) aliasPaths() []*logical.Path {
	fields := map[string]*logical.FieldSchema{
		"id":             {Type: logical.TypeString, Description: "alias ID"},
		"name":           {Type: logical.TypeString, Description: "the caller's name in the auth mount"},
		"canonical_id":   {Type: logical.TypeString, Description: "entity the alias belongs to"},
		"mount_accessor": {Type: logical.TypeString, Description: "accessor of the auth mount"},
	}
	return []*logical.Path{
		{Pattern: "entity-alias", Fields: fields, Operations: opMap{logical.UpdateOperation: s.handleAliasCreate},
			HelpSynopsis: "Create an entity alias."},
		{Pattern: "entity-alias/id/?", Operations: opMap{logical.ListOperation: s.handleAliasList}, HelpSynopsis: "List aliases."},
		{Pattern: "entity-alias/id/(?P<id>[^/]+)", Fields: fields, Operations: opMap{
			logical.ReadOperation: s.handleAliasRead, logical.DeleteOperation: s.handleAliasDelete},
			HelpSynopsis: "Read or delete an alias."},
	}
}

func (s *Store) handleAliasCreate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name, canon, acc := d.Get("name").(string), d.Get("canonical_id").(string), d.Get("mount_accessor").(string)
	if name == "" || canon == "" || acc == "" {
		return nil, logical.InvalidRequest("name, canonical_id and mount_accessor are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entities[canon] == nil {
		return nil, logical.InvalidRequest("entity %q does not exist", canon)
	}
	if a := s.aliasFor(acc, name); a != nil {
		return nil, logical.InvalidRequest("alias %q already exists in mount %q (entity %s)", name, acc, a.CanonicalID)
	}
	a := &Alias{ID: newID(), CanonicalID: canon, MountAccessor: acc, Name: name, CreationTime: s.now().UTC()}
	if err := s.putAlias(ctx, a); err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"id": a.ID, "canonical_id": canon}), nil
}

func (s *Store) handleAliasList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := []string{}
	for id := range s.aliases {
		keys = append(keys, id)
	}
	sort.Strings(keys)
	return logical.ListResponse(keys), nil
}

func (s *Store) handleAliasRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.aliases[d.Get("id").(string)]
	if a == nil {
		return nil, nil
	}
	return logical.DataResponse(aliasData(a)), nil
}

func (s *Store) handleAliasDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := d.Get("id").(string)
	if err := s.view.Delete(ctx, aliasPrefix+id); err != nil {
		return nil, err
	}
	delete(s.aliases, id)
	return nil, nil
}

func (s *Store) groupPaths() []*logical.Path {
	fields := map[string]*logical.FieldSchema{
		"id":                {Type: logical.TypeString, Description: "group ID"},
		"name":              {Type: logical.TypeString, Description: "group name"},
		"type":              {Type: logical.TypeString, Description: `"internal" (the only type supported)`},
		"policies":          {Type: logical.TypeCommaStringSlice, Description: "policies granted to members"},
		"member_entity_ids": {Type: logical.TypeCommaStringSlice, Description: "member entities"},
		"member_group_ids":  {Type: logical.TypeCommaStringSlice, Description: "member groups (their members inherit)"},
		"metadata":          {Type: logical.TypeKVPairs, Description: "metadata"},
	}
	rw := opMap{logical.ReadOperation: s.handleGroupRead, logical.UpdateOperation: s.handleGroupWrite, logical.DeleteOperation: s.handleGroupDelete}
	return []*logical.Path{
		{Pattern: "group", Fields: fields, Operations: opMap{logical.UpdateOperation: s.handleGroupWrite}, HelpSynopsis: "Create or update a group."},
		{Pattern: "group/id/?", Operations: opMap{logical.ListOperation: s.handleGroupList(false)}, HelpSynopsis: "List group IDs."},
		{Pattern: "group/id/(?P<id>[^/]+)", Fields: fields, Operations: rw, HelpSynopsis: "Read, update or delete a group by ID."},
		{Pattern: "group/name/?", Operations: opMap{logical.ListOperation: s.handleGroupList(true)}, HelpSynopsis: "List group names."},
		{Pattern: "group/name/(?P<name>[^/]+)", Fields: fields, Operations: rw, HelpSynopsis: "Read, update or delete a group by name."},
	}
}

// groupFromRequest finds the group a request names (caller holds mu).
func (s *Store) groupFromRequest(d *logical.FieldData) *Group {
	if id, _ := d.Raw["id"].(string); id != "" {
		return s.groups[id]
	}
	if n, _ := d.Raw["name"].(string); n != "" {
		return s.groupByName(n)
	}
	return nil
}

func (s *Store) handleGroupWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if t := d.Get("type").(string); t != "" && t != "internal" {
		return nil, logical.InvalidRequest("group type %q is not supported: only internal groups exist in kinko", t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, fresh := s.groupFromRequest(d), false
	if id, _ := d.Raw["id"].(string); id != "" && g == nil {
		return nil, logical.InvalidRequest("group %q does not exist", id)
	}
	now := s.now().UTC()
	if g == nil {
		id := newID()
		g, fresh = &Group{ID: id, Name: "group_" + id[:8], Type: "internal", CreationTime: now, Metadata: map[string]string{}}, true
	} else {
		cp := *g
		g = &cp
	}
	if err := s.applyGroupFields(g, d); err != nil {
		return nil, err
	}
	g.LastUpdateTime = now
	if err := s.putGroup(ctx, g); err != nil {
		return nil, err
	}
	if !fresh {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"id": g.ID, "name": g.Name}), nil
}

// applyGroupFields validates and sets the sent fields (caller holds mu).
func (s *Store) applyGroupFields(g *Group, d *logical.FieldData) error {
	if n := strings.TrimSpace(d.Get("name").(string)); n != "" && n != g.Name {
		if other := s.groupByName(n); other != nil && other.ID != g.ID {
			return logical.InvalidRequest("group name %q is already in use", n)
		}
		g.Name = n
	}
	if v, ok, _ := d.GetOk("policies"); ok {
		g.Policies = normalize(v.([]string))
	}
	if v, ok, _ := d.GetOk("metadata"); ok {
		g.Metadata = v.(map[string]string)
	}
	if v, ok, _ := d.GetOk("member_entity_ids"); ok {
		for _, id := range v.([]string) {
			if s.entities[id] == nil {
				return logical.InvalidRequest("entity %q does not exist", id)
			}
		}
		g.MemberEntityIDs = v.([]string)
	}
	if v, ok, _ := d.GetOk("member_group_ids"); ok {
		for _, id := range v.([]string) {
			if s.groups[id] == nil {
				return logical.InvalidRequest("group %q does not exist", id)
			}
			if id == g.ID || s.reaches(id, g.ID) {
				return logical.InvalidRequest("adding group %q as a member would create a cycle", id)
			}
		}
		g.MemberGroupIDs = v.([]string)
	}
	return nil
}

// reaches reports whether group from has target among its members,
// directly or nested (caller holds mu).
func (s *Store) reaches(from, target string) bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if cur == target {
			return true
		}
		if seen[cur] || s.groups[cur] == nil {
			continue
		}
		seen[cur] = true
		stack = append(stack, s.groups[cur].MemberGroupIDs...)
	}
	return false
}

func (s *Store) handleGroupRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groupFromRequest(d)
	if g == nil {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{
		"id": g.ID, "name": g.Name, "type": g.Type, "policies": nonNil(g.Policies), "metadata": g.Metadata,
		"member_entity_ids": nonNil(g.MemberEntityIDs), "member_group_ids": nonNil(g.MemberGroupIDs),
		"creation_time": g.CreationTime.Format(time.RFC3339Nano), "last_update_time": g.LastUpdateTime.Format(time.RFC3339Nano),
	}), nil
}

func (s *Store) handleGroupDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupFromRequest(d)
	if g == nil {
		return nil, nil
	}
	for _, other := range s.groups {
		if contains(other.MemberGroupIDs, g.ID) {
			cp := *other
			cp.MemberGroupIDs = without(other.MemberGroupIDs, g.ID)
			if err := s.putGroup(ctx, &cp); err != nil {
				return nil, err
			}
		}
	}
	if err := s.view.Delete(ctx, groupPrefix+g.ID); err != nil {
		return nil, err
	}
	delete(s.groups, g.ID)
	clear(s.policies)
	return nil, nil
}

func (s *Store) handleGroupList(byName bool) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		keys := []string{}
		for id, g := range s.groups {
			if byName {
				keys = append(keys, g.Name)
			} else {
				keys = append(keys, id)
			}
		}
		sort.Strings(keys)
		return logical.ListResponse(keys), nil
	}
}
