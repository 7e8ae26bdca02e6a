package identity

import (
	"context"
	"crypto/rand"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Limits of TOTP method settings.
const (
	defaultMaxAttempts = 5
	minKeySize         = 16 // RFC 4226 R6: at least 128 bits
	maxKeySize         = 128
	maxQRSize          = 2048
	maxPeriod          = time.Hour
)

func totpFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"method_id":   {Type: logical.TypeString, Description: "ID of the method to update"},
		"method_name": {Type: logical.TypeString, Description: "unique name of the method"},
		"issuer":      {Type: logical.TypeString, Description: "name of the key's issuing organisation (required)"},
		"period":      {Type: logical.TypeDurationSecond, Default: 30, Description: "length of a time step (seconds or duration)"},
		"key_size":    {Type: logical.TypeInt, Default: 20, Description: "size of generated keys in bytes"},
		"qr_size":     {Type: logical.TypeInt, Default: 200, Description: "pixel size of the generated QR code (0: none)"},
		"algorithm":   {Type: logical.TypeString, Default: "SHA1", Description: "SHA1, SHA256 or SHA512"},
		"digits":      {Type: logical.TypeInt, Default: 6, Description: "digits in a code: 6 or 8"},
		"skew":        {Type: logical.TypeInt, Default: 1, Description: "time steps accepted before and after now: 0 or 1"},
		"max_validation_attempts": {Type: logical.TypeInt, Default: defaultMaxAttempts,
			Description: "failed validations allowed per period before attempts are refused"},
	}
}

func (s *Store) mfaMethodPaths() []*logical.Path {
	enrol := map[string]*logical.FieldSchema{
		"method_id": {Type: logical.TypeString, Required: true, Description: "ID of the TOTP method"},
		"entity_id": {Type: logical.TypeString, Description: "entity to enrol (admin endpoints; required there)"},
	}
	return []*logical.Path{
		{Pattern: "mfa/method/totp/?", Fields: totpFields(), Operations: opMap{
			logical.UpdateOperation: s.handleTOTPWrite, logical.ListOperation: s.handleMethodList},
			HelpSynopsis: "Create (or, with method_id or an existing method_name, update) or list TOTP MFA methods."},
		{Pattern: "mfa/method/totp/generate", Fields: map[string]*logical.FieldSchema{"method_id": enrol["method_id"]},
			Operations:   opMap{logical.UpdateOperation: s.handleTOTPGenerate(false)},
			HelpSynopsis: "Generate a TOTP secret for the calling token's entity."},
		{Pattern: "mfa/method/totp/admin-generate", Fields: enrol, Operations: opMap{
			logical.UpdateOperation: s.handleTOTPGenerate(true)},
			HelpSynopsis: "Generate a TOTP secret for an entity."},
		{Pattern: "mfa/method/totp/admin-destroy", Fields: enrol, Operations: opMap{
			logical.UpdateOperation: s.handleTOTPDestroy},
			HelpSynopsis: "Delete an entity's TOTP secret."},
		{Pattern: "mfa/method/totp/(?P<method_id>[^/]+)", Fields: totpFields(), Operations: opMap{
			logical.ReadOperation: s.handleMethodRead, logical.UpdateOperation: s.handleTOTPWrite,
			logical.DeleteOperation: s.handleMethodDelete},
			HelpSynopsis: "Read, update or delete a TOTP MFA method."},
		{Pattern: "mfa/method/?", Operations: opMap{logical.ListOperation: s.handleMethodList},
			HelpSynopsis: "List MFA methods of every type."},
		{Pattern: "mfa/method/(?P<method_id>[^/]+)", Fields: map[string]*logical.FieldSchema{
			"method_id": {Type: logical.TypeString, Description: "method ID"}},
			Operations:   opMap{logical.ReadOperation: s.handleMethodRead},
			HelpSynopsis: "Read an MFA method of any type."},
	}
}

// parseTOTP builds a method's settings from a request, defaults applied
// to everything not sent (an update replaces all settings, as in Vault).
func parseTOTP(m *TOTPMethod, d *logical.FieldData) error {
	var in struct {
		Issuer    string `json:"issuer"`
		KeySize   int    `json:"key_size"`
		QRSize    int    `json:"qr_size"`
		Algorithm string `json:"algorithm"`
		Digits    int    `json:"digits"`
		Skew      int    `json:"skew"`
		Attempts  int    `json:"max_validation_attempts"`
	}
	if err := d.Decode(&in); err != nil {
		return logical.InvalidRequest("invalid TOTP settings: %v", err)
	}
	period, _ := d.Get("period").(time.Duration)
	in.Algorithm = strings.ToUpper(in.Algorithm)
	switch {
	case strings.TrimSpace(in.Issuer) == "":
		return logical.InvalidRequest("issuer must be set")
	case in.Algorithm != "SHA1" && in.Algorithm != "SHA256" && in.Algorithm != "SHA512":
		return logical.InvalidRequest("algorithm must be SHA1, SHA256 or SHA512")
	case in.Digits != 6 && in.Digits != 8:
		return logical.InvalidRequest("digits can only be 6 or 8")
	case period < time.Second || period > maxPeriod || period%time.Second != 0:
		return logical.InvalidRequest("period must be a whole number of seconds between 1s and %v", maxPeriod)
	case in.Skew != 0 && in.Skew != 1:
		return logical.InvalidRequest("skew must be 0 or 1")
	case in.KeySize < minKeySize || in.KeySize > maxKeySize:
		return logical.InvalidRequest("key_size must be between %d and %d bytes", minKeySize, maxKeySize)
	case in.QRSize < 0 || in.QRSize > maxQRSize:
		return logical.InvalidRequest("qr_size must be between 0 (no barcode) and %d pixels", maxQRSize)
	case in.Attempts < 0:
		return logical.InvalidRequest("max_validation_attempts must be greater than zero")
	}
	if in.Attempts == 0 {
		in.Attempts = defaultMaxAttempts
	}
	m.Issuer, m.KeySize, m.QRSize, m.Algorithm = in.Issuer, in.KeySize, in.QRSize, in.Algorithm
	m.Digits, m.Skew, m.MaxValidationAttempts, m.Period = in.Digits, in.Skew, in.Attempts, int(period/time.Second)
	return nil
}

func (s *Store) handleTOTPWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	id, name := str(d, "method_id"), str(d, "method_name")
	if name != "" {
		if err := checkName("MFA method", name); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var m *TOTPMethod
	if id != "" {
		if m = s.methods[id]; m == nil {
			return nil, nil // Vault: an unknown method_id is a 404
		}
	}
	if named := s.methodByName(name); named != nil {
		if m == nil {
			m = named
		} else if named.ID != m.ID {
			return nil, logical.InvalidRequest("a login MFA method configuration with the method name %s already exists", name)
		}
	}
	fresh := m == nil
	if fresh {
		m = &TOTPMethod{ID: newID()}
	} else {
		cp := *m
		m = &cp
	}
	if name != "" {
		m.Name = name
	}
	if err := parseTOTP(m, d); err != nil {
		return nil, err
	}
	b := &batch{}
	if err := b.put(methodPrefix+m.ID, m); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	s.methods[m.ID] = m
	if !fresh {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"method_id": m.ID}), nil
}

// methodByName finds a method by name (caller holds mu); "" finds none.
func (s *Store) methodByName(name string) *TOTPMethod {
	for _, m := range s.methods {
		if name != "" && m.Name == name {
			return m
		}
	}
	return nil
}

func methodData(m *TOTPMethod) map[string]any {
	return map[string]any{
		"id": m.ID, "name": m.Name, "type": "totp", "namespace_id": "root", "namespace_path": "",
		"issuer": m.Issuer, "period": m.Period, "key_size": m.KeySize, "qr_size": m.QRSize,
		"algorithm": m.Algorithm, "digits": m.Digits, "skew": m.Skew, "max_validation_attempts": m.MaxValidationAttempts,
	}
}

func (s *Store) handleMethodRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.methods[str(d, "method_id")]
	if m == nil {
		return nil, nil
	}
	return logical.DataResponse(methodData(m)), nil
}

func (s *Store) handleMethodList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := slices.Sorted(maps.Keys(s.methods))
	info := make(map[string]any, len(keys))
	for _, id := range keys {
		info[id] = methodData(s.methods[id])
	}
	return &logical.Response{Data: map[string]any{"keys": keys, "key_info": info}}, nil
}

func (s *Store) handleMethodDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	id := str(d, "method_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.methods[id] == nil {
		return nil, nil
	}
	for _, name := range slices.Sorted(maps.Keys(s.enforcements)) {
		if slices.Contains(s.enforcements[name].MFAMethodIDs, id) {
			return nil, logical.InvalidRequest("MFA method %q is used by login enforcement %q: remove it from the enforcement first", id, name)
		}
	}
	b := &batch{}
	b.del(methodPrefix + id)
	if err := s.commit(ctx, b); err != nil {
		return nil, err
	}
	delete(s.methods, id)
	return nil, logical.ClearPrefix(ctx, s.view, secretPrefix+id+"/")
}

// handleTOTPGenerate enrols an entity: the calling token's entity, or
// (admin) the entity_id sent. An existing secret is kept, with a warning;
// admin-destroy it first to replace it, as in Vault.
func (s *Store) handleTOTPGenerate(admin bool) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		entityID := str(d, "entity_id")
		if !admin {
			if req.Auth == nil || req.Auth.EntityID == "" {
				return nil, logical.InvalidRequest("the calling token has no entity: log in through an auth method to get one")
			}
			entityID = req.Auth.EntityID
		}
		if entityID == "" {
			return nil, logical.InvalidRequest("missing entity ID")
		}
		s.mu.RLock() // held so the entity and method cannot be deleted meanwhile
		defer s.mu.RUnlock()
		m, e, err := s.methodAndEntity(str(d, "method_id"), entityID)
		if err != nil {
			return nil, err
		}
		key := m.ID + "/" + e.ID
		defer s.attempts.lock(key)()
		if ok, err := logical.GetJSON(ctx, s.view, secretPrefix+key, &totpSecret{}); err != nil || ok {
			if err != nil {
				return nil, err
			}
			resp := &logical.Response{}
			resp.AddWarning("Entity already has a secret for MFA method \"" + m.Name + "\"")
			return resp, nil
		}
		return s.enrol(ctx, m, e)
	}
}

// methodAndEntity resolves the method and entity of an enrolment request
// (caller holds mu).
func (s *Store) methodAndEntity(methodID, entityID string) (*TOTPMethod, *Entity, error) {
	m := s.methods[methodID]
	if m == nil {
		return nil, nil, logical.InvalidRequest("configuration for method ID %q does not exist", methodID)
	}
	e := s.entities[s.resolve(entityID)]
	if e == nil {
		return nil, nil, logical.InvalidRequest("invalid entity ID")
	}
	return m, e, nil
}

// enrol generates, stores and returns a new secret (caller holds mu and
// the pair's stripe).
func (s *Store) enrol(ctx context.Context, m *TOTPMethod, e *Entity) (*logical.Response, error) {
	key := make([]byte, m.KeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never returns an error (Go ≥ 1.24)
	sec := &totpSecret{Key: key, totpParams: m.params()}
	u := otpauthURL(m.Issuer, e.ID, key, sec.totpParams)
	barcode := ""
	if m.QRSize > 0 {
		var err error
		if barcode, err = qrPNG(u, m.QRSize); err != nil {
			return nil, err
		}
	}
	if err := logical.PutJSON(ctx, s.view, secretPrefix+m.ID+"/"+e.ID, sec); err != nil {
		return nil, err
	}
	s.attempts.reset(m.ID + "/" + e.ID)
	return logical.DataResponse(map[string]any{"barcode": barcode, "url": u}), nil
}

func (s *Store) handleTOTPDestroy(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if str(d, "entity_id") == "" {
		return nil, logical.InvalidRequest("missing entity ID")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, e, err := s.methodAndEntity(str(d, "method_id"), str(d, "entity_id"))
	if err != nil {
		return nil, err
	}
	key := m.ID + "/" + e.ID
	defer s.attempts.lock(key)()
	if err := s.view.Delete(ctx, secretPrefix+key); err != nil {
		return nil, err
	}
	s.attempts.reset(key)
	return nil, nil
}
