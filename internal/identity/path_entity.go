package identity

import (
	"context"
	"slices"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

type opMap = map[logical.Operation]logical.OperationFunc

// Backend returns the identity/ HTTP paths. Handlers use the store's own
// view, not req.Storage.
func (s *Store) Backend() logical.Backend {
	var paths []*logical.Path
	paths = append(paths, s.entityPaths()...)
	paths = append(paths, s.aliasPaths()...)
	paths = append(paths, s.groupPaths()...)
	paths = append(paths, s.groupAliasPaths()...)
	paths = append(paths, s.lookupPaths()...)
	paths = append(paths, s.mfaMethodPaths()...)
	paths = append(paths, s.enforcementPaths()...)
	return (&logical.Framework{PathList: paths,
		Help: "The identity store: entities, aliases, groups (internal and external, with group aliases), and login MFA (TOTP methods, login enforcements)."}).Compile()
}

var _ logical.Backend = (*logical.Framework)(nil)

func entityFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"id":       {Type: logical.TypeString, Description: "ID of the entity; when set, the entity is updated"},
		"name":     {Type: logical.TypeString, Description: "name of the entity (unique, case-insensitive)"},
		"policies": {Type: logical.TypeCommaStringSlice, Description: "policies granted to the entity's tokens"},
		"metadata": {Type: logical.TypeKVPairs, Description: "metadata as key=value pairs or a map of strings"},
		"disabled": {Type: logical.TypeBool, Description: "a disabled entity's tokens and logins are refused"},
	}
}

func (s *Store) entityPaths() []*logical.Path {
	byID := entityFields()
	byName := entityFields()
	delete(byName, "id")
	return []*logical.Path{
		{Pattern: "entity", Fields: entityFields(), Operations: opMap{logical.UpdateOperation: s.handleEntityUpsert},
			HelpSynopsis: "Create an entity, or update the one named by id or name."},
		{Pattern: "entity/id/?", Operations: opMap{logical.ListOperation: s.handleEntityList(false)},
			HelpSynopsis: "List entity IDs."},
		{Pattern: "entity/id/(?P<id>[^/]+)", Fields: byID, Operations: opMap{
			logical.ReadOperation:   s.handleEntityRead,
			logical.UpdateOperation: s.handleEntityUpdateByID,
			logical.DeleteOperation: s.handleEntityDelete,
		}, HelpSynopsis: "Read, update or delete an entity by ID."},
		{Pattern: "entity/name/?", Operations: opMap{logical.ListOperation: s.handleEntityList(true)},
			HelpSynopsis: "List entity names."},
		{Pattern: "entity/name/(?P<name>[^/]+)", Fields: byName, Operations: opMap{
			logical.ReadOperation:   s.handleEntityRead,
			logical.UpdateOperation: s.handleEntityUpsert,
			logical.DeleteOperation: s.handleEntityDelete,
		}, HelpSynopsis: "Read, create or update, or delete an entity by name."},
		s.mergePath(),
	}
}

func (s *Store) handleEntityUpdateByID(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return s.upsertEntity(ctx, d, true)
}

func (s *Store) handleEntityUpsert(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return s.upsertEntity(ctx, d, false)
}

// upsertEntity creates or updates an entity as Vault does: by id when
// given (it must exist), else by name (created when absent).
func (s *Store) upsertEntity(ctx context.Context, d *logical.FieldData, needID bool) (*logical.Response, error) {
	id, name := strings.TrimSpace(str(d, "id")), str(d, "name")
	if name != "" {
		if err := checkName("entity", name); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var e *Entity
	if id != "" || needID {
		if e = s.entities[id]; e == nil {
			return nil, logical.InvalidRequest("entity not found from id")
		}
	}
	if other := s.entityByName(name); name != "" && other != nil {
		if e == nil {
			e = other
		} else if other.ID != e.ID {
			return nil, logical.InvalidRequest("entity name is already in use")
		}
	}
	now := s.now().UTC()
	fresh := e == nil
	if fresh {
		e = s.newEntity(now, name)
	} else {
		e = e.clone()
		if name != "" {
			e.Name = name
		}
	}
	if err := applyEntityFields(e, d); err != nil {
		return nil, err
	}
	e.LastUpdateTime = now
	b := &batch{}
	if err := b.put(entityPrefix+e.ID, e); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	s.setEntity(e)
	s.invalidate()
	if !fresh {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"id": e.ID, "name": e.Name, "aliases": []string{}}), nil
}

func applyEntityFields(e *Entity, d *logical.FieldData) error {
	if v, ok := strs(d, "policies"); ok {
		p, err := normalizePolicies(v)
		if err != nil {
			return err
		}
		e.Policies = p
	}
	if m, ok := kv(d, "metadata"); ok {
		e.Metadata = m
	}
	if v, ok, _ := d.GetOk("disabled"); ok {
		e.Disabled, _ = v.(bool)
	}
	return nil
}

// entityFromPath resolves the entity a path names by ID or name (caller
// holds mu).
func (s *Store) entityFromPath(req *logical.Request, d *logical.FieldData) *Entity {
	if strings.HasPrefix(req.Path, "entity/name/") {
		return s.entityByName(str(d, "name"))
	}
	return s.entities[str(d, "id")]
}

func (s *Store) handleEntityRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.entityFromPath(req, d)
	if e == nil {
		return nil, nil
	}
	return logical.DataResponse(s.entityData(e)), nil
}

// entityData renders an entity as Vault does (caller holds mu). MFA
// secrets are never included.
func (s *Store) entityData(e *Entity) map[string]any {
	aliases := []any{}
	for _, a := range s.aliasesOfEntity(e.ID) {
		aliases = append(aliases, s.aliasData(a))
	}
	direct, inherited := s.groupsOf(e.ID)
	all := append(slices.Clone(direct), inherited...)
	return map[string]any{
		"id": e.ID, "name": e.Name, "policies": nonNil(e.Policies), "metadata": e.Metadata,
		"disabled": e.Disabled, "merged_entity_ids": e.MergedEntityIDs, "namespace_id": "root",
		"aliases": aliases, "direct_group_ids": nonNil(direct), "inherited_group_ids": nonNil(inherited),
		"group_ids": nonNil(all), "creation_time": stamp(e.CreationTime), "last_update_time": stamp(e.LastUpdateTime),
	}
}

func (s *Store) handleEntityDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entityFromPath(req, d)
	if e == nil {
		return nil, nil
	}
	return nil, s.deleteEntity(ctx, e)
}

// deleteEntity removes an entity, its aliases, its MFA secrets and its
// group memberships in one write (caller holds mu for writing).
func (s *Store) deleteEntity(ctx context.Context, e *Entity) error {
	b := &batch{}
	aliases := s.aliasesOfEntity(e.ID)
	for _, a := range aliases {
		b.del(aliasPrefix + a.ID)
	}
	for mid := range s.methods {
		b.del(secretPrefix + mid + "/" + e.ID)
	}
	groups, err := s.withoutMember(b, e.ID, "")
	if err != nil {
		return err
	}
	b.del(entityPrefix + e.ID)
	if err := s.commit(ctx, b); err != nil {
		return err
	}
	for _, a := range aliases {
		s.dropAlias(a.ID)
	}
	for _, g := range groups {
		s.setGroup(g)
	}
	s.dropEntity(e.ID)
	s.invalidate()
	return nil
}

// withoutMember queues updates of every group listing entityID (or
// groupID) as a member, with that member removed, and returns the new
// groups (caller holds mu).
func (s *Store) withoutMember(b *batch, entityID, groupID string) ([]*Group, error) {
	var out []*Group
	now := s.now().UTC()
	for _, g := range s.groups {
		inE := entityID != "" && slices.Contains(g.MemberEntityIDs, entityID)
		inG := groupID != "" && slices.Contains(g.MemberGroupIDs, groupID)
		if !inE && !inG {
			continue
		}
		g = g.clone()
		g.MemberEntityIDs = slices.DeleteFunc(g.MemberEntityIDs, func(x string) bool { return x == entityID })
		g.MemberGroupIDs = slices.DeleteFunc(g.MemberGroupIDs, func(x string) bool { return x == groupID })
		g.ModifyIndex++
		g.LastUpdateTime = now
		if err := b.put(groupPrefix+g.ID, g); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

func (s *Store) handleEntityList(byName bool) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		keys := make([]string, 0, len(s.entities))
		info := make(map[string]any, len(s.entities))
		for id, e := range s.entities {
			key := id
			if byName {
				key = e.Name
			}
			keys = append(keys, key)
			entry := map[string]any{"name": e.Name}
			if as := s.aliasesOfEntity(id); len(as) > 0 {
				list := make([]any, 0, len(as))
				for _, a := range as {
					list = append(list, map[string]any{"id": a.ID, "name": a.Name, "mount_accessor": a.MountAccessor,
						"mount_type": s.mountOf(a).Type, "mount_path": s.mountOf(a).Path})
				}
				entry["aliases"] = list
			}
			info[key] = entry
		}
		slices.Sort(keys)
		return &logical.Response{Data: map[string]any{"keys": keys, "key_info": info}}, nil
	}
}
