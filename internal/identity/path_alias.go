package identity

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Limits of alias custom_metadata (Vault's).
const (
	maxCustomMetaKeys   = 64
	maxCustomMetaKeyLen = 128
	maxCustomMetaValLen = 512
)

func aliasFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"id":              {Type: logical.TypeString, Description: "ID of the alias; when set, the alias is updated"},
		"name":            {Type: logical.TypeString, Description: "the caller's name in the auth mount"},
		"canonical_id":    {Type: logical.TypeString, Description: "ID of the entity the alias belongs to (a new entity when empty)"},
		"entity_id":       {Type: logical.TypeString, Description: "old name of canonical_id"},
		"mount_accessor":  {Type: logical.TypeString, Description: "accessor of the auth mount"},
		"custom_metadata": {Type: logical.TypeKVPairs, Description: "metadata kept with the alias"},
	}
}

func (s *Store) aliasPaths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "entity-alias", Fields: aliasFields(), Operations: opMap{logical.UpdateOperation: s.handleAliasWrite},
			HelpSynopsis: "Create an entity alias, or update the one named by id or by mount_accessor and name."},
		{Pattern: "entity-alias/id/?", Operations: opMap{logical.ListOperation: s.handleAliasList},
			HelpSynopsis: "List entity alias IDs."},
		{Pattern: "entity-alias/id/(?P<id>[^/]+)", Fields: aliasFields(), Operations: opMap{
			logical.ReadOperation: s.handleAliasRead, logical.UpdateOperation: s.handleAliasWrite,
			logical.DeleteOperation: s.handleAliasDelete},
			HelpSynopsis: "Read, update or delete an entity alias by ID."},
	}
}

// mountOf returns the mount an alias belongs to, as far as it is known.
func (s *Store) mountOf(a *Alias) Mount {
	if s.mounts != nil {
		if m, ok := s.mounts(a.MountAccessor); ok {
			return m
		}
	}
	return Mount{Type: a.MountType}
}

func (s *Store) aliasData(a *Alias) map[string]any {
	m := s.mountOf(a)
	return map[string]any{
		"id": a.ID, "canonical_id": a.CanonicalID, "mount_accessor": a.MountAccessor, "mount_type": m.Type,
		"mount_path": m.Path, "name": a.Name, "metadata": a.Metadata, "custom_metadata": a.CustomMetadata,
		"creation_time": stamp(a.CreationTime), "last_update_time": stamp(a.LastUpdateTime),
		"local": false, "merged_from_canonical_ids": nil, "namespace_id": "root",
	}
}

func checkCustomMetadata(m map[string]string) error {
	if len(m) > maxCustomMetaKeys {
		return logical.InvalidRequest("custom_metadata has more than %d keys", maxCustomMetaKeys)
	}
	for k, v := range m {
		if k == "" || len(k) > maxCustomMetaKeyLen {
			return logical.InvalidRequest("custom_metadata keys must be 1 to %d bytes long", maxCustomMetaKeyLen)
		}
		if len(v) > maxCustomMetaValLen {
			return logical.InvalidRequest("custom_metadata value of %q is longer than %d bytes", k, maxCustomMetaValLen)
		}
	}
	return nil
}

// aliasInput is a decoded entity-alias write.
type aliasInput struct {
	id, name, accessor, canonical string
	custom                        map[string]string
	customSent                    bool
}

func readAliasInput(d *logical.FieldData) (aliasInput, error) {
	in := aliasInput{id: strings.TrimSpace(str(d, "id")), name: str(d, "name"),
		accessor: strings.TrimSpace(str(d, "mount_accessor")), canonical: strings.TrimSpace(str(d, "canonical_id"))}
	if in.canonical == "" {
		in.canonical = strings.TrimSpace(str(d, "entity_id"))
	}
	in.custom, in.customSent = kv(d, "custom_metadata")
	if in.name != "" {
		if err := checkAliasName("alias", in.name); err != nil {
			return in, err
		}
	}
	return in, checkCustomMetadata(in.custom)
}

func (s *Store) handleAliasWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, err := readAliasInput(d)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.id != "" {
		a := s.aliases[in.id]
		if a == nil {
			return nil, logical.InvalidRequest("invalid alias ID provided")
		}
		if in.name == "" && in.accessor == "" && in.canonical == "" && !in.customSent {
			return nil, nil // nothing to change
		}
		return s.updateAlias(ctx, a, in)
	}
	if in.name == "" || in.accessor == "" {
		return nil, logical.InvalidRequest("'id' or 'mount_accessor' and 'name' must be provided")
	}
	if err := s.checkAccessor(in.accessor); err != nil {
		return nil, err
	}
	if a := s.aliasFor(in.accessor, in.name); a != nil {
		return s.updateAlias(ctx, a, in)
	}
	return s.createAlias(ctx, in)
}

// checkAccessor refuses an unknown auth mount accessor when mounts are known.
func (s *Store) checkAccessor(accessor string) error {
	if s.mounts == nil {
		return nil
	}
	if _, ok := s.mounts(accessor); !ok {
		return logical.InvalidRequest("invalid mount accessor %q", accessor)
	}
	return nil
}

// hasAliasOn reports whether the entity has an alias on the mount other
// than except (caller holds mu).
func (s *Store) hasAliasOn(entityID, accessor, except string) bool {
	for id := range s.aliasesOf[entityID] {
		if id != except && s.aliases[id].MountAccessor == accessor {
			return true
		}
	}
	return false
}

// createAlias adds an alias to the canonical entity, or to a new entity
// (caller holds mu for writing).
func (s *Store) createAlias(ctx context.Context, in aliasInput) (*logical.Response, error) {
	now := s.now().UTC()
	b := &batch{}
	var e *Entity
	if in.canonical != "" {
		if e = s.entities[in.canonical]; e == nil {
			return nil, logical.InvalidRequest("invalid canonical ID")
		}
		if s.hasAliasOn(e.ID, in.accessor, "") {
			return nil, logical.InvalidRequest("Alias already exists for requested entity and mount accessor")
		}
	} else {
		e = s.newEntity(now, "")
		if err := b.put(entityPrefix+e.ID, e); err != nil {
			return nil, err
		}
	}
	a := &Alias{ID: newID(), CanonicalID: e.ID, MountAccessor: in.accessor, Name: in.name,
		CustomMetadata: in.custom, CreationTime: now, LastUpdateTime: now}
	if s.mounts != nil {
		a.MountType = s.mountOf(a).Type
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
	return logical.DataResponse(map[string]any{"id": a.ID, "canonical_id": e.ID}), nil
}

// updateAlias renames, moves or re-annotates an alias (caller holds mu for
// writing).
func (s *Store) updateAlias(ctx context.Context, old *Alias, in aliasInput) (*logical.Response, error) {
	a := *old
	if in.name != "" {
		a.Name = in.name
	}
	if in.accessor != "" && in.accessor != a.MountAccessor {
		if err := s.checkAccessor(in.accessor); err != nil {
			return nil, err
		}
		if s.hasAliasOn(a.CanonicalID, in.accessor, a.ID) {
			return nil, logical.InvalidRequest("Alias cannot be updated as the entity already has an alias for the given 'mount_accessor'")
		}
		a.MountAccessor, a.MountType = in.accessor, ""
	}
	if other := s.aliasFor(a.MountAccessor, a.Name); other != nil && other.ID != a.ID {
		return nil, logical.InvalidRequest("alias with combination of mount accessor and name already exists")
	}
	if in.canonical != "" && in.canonical != a.CanonicalID {
		if s.entities[in.canonical] == nil {
			return nil, logical.InvalidRequest("given 'canonical_id' is not associated with an entity")
		}
		if s.hasAliasOn(in.canonical, a.MountAccessor, a.ID) {
			return nil, logical.InvalidRequest("Alias cannot be updated as the given entity already has an alias for this mount")
		}
		a.CanonicalID = in.canonical
	}
	if in.customSent {
		a.CustomMetadata = in.custom
	}
	if s.mounts != nil {
		a.MountType = s.mountOf(&a).Type
	}
	a.LastUpdateTime = s.now().UTC()
	b := &batch{}
	if err := b.put(aliasPrefix+a.ID, &a); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	s.setAlias(&a)
	s.invalidate()
	return logical.DataResponse(map[string]any{"id": a.ID, "canonical_id": a.CanonicalID}), nil
}

func (s *Store) handleAliasRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.aliases[str(d, "id")]
	if a == nil {
		return nil, nil
	}
	return logical.DataResponse(s.aliasData(a)), nil
}

func (s *Store) handleAliasDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.aliases[str(d, "id")]
	if a == nil {
		return nil, nil
	}
	b := &batch{}
	b.del(aliasPrefix + a.ID)
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	s.dropAlias(a.ID)
	s.invalidate()
	return nil, nil
}

func (s *Store) handleAliasList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := slices.Sorted(maps.Keys(s.aliases))
	info := make(map[string]any, len(keys))
	for _, id := range keys {
		a := s.aliases[id]
		m := s.mountOf(a)
		info[id] = map[string]any{"canonical_id": a.CanonicalID, "custom_metadata": a.CustomMetadata, "local": false,
			"mount_accessor": a.MountAccessor, "mount_path": m.Path, "mount_type": m.Type, "name": a.Name}
	}
	return &logical.Response{Data: map[string]any{"keys": keys, "key_info": info}}, nil
}
