package identity

import (
	"context"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (s *Store) lookupPaths() []*logical.Path {
	fields := func(kind string) map[string]*logical.FieldSchema {
		return map[string]*logical.FieldSchema{
			"id":                   {Type: logical.TypeString, Description: "ID of the " + kind},
			"name":                 {Type: logical.TypeString, Description: "name of the " + kind},
			"alias_id":             {Type: logical.TypeString, Description: "ID of an alias of the " + kind},
			"alias_name":           {Type: logical.TypeString, Description: "name of an alias (with alias_mount_accessor)"},
			"alias_mount_accessor": {Type: logical.TypeString, Description: "mount accessor of alias_name"},
		}
	}
	return []*logical.Path{
		{Pattern: "lookup/entity", Fields: fields("entity"), Operations: opMap{logical.UpdateOperation: s.handleLookupEntity},
			HelpSynopsis: "Find an entity by ID, name, alias ID, or alias name and mount accessor."},
		{Pattern: "lookup/group", Fields: fields("group"), Operations: opMap{logical.UpdateOperation: s.handleLookupGroup},
			HelpSynopsis: "Find a group by ID, name, group alias ID, or group alias name and mount accessor."},
	}
}

// lookupKey returns the one criterion a lookup request uses.
func lookupKey(d *logical.FieldData) (string, error) {
	var set []string
	for _, f := range []string{"id", "name", "alias_id", "alias_name"} {
		if str(d, f) != "" {
			set = append(set, f)
		}
	}
	switch {
	case len(set) == 0:
		return "", logical.InvalidRequest("one of id, name, alias_id, or alias_name with alias_mount_accessor must be given")
	case len(set) > 1:
		return "", logical.InvalidRequest("only one of id, name, alias_id or alias_name may be given")
	case set[0] == "alias_name" && str(d, "alias_mount_accessor") == "":
		return "", logical.InvalidRequest("alias_mount_accessor must be given with alias_name")
	}
	return set[0], nil
}

func (s *Store) handleLookupEntity(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	by, err := lookupKey(d)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var e *Entity
	switch by {
	case "id":
		e = s.entities[str(d, "id")]
	case "name":
		e = s.entityByName(str(d, "name"))
	case "alias_id":
		if a := s.aliases[str(d, "alias_id")]; a != nil {
			e = s.entities[a.CanonicalID]
		}
	case "alias_name":
		if a := s.aliasFor(str(d, "alias_mount_accessor"), str(d, "alias_name")); a != nil {
			e = s.entities[a.CanonicalID]
		}
	}
	if e == nil {
		return nil, nil
	}
	return logical.DataResponse(s.entityData(e)), nil
}

func (s *Store) handleLookupGroup(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	by, err := lookupKey(d)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var g *Group
	switch by {
	case "id":
		g = s.groups[str(d, "id")]
	case "name":
		g = s.groupByName(str(d, "name"))
	case "alias_id":
		g = s.groups[s.galiasIDs[str(d, "alias_id")]]
	case "alias_name":
		g = s.groupByAlias(str(d, "alias_mount_accessor"), str(d, "alias_name"))
	}
	if g == nil {
		return nil, nil
	}
	return logical.DataResponse(s.groupData(g)), nil
}
