package identity

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

type opMap = map[logical.Operation]logical.OperationFunc

// Backend returns the identity/ HTTP paths.
func (s *Store) Backend() logical.Backend {
	ent := map[string]*logical.FieldSchema{
		"id":       {Type: logical.TypeString, Description: "entity ID"},
		"name":     {Type: logical.TypeString, Description: "entity name"},
		"policies": {Type: logical.TypeCommaStringSlice, Description: "policies of the entity's tokens"},
		"metadata": {Type: logical.TypeKVPairs, Description: "metadata"},
		"disabled": {Type: logical.TypeBool, Description: "a disabled entity's tokens and logins are refused"},
	}
	paths := []*logical.Path{
		{Pattern: "entity", Fields: ent, Operations: opMap{logical.UpdateOperation: s.handleEntityWrite},
			HelpSynopsis: "Create or update an entity."},
		{Pattern: "entity/id/?", Operations: opMap{logical.ListOperation: s.handleEntityList(false)}, HelpSynopsis: "List entity IDs."},
		{Pattern: "entity/id/(?P<id>[^/]+)", Fields: ent, Operations: opMap{logical.ReadOperation: s.handleEntityRead,
			logical.UpdateOperation: s.handleEntityWrite, logical.DeleteOperation: s.handleEntityDelete},
			HelpSynopsis: "Read, update or delete an entity by ID."},
		{Pattern: "entity/name/?", Operations: opMap{logical.ListOperation: s.handleEntityList(true)}, HelpSynopsis: "List entity names."},
		{Pattern: "entity/name/(?P<name>[^/]+)", Fields: ent, Operations: opMap{logical.ReadOperation: s.handleEntityRead,
			logical.UpdateOperation: s.handleEntityWrite, logical.DeleteOperation: s.handleEntityDelete},
			HelpSynopsis: "Read, update or delete an entity by name."},
		{Pattern: "lookup/entity", Fields: map[string]*logical.FieldSchema{
			"id": {Type: logical.TypeString}, "name": {Type: logical.TypeString},
			"alias_name": {Type: logical.TypeString}, "alias_mount_accessor": {Type: logical.TypeString}},
			Operations: opMap{logical.UpdateOperation: s.handleLookupEntity}, HelpSynopsis: "Find an entity."},
	}
	paths = append(paths, s.aliasPaths()...)
	paths = append(paths, s.groupPaths()...)
	paths = append(paths, s.mfaPaths()...)
	return (&logical.Framework{PathList: paths, Help: "The identity store: entities, aliases and groups."}).Compile()
}

func (s *Store) handleEntityWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, name := d.Get("id").(string), strings.TrimSpace(d.Get("name").(string))
	var e *Entity
	switch {
	case id != "":
		if e = s.entities[id]; e == nil {
			return nil, logical.InvalidRequest("entity %q does not exist", id)
		}
	case name != "":
		e = s.entityByName(name)
	}
	now := s.now().UTC()
	fresh := e == nil
	if fresh {
		id := newID()
		e = &Entity{ID: id, Name: "entity_" + id[:8], Metadata: map[string]string{}, CreationTime: now}
	} else {
		cp := *e
		e = &cp
	}
	if name != "" && name != e.Name {
		if other := s.entityByName(name); other != nil && other.ID != e.ID {
			return nil, logical.InvalidRequest("entity name %q is already in use", name)
		}
		e.Name = name
	}
	if v, ok, _ := d.GetOk("policies"); ok {
		e.Policies = normalize(v.([]string))
	}
	if v, ok, _ := d.GetOk("metadata"); ok {
		e.Metadata = v.(map[string]string)
	}
	if v, ok, _ := d.GetOk("disabled"); ok {
		e.Disabled = v.(bool)
	}
	e.LastUpdateTime = now
	if err := s.putEntity(ctx, e); err != nil {
		return nil, err
	}
	if !fresh {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"id": e.ID, "name": e.Name}), nil
}

func normalize(in []string) []string {
	out := []string{}
	for _, p := range in {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" && !contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// entityFromPath resolves the entity named by id or name (caller holds mu).
func (s *Store) entityFromPath(d *logical.FieldData) *Entity {
	if id, _ := d.Raw["id"].(string); id != "" {
		return s.entities[id]
	}
	if n, _ := d.Raw["name"].(string); n != "" {
		return s.entityByName(n)
	}
	return nil
}

func (s *Store) handleEntityRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.entityFromPath(d)
	if e == nil {
		return nil, nil
	}
	return logical.DataResponse(s.entityData(e)), nil
}

// entityData renders an entity as Vault does (caller holds mu).
func (s *Store) entityData(e *Entity) map[string]any {
	aliases := []map[string]any{}
	for _, a := range s.aliases {
		if a.CanonicalID == e.ID {
			aliases = append(aliases, aliasData(a))
		}
	}
	sort.Slice(aliases, func(i, j int) bool { return aliases[i]["id"].(string) < aliases[j]["id"].(string) })
	direct, all := s.groupsOf(e.ID)
	inherited := []string{}
	for _, g := range all {
		if !contains(direct, g) {
			inherited = append(inherited, g)
		}
	}
	return map[string]any{
		"id": e.ID, "name": e.Name, "policies": nonNil(e.Policies), "metadata": e.Metadata, "disabled": e.Disabled,
		"aliases": aliases, "direct_group_ids": nonNil(direct), "group_ids": nonNil(all), "inherited_group_ids": inherited,
		"creation_time": e.CreationTime.Format(time.RFC3339Nano), "last_update_time": e.LastUpdateTime.Format(time.RFC3339Nano),
		"namespace_id": "root",
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Store) handleEntityDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entityFromPath(d)
	if e == nil {
		return nil, nil
	}
	for id, a := range s.aliases {
		if a.CanonicalID == e.ID {
			if err := s.view.Delete(ctx, aliasPrefix+id); err != nil {
				return nil, err
			}
			delete(s.aliases, id)
		}
	}
	for _, g := range s.groups {
		if contains(g.MemberEntityIDs, e.ID) {
			cp := *g
			cp.MemberEntityIDs = without(g.MemberEntityIDs, e.ID)
			if err := s.putGroup(ctx, &cp); err != nil {
				return nil, err
			}
		}
	}
	if err := s.view.Delete(ctx, entityPrefix+e.ID); err != nil {
		return nil, err
	}
	delete(s.entities, e.ID)
	clear(s.policies)
	return nil, nil
}

func without(list []string, x string) []string {
	out := []string{}
	for _, v := range list {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

func (s *Store) handleEntityList(byName bool) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		keys := []string{}
		for id, e := range s.entities {
			if byName {
				keys = append(keys, e.Name)
			} else {
				keys = append(keys, id)
			}
		}
		sort.Strings(keys)
		return logical.ListResponse(keys), nil
	}
}

func (s *Store) handleLookupEntity(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var e *Entity
	switch {
	case d.Get("id").(string) != "":
		e = s.entities[d.Get("id").(string)]
	case d.Get("name").(string) != "":
		e = s.entityByName(d.Get("name").(string))
	case d.Get("alias_name").(string) != "":
		if a := s.aliasFor(d.Get("alias_mount_accessor").(string), d.Get("alias_name").(string)); a != nil {
			e = s.entities[a.CanonicalID]
		}
	default:
		return nil, logical.InvalidRequest("one of id, name or alias_name with alias_mount_accessor is required")
	}
	if e == nil {
		return nil, nil
	}
	return logical.DataResponse(s.entityData(e)), nil
}
