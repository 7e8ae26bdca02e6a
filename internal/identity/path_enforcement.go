package identity

import (
	"context"
	"maps"
	"slices"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (s *Store) enforcementPaths() []*logical.Path {
	fields := map[string]*logical.FieldSchema{
		"name":                  {Type: logical.TypeString, Description: "name of the login enforcement"},
		"mfa_method_ids":        {Type: logical.TypeCommaStringSlice, Description: "MFA methods, any one of which satisfies the enforcement (required)"},
		"auth_method_accessors": {Type: logical.TypeCommaStringSlice, Description: "auth mount accessors whose logins need MFA"},
		"auth_method_types":     {Type: logical.TypeCommaStringSlice, Description: "auth method types whose logins need MFA"},
		"identity_group_ids":    {Type: logical.TypeCommaStringSlice, Description: "groups whose members (direct or inherited) need MFA"},
		"identity_entity_ids":   {Type: logical.TypeCommaStringSlice, Description: "entities that need MFA"},
	}
	return []*logical.Path{
		{Pattern: "mfa/login-enforcement/?", Operations: opMap{logical.ListOperation: s.handleEnforcementList},
			HelpSynopsis: "List login enforcements."},
		{Pattern: "mfa/login-enforcement/(?P<name>[^/]+)", Fields: fields, Operations: opMap{
			logical.ReadOperation: s.handleEnforcementRead, logical.UpdateOperation: s.handleEnforcementWrite,
			logical.DeleteOperation: s.handleEnforcementDelete},
			HelpSynopsis: "Create, update, read or delete a login enforcement: which logins need which MFA methods."},
	}
}

func (s *Store) handleEnforcementWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := str(d, "name")
	if err := checkName("login enforcement", name); err != nil {
		return nil, err
	}
	en := &Enforcement{Name: name}
	for field, dst := range map[string]*[]string{
		"mfa_method_ids": &en.MFAMethodIDs, "auth_method_accessors": &en.AuthMethodAccessors,
		"auth_method_types": &en.AuthMethodTypes, "identity_group_ids": &en.IdentityGroupIDs,
		"identity_entity_ids": &en.IdentityEntityIDs,
	} {
		v, _ := strs(d, field)
		*dst = uniqueIDs(v)
	}
	if len(en.MFAMethodIDs) == 0 {
		return nil, logical.InvalidRequest("missing method ids")
	}
	if len(en.AuthMethodAccessors)+len(en.AuthMethodTypes)+len(en.IdentityGroupIDs)+len(en.IdentityEntityIDs) == 0 {
		return nil, logical.InvalidRequest("One of auth_method_accessors, auth_method_types, identity_group_ids, identity_entity_ids must be specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkEnforcementRefs(en); err != nil {
		return nil, err
	}
	if old := s.enforcements[name]; old != nil {
		en.ID = old.ID
	} else {
		en.ID = newID()
	}
	b := &batch{}
	if err := b.put(enforcementPrefix+name, en); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	s.enforcements[name] = en
	return nil, nil
}

// checkEnforcementRefs refuses references to things that do not exist
// (caller holds mu).
func (s *Store) checkEnforcementRefs(en *Enforcement) error {
	for _, id := range en.MFAMethodIDs {
		if s.methods[id] == nil {
			return logical.InvalidRequest("MFA method %q does not exist", id)
		}
	}
	if s.mounts != nil {
		for _, acc := range en.AuthMethodAccessors {
			if _, ok := s.mounts(acc); !ok {
				return logical.InvalidRequest("auth method accessor %q does not exist", acc)
			}
		}
	}
	for _, id := range en.IdentityGroupIDs {
		if s.groups[id] == nil {
			return logical.InvalidRequest("identity group %q does not exist", id)
		}
	}
	for _, id := range en.IdentityEntityIDs {
		if s.entities[id] == nil {
			return logical.InvalidRequest("identity entity %q does not exist", id)
		}
	}
	return nil
}

func enforcementData(en *Enforcement) map[string]any {
	return map[string]any{
		"id": en.ID, "name": en.Name, "namespace_id": "root", "namespace_path": "",
		"mfa_method_ids": nonNil(en.MFAMethodIDs), "auth_method_accessors": nonNil(en.AuthMethodAccessors),
		"auth_method_types": nonNil(en.AuthMethodTypes), "identity_group_ids": nonNil(en.IdentityGroupIDs),
		"identity_entity_ids": nonNil(en.IdentityEntityIDs),
	}
}

func (s *Store) handleEnforcementRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	en := s.enforcements[str(d, "name")]
	if en == nil {
		return nil, nil
	}
	return logical.DataResponse(enforcementData(en)), nil
}

func (s *Store) handleEnforcementDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := str(d, "name")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enforcements[name] == nil {
		return nil, nil
	}
	b := &batch{}
	b.del(enforcementPrefix + name)
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	delete(s.enforcements, name)
	return nil, nil
}

func (s *Store) handleEnforcementList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := slices.Sorted(maps.Keys(s.enforcements))
	info := make(map[string]any, len(keys))
	for _, n := range keys {
		info[n] = enforcementData(s.enforcements[n])
	}
	return &logical.Response{Data: map[string]any{"keys": keys, "key_info": info}}, nil
}
