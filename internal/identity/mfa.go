package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Storage prefixes of login MFA.
const (
	mfaMethodPrefix      = "mfa/method/"
	mfaSecretPrefix      = "mfa/secret/" // <method id>/<entity id>
	mfaEnforcementPrefix = "mfa/enforcement/"
)

// TOTPMethod is a TOTP MFA method's configuration.
type TOTPMethod struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	Issuer                string `json:"issuer"`
	Period                int    `json:"period"`
	Digits                int    `json:"digits"`
	Algorithm             string `json:"algorithm"`
	Skew                  int    `json:"skew"`
	KeySize               int    `json:"key_size"`
	MaxValidationAttempts int    `json:"max_validation_attempts"`
}

// totpSecret is one entity's TOTP key for a method.
type totpSecret struct {
	Key      []byte `json:"key"`
	LastStep uint64 `json:"last_step"` // replay protection: steps ≤ this are refused
}

// Enforcement says which logins need which MFA methods.
type Enforcement struct {
	Name                string   `json:"name"`
	MFAMethodIDs        []string `json:"mfa_method_ids"`
	AuthMethodAccessors []string `json:"auth_method_accessors"`
	AuthMethodTypes     []string `json:"auth_method_types"`
	IdentityEntityIDs   []string `json:"identity_entity_ids"`
	IdentityGroupIDs    []string `json:"identity_group_ids"`
}

// LoginMFARequirement returns the methods that can complete the login of
// entity e through the given mount, or nil when no enforcement applies.
func (s *Store) LoginMFARequirement(ctx context.Context, mountAccessor, mountType string, e *Entity) (*MFARequirement, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, groups := s.groupsOf(e.ID)
	var req *MFARequirement
	names := make([]string, 0, len(s.enforcements))
	for n := range s.enforcements {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		en := s.enforcements[n]
		if !en.matches(mountAccessor, mountType, e.ID, groups) {
			continue
		}
		if req == nil {
			req = &MFARequirement{}
		}
		for _, id := range en.MFAMethodIDs {
			if m := s.totpMethods[id]; m != nil {
				req.Methods = append(req.Methods, MFAMethod{ID: m.ID, Type: "totp", Name: m.Name, UsesPasscode: true})
			}
		}
	}
	return req, nil
}

func (en *Enforcement) matches(accessor, typ, entityID string, groups []string) bool {
	if contains(en.AuthMethodAccessors, accessor) || contains(en.AuthMethodTypes, typ) || contains(en.IdentityEntityIDs, entityID) {
		return true
	}
	for _, g := range groups {
		if contains(en.IdentityGroupIDs, g) {
			return true
		}
	}
	return false
}

// ValidateTOTP checks a passcode for an entity, refusing reused codes and
// locking the method for the entity after too many failures.
func (s *Store) ValidateTOTP(ctx context.Context, methodID, entityID, passcode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.totpMethods[methodID]
	if m == nil {
		return logical.InvalidRequest("MFA method %q does not exist", methodID)
	}
	key := methodID + "/" + entityID
	if s.mfaFailures[key] >= m.MaxValidationAttempts {
		return logical.Errorf(logical.ErrPermissionDenied, "maximum TOTP validation attempts exceeded")
	}
	var sec totpSecret
	ok, err := logical.GetJSON(ctx, s.view, mfaSecretPrefix+key, &sec)
	if err != nil {
		return err
	}
	if !ok {
		return logical.Errorf(logical.ErrPermissionDenied, "entity has no TOTP secret for this method: generate one first")
	}
	step, found := m.match(sec.Key, s.now(), passcode)
	if !found || step <= sec.LastStep {
		s.mfaFailures[key]++
		if found {
			return logical.Errorf(logical.ErrPermissionDenied, "code already used; wait until the next code is generated")
		}
		return logical.Errorf(logical.ErrPermissionDenied, "failed to validate TOTP passcode")
	}
	sec.LastStep = step
	delete(s.mfaFailures, key)
	return logical.PutJSON(ctx, s.view, mfaSecretPrefix+key, &sec)
}

// match finds the time step whose code equals passcode within ±skew.
func (m *TOTPMethod) match(key []byte, now time.Time, passcode string) (uint64, bool) {
	cur := uint64(now.Unix()) / uint64(m.Period)
	for d := -m.Skew; d <= m.Skew; d++ {
		step := uint64(int64(cur) + int64(d))
		code, err := hotp(key, step, m.Digits, m.Algorithm)
		if err == nil && subtle.ConstantTimeCompare([]byte(code), []byte(passcode)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// generateSecret creates an entity's key for a method and returns the
// otpauth URL an authenticator app enrols with (caller holds mu).
func (s *Store) generateSecret(ctx context.Context, m *TOTPMethod, e *Entity) (string, error) {
	key := make([]byte, m.KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	if err := logical.PutJSON(ctx, s.view, mfaSecretPrefix+m.ID+"/"+e.ID, &totpSecret{Key: key}); err != nil {
		return "", err
	}
	label := url.PathEscape(m.Issuer + ":" + e.Name)
	q := url.Values{"secret": {base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)}, "issuer": {m.Issuer},
		"algorithm": {m.Algorithm}, "digits": {fmt.Sprint(m.Digits)}, "period": {fmt.Sprint(m.Period)}}
	return "otpauth://totp/" + label + "?" + q.Encode(), nil
}
