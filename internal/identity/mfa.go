package identity

import (
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// TOTPMethod is a TOTP MFA method's configuration.
type TOTPMethod struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	Issuer                string `json:"issuer"`
	Period                int    `json:"period"` // seconds
	KeySize               int    `json:"key_size"`
	QRSize                int    `json:"qr_size"`
	Algorithm             string `json:"algorithm"`
	Digits                int    `json:"digits"`
	Skew                  int    `json:"skew"`
	MaxValidationAttempts int    `json:"max_validation_attempts"`
}

func (m *TOTPMethod) params() totpParams {
	return totpParams{Period: m.Period, Digits: m.Digits, Algorithm: m.Algorithm, Skew: m.Skew}
}

// Enforcement says which logins need which MFA methods. A login matches
// when its mount accessor, its mount type, its entity, or one of the
// entity's groups (direct or inherited) is listed (any one suffices).
type Enforcement struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	MFAMethodIDs        []string `json:"mfa_method_ids"`
	AuthMethodAccessors []string `json:"auth_method_accessors"`
	AuthMethodTypes     []string `json:"auth_method_types"`
	IdentityEntityIDs   []string `json:"identity_entity_ids"`
	IdentityGroupIDs    []string `json:"identity_group_ids"`
}

// MFAMethod names an MFA method a login may use.
type MFAMethod struct {
	ID, Type, Name string
	UsesPasscode   bool
}

// MFARequirement lists the methods that can complete a login.
type MFARequirement struct {
	// Methods is every method of every matched enforcement, deduplicated.
	Methods []MFAMethod
	// Enforcements are the matched enforcements, by name. As in Vault, a
	// login must satisfy each of them, with any one of its methods.
	Enforcements []MFAEnforcement
}

// MFAEnforcement is one matched enforcement and the methods that satisfy it.
type MFAEnforcement struct {
	Name    string
	Methods []MFAMethod
}

// errBadCredentials is the one answer for a wrong, malformed or replayed
// passcode, so the answers do not tell them apart (Vault, HCSEC-2025-19).
var errBadCredentials = logical.Errorf(logical.ErrPermissionDenied, "MFA credentials not supplied or incorrect")

// LoginMFARequirement returns the MFA a login through the given mount by
// entity e (which may be nil) must pass, or nil when no login enforcement
// applies.
func (s *Store) LoginMFARequirement(ctx context.Context, mountAccessor, mountType string, e *Entity) (*MFARequirement, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.enforcements) == 0 {
		return nil, nil
	}
	var entityID string
	var groups []string
	if e != nil {
		entityID = s.resolve(e.ID)
		direct, inherited := s.groupsOf(entityID)
		groups = append(direct, inherited...)
	}
	req := &MFARequirement{}
	for _, name := range slices.Sorted(maps.Keys(s.enforcements)) {
		en := s.enforcements[name]
		if !en.matches(mountAccessor, mountType, entityID, groups) {
			continue
		}
		var methods []MFAMethod
		for _, id := range en.MFAMethodIDs {
			if m := s.methods[id]; m != nil {
				methods = append(methods, MFAMethod{ID: m.ID, Type: "totp", Name: m.Name, UsesPasscode: true})
			}
		}
		if len(methods) == 0 { // fail closed: method deletion is refused while in use
			return nil, fmt.Errorf("identity: login enforcement %q names no existing MFA method", name)
		}
		req.Enforcements = append(req.Enforcements, MFAEnforcement{Name: name, Methods: methods})
		for _, m := range methods {
			if !slices.Contains(req.Methods, m) {
				req.Methods = append(req.Methods, m)
			}
		}
	}
	if len(req.Enforcements) == 0 {
		return nil, nil
	}
	return req, nil
}

func (en *Enforcement) matches(accessor, typ, entityID string, groups []string) bool {
	if slices.Contains(en.AuthMethodAccessors, accessor) || slices.Contains(en.AuthMethodTypes, typ) {
		return true
	}
	if entityID != "" && slices.Contains(en.IdentityEntityIDs, entityID) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(en.IdentityGroupIDs, g) {
			return true
		}
	}
	return false
}

// ValidateTOTP checks a passcode ("123456" or "passcode=123456") of an
// entity for a TOTP method: RFC 6238 within the skew the entity enrolled
// with; a code accepted once is refused afterwards (as is any earlier one);
// after max_validation_attempts failures within one period, attempts are
// refused until the period since the first failure has passed.
func (s *Store) ValidateTOTP(ctx context.Context, methodID, entityID, passcode string) error {
	s.mu.RLock() // held throughout, so a deleted entity or method gets no secret written back
	defer s.mu.RUnlock()
	m := s.methods[methodID]
	e := s.entities[s.resolve(entityID)]
	if m == nil {
		return logical.InvalidRequest("MFA method %q does not exist", methodID)
	}
	if e == nil {
		return logical.Errorf(logical.ErrPermissionDenied, "entity %q does not exist", entityID)
	}
	if e.Disabled {
		return ErrEntityDisabled
	}
	key := m.ID + "/" + e.ID
	unlock := s.attempts.lock(key)
	defer unlock()
	now := s.now()
	if err := s.attempts.allowed(key, now, m.MaxValidationAttempts); err != nil {
		return err
	}
	sec := &totpSecret{}
	ok, err := logical.GetJSON(ctx, s.view, secretPrefix+key, sec)
	if err != nil {
		return err
	}
	if !ok {
		return logical.Errorf(logical.ErrPermissionDenied,
			"entity has no TOTP secret for MFA method %q: generate one with identity/mfa/method/totp/generate", m.ID)
	}
	step, ok := sec.match(now, strings.TrimPrefix(passcode, "passcode="))
	if !ok {
		s.attempts.fail(key, now, time.Duration(sec.Period)*time.Second)
		return errBadCredentials
	}
	sec.LastStep = step
	if err := logical.PutJSON(ctx, s.view, secretPrefix+key, sec); err != nil {
		return err
	}
	s.attempts.reset(key)
	return nil
}

// attempts holds TOTP validation state in memory: failure windows per
// method/entity, and striped locks that serialise the validations (read,
// check, record) of one method/entity pair.
type attempts struct {
	stripes [64]sync.Mutex
	seed    maphash.Seed
	once    sync.Once

	mu        sync.Mutex // guards failures and lastSweep
	failures  map[string]*failureWindow
	lastSweep time.Time
}

type failureWindow struct {
	count int
	until time.Time // the window closes (and the count resets) then
}

// lock takes the stripe of key and returns its unlock.
func (a *attempts) lock(key string) func() {
	a.once.Do(func() { a.seed = maphash.MakeSeed() })
	m := &a.stripes[maphash.String(a.seed, key)%uint64(len(a.stripes))]
	m.Lock()
	return m.Unlock
}

// allowed refuses an attempt when max failures happened in the open window.
func (a *attempts) allowed(key string, now time.Time, max int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.failures[key]
	if w == nil || !now.Before(w.until) {
		delete(a.failures, key)
		return nil
	}
	if w.count < max {
		return nil
	}
	wait := int(w.until.Sub(now).Seconds() + 0.999)
	return logical.Errorf(logical.ErrPermissionDenied,
		"maximum TOTP validation attempts %d exceeded the allowed attempts %d. Please try again in %d seconds",
		w.count+1, max, wait)
}

// fail records a failure, opening a window of length period at the first.
func (a *attempts) fail(key string, now time.Time, period time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failures == nil {
		a.failures = map[string]*failureWindow{}
	}
	a.sweep(now)
	w := a.failures[key]
	if w == nil || !now.Before(w.until) {
		w = &failureWindow{until: now.Add(period)}
		a.failures[key] = w
	}
	w.count++
}

func (a *attempts) reset(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.failures, key)
}

// sweep drops closed windows, at most once a minute (caller holds mu).
func (a *attempts) sweep(now time.Time) {
	if now.Sub(a.lastSweep) < time.Minute {
		return
	}
	a.lastSweep = now
	for k, w := range a.failures {
		if !now.Before(w.until) {
			delete(a.failures, k)
		}
	}
}
