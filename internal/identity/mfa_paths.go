package identity

import (
	"context"
	"sort"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (s *Store) mfaPaths() []*logical.Path {
	method := map[string]*logical.FieldSchema{
		"method_id":               {Type: logical.TypeString, Description: "method ID (update)"},
		"method_name":             {Type: logical.TypeString, Description: "a unique name"},
		"issuer":                  {Type: logical.TypeString, Description: "issuer shown by authenticator apps"},
		"period":                  {Type: logical.TypeDurationSecond, Default: 30, Description: "code lifetime"},
		"digits":                  {Type: logical.TypeInt, Default: 6, Description: "6 or 8"},
		"algorithm":               {Type: logical.TypeString, Default: "SHA1", AllowedValues: []string{"SHA1", "SHA256", "SHA512"}},
		"skew":                    {Type: logical.TypeInt, Default: 1, Description: "periods accepted before/after now (0 or 1)"},
		"key_size":                {Type: logical.TypeInt, Default: 20, Description: "key bytes"},
		"max_validation_attempts": {Type: logical.TypeInt, Default: 5, Description: "failures before validation is refused"},
	}
	gen := map[string]*logical.FieldSchema{
		"method_id": {Type: logical.TypeString, Required: true, Description: "TOTP method ID"},
		"entity_id": {Type: logical.TypeString, Description: "entity (admin endpoints)"},
	}
	enf := map[string]*logical.FieldSchema{
		"name":                  {Type: logical.TypeString},
		"mfa_method_ids":        {Type: logical.TypeCommaStringSlice, Required: true},
		"auth_method_accessors": {Type: logical.TypeCommaStringSlice},
		"auth_method_types":     {Type: logical.TypeCommaStringSlice},
		"identity_entity_ids":   {Type: logical.TypeCommaStringSlice},
		"identity_group_ids":    {Type: logical.TypeCommaStringSlice},
	}
	return []*logical.Path{
		{Pattern: "mfa/method/totp/?", Fields: method, Operations: opMap{logical.UpdateOperation: s.handleTOTPCreate,
			logical.ListOperation: s.handleTOTPList}, HelpSynopsis: "Create or list TOTP MFA methods."},
		{Pattern: "mfa/method/?", Operations: opMap{logical.ListOperation: s.handleTOTPList}, HelpSynopsis: "List MFA methods."},
		{Pattern: "mfa/method/totp/admin-generate", Fields: gen, Operations: opMap{logical.UpdateOperation: s.handleTOTPGenerate(true)},
			HelpSynopsis: "Enrol an entity in a TOTP method."},
		{Pattern: "mfa/method/totp/generate", Fields: gen, Operations: opMap{logical.UpdateOperation: s.handleTOTPGenerate(false)},
			HelpSynopsis: "Enrol the calling token's entity in a TOTP method."},
		{Pattern: "mfa/method/totp/admin-destroy", Fields: gen, Operations: opMap{logical.UpdateOperation: s.handleTOTPDestroy},
			HelpSynopsis: "Remove an entity's TOTP key."},
		{Pattern: "mfa/method/totp/(?P<method_id>[^/]+)", Fields: method, Operations: opMap{logical.ReadOperation: s.handleTOTPRead,
			logical.DeleteOperation: s.handleTOTPDelete}, HelpSynopsis: "Read or delete a TOTP method."},
		{Pattern: "mfa/login-enforcement/?", Operations: opMap{logical.ListOperation: s.handleEnforcementList}, HelpSynopsis: "List login enforcements."},
		{Pattern: "mfa/login-enforcement/(?P<name>[^/]+)", Fields: enf, Operations: opMap{logical.ReadOperation: s.handleEnforcementRead,
			logical.UpdateOperation: s.handleEnforcementWrite, logical.DeleteOperation: s.handleEnforcementDelete},
			HelpSynopsis: "Require MFA for logins through mounts, entities or groups."},
	}
}

func (s *Store) handleTOTPCreate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	var in struct {
		Name      string `json:"method_name"`
		Issuer    string `json:"issuer"`
		Digits    int    `json:"digits"`
		Algorithm string `json:"algorithm"`
		Skew      int    `json:"skew"`
		KeySize   int    `json:"key_size"`
		MaxTries  int    `json:"max_validation_attempts"`
	}
	if err := d.Decode(&in); err != nil {
		return nil, err
	}
	period := int(d.Get("period").(time.Duration) / time.Second)
	switch {
	case in.Issuer == "":
		return nil, logical.InvalidRequest("issuer is required")
	case in.Digits != 6 && in.Digits != 8:
		return nil, logical.InvalidRequest("digits must be 6 or 8")
	case period < 15 || period > 300:
		return nil, logical.InvalidRequest("period must be between 15s and 5m")
	case in.Skew < 0 || in.Skew > 1:
		return nil, logical.InvalidRequest("skew must be 0 or 1")
	case in.KeySize < 16 || in.KeySize > 64:
		return nil, logical.InvalidRequest("key_size must be between 16 and 64 bytes")
	case in.MaxTries < 1:
		return nil, logical.InvalidRequest("max_validation_attempts must be at least 1")
	}
	m := &TOTPMethod{ID: newID(), Name: in.Name, Issuer: in.Issuer, Period: period, Digits: in.Digits,
		Algorithm: in.Algorithm, Skew: in.Skew, KeySize: in.KeySize, MaxValidationAttempts: in.MaxTries}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := logical.PutJSON(ctx, s.view, mfaMethodPrefix+m.ID, m); err != nil {
		return nil, err
	}
	s.totpMethods[m.ID] = m
	return logical.DataResponse(map[string]any{"method_id": m.ID}), nil
}

func (s *Store) handleTOTPList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := []string{}
	for id := range s.totpMethods {
		keys = append(keys, id)
	}
	sort.Strings(keys)
	return logical.ListResponse(keys), nil
}

func (s *Store) handleTOTPRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.totpMethods[d.Get("method_id").(string)]
	if m == nil {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"id": m.ID, "name": m.Name, "type": "totp", "issuer": m.Issuer,
		"period": m.Period, "digits": m.Digits, "algorithm": m.Algorithm, "skew": m.Skew, "key_size": m.KeySize,
		"max_validation_attempts": m.MaxValidationAttempts}), nil
}

func (s *Store) handleTOTPDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := d.Get("method_id").(string)
	for _, en := range s.enforcements {
		if contains(en.MFAMethodIDs, id) {
			return nil, logical.InvalidRequest("method is used by login enforcement %q", en.Name)
		}
	}
	if err := logical.ClearPrefix(ctx, s.view, mfaSecretPrefix+id+"/"); err != nil {
		return nil, err
	}
	delete(s.totpMethods, id)
	return nil, s.view.Delete(ctx, mfaMethodPrefix+id)
}

func (s *Store) handleTOTPGenerate(admin bool) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		entityID := d.Get("entity_id").(string)
		if !admin {
			if req.Auth == nil || req.Auth.EntityID == "" {
				return nil, logical.InvalidRequest("the calling token has no entity")
			}
			entityID = req.Auth.EntityID
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		m, e := s.totpMethods[d.Get("method_id").(string)], s.entities[entityID]
		if m == nil || e == nil {
			return nil, logical.InvalidRequest("unknown method_id or entity_id")
		}
		if !admin {
			if ok, _ := logical.GetJSON(ctx, s.view, mfaSecretPrefix+m.ID+"/"+e.ID, &totpSecret{}); ok {
				return &logical.Response{Data: map[string]any{}, Warnings: []string{"Entity already has a secret for MFA method " + m.ID}}, nil
			}
		}
		u, err := s.generateSecret(ctx, m, e)
		if err != nil {
			return nil, err
		}
		delete(s.mfaFailures, m.ID+"/"+e.ID)
		return logical.DataResponse(map[string]any{"url": u, "barcode": ""}), nil
	}
}

func (s *Store) handleTOTPDestroy(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return nil, s.view.Delete(ctx, mfaSecretPrefix+d.Get("method_id").(string)+"/"+d.Get("entity_id").(string))
}

func (s *Store) handleEnforcementWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	var en Enforcement
	if err := d.Decode(&en); err != nil {
		return nil, err
	}
	if len(en.AuthMethodAccessors)+len(en.AuthMethodTypes)+len(en.IdentityEntityIDs)+len(en.IdentityGroupIDs) == 0 {
		return nil, logical.InvalidRequest("at least one of auth_method_accessors, auth_method_types, identity_entity_ids or identity_group_ids is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range en.MFAMethodIDs {
		if s.totpMethods[id] == nil {
			return nil, logical.InvalidRequest("MFA method %q does not exist", id)
		}
	}
	if err := logical.PutJSON(ctx, s.view, mfaEnforcementPrefix+en.Name, &en); err != nil {
		return nil, err
	}
	s.enforcements[en.Name] = &en
	return nil, nil
}

func (s *Store) handleEnforcementRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	en := s.enforcements[d.Get("name").(string)]
	if en == nil {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"name": en.Name, "mfa_method_ids": en.MFAMethodIDs,
		"auth_method_accessors": nonNil(en.AuthMethodAccessors), "auth_method_types": nonNil(en.AuthMethodTypes),
		"identity_entity_ids": nonNil(en.IdentityEntityIDs), "identity_group_ids": nonNil(en.IdentityGroupIDs)}), nil
}

func (s *Store) handleEnforcementDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := d.Get("name").(string)
	delete(s.enforcements, n)
	return nil, s.view.Delete(ctx, mfaEnforcementPrefix+n)
}

func (s *Store) handleEnforcementList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := []string{}
	for n := range s.enforcements {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	return logical.ListResponse(keys), nil
}
