package core

import (
	"context"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/identity"
	"github.com/kinko-dev/kinko/internal/logical"
)

// mfaRequestTTL is how long a login may wait for its second factor.
const mfaRequestTTL = 5 * time.Minute

// mfaPending is a login that passed its auth method and waits for MFA.
type mfaPending struct {
	entityID     string
	enforcements []identity.MFAEnforcement // each must be satisfied by one of its methods
	auth         *logical.Auth
	path         string
	expires      time.Time
}

// mfaPendingStore holds pending logins in memory (a restart or seal
// drops them; the client logs in again).
type mfaPendingStore struct {
	mu sync.Mutex
	m  map[string]*mfaPending
}

func (s *mfaPendingStore) put(now time.Time, p *mfaPending) (string, error) {
	id, err := newUUID()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*mfaPending{}
	}
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	p.expires = now.Add(mfaRequestTTL)
	s.m[id] = p
	return id, nil
}

func (s *mfaPendingStore) get(now time.Time, id string) *mfaPending {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.m[id]
	if p == nil || now.After(p.expires) {
		delete(s.m, id)
		return nil
	}
	return p
}

func (s *mfaPendingStore) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// completeLogin links a login to its entity, then either mints its token
// or, when MFA is enforced, parks it and answers with the MFA requirement.
func (c *Core) completeLogin(ctx context.Context, st *unsealedState, e *routeEntry, path string, resp *logical.Response) error {
	pending, err := c.linkEntity(ctx, st, e, resp.Auth)
	if err != nil {
		return err
	}
	if pending == nil {
		return c.mintToken(ctx, st, path, resp.Auth)
	}
	pending.auth, pending.path = resp.Auth, path
	id, err := st.mfa.put(c.conf.Now(), pending)
	if err != nil {
		return err
	}
	constraints := map[string][]logical.MFAMethodRef{}
	for _, en := range pending.enforcements {
		for _, m := range en.Methods {
			constraints[en.Name] = append(constraints[en.Name], logical.MFAMethodRef{Type: m.Type, ID: m.ID, UsesPasscode: m.UsesPasscode, Name: m.Name})
		}
	}
	resp.Auth = &logical.Auth{MFARequirement: &logical.MFARequirement{RequestID: id, Constraints: constraints}}
	resp.Data = nil
	resp.AddWarning("A login request was issued that is subject to MFA validation. Please make sure to validate the login by sending another request to mfa/validate endpoint.")
	return nil
}

// validateMFA completes a parked login once every matched enforcement is
// satisfied by one of its methods with a valid passcode.
func (c *Core) validateMFA(ctx context.Context, st *unsealedState, id string, payload map[string][]string) (*logical.Response, error) {
	p := st.mfa.get(c.conf.Now(), id)
	if p == nil {
		return nil, logical.InvalidRequest("invalid or expired MFA request ID")
	}
	validated := map[string]error{} // method ID → outcome, each checked once
	for _, en := range p.enforcements {
		if err := c.satisfy(ctx, st, p.entityID, en, payload, validated); err != nil {
			return nil, err
		}
	}
	st.mfa.remove(id)
	if err := c.mintToken(ctx, st, p.path, p.auth); err != nil {
		return nil, err
	}
	return &logical.Response{Auth: p.auth}, nil
}

// satisfy checks one enforcement: any of its methods with a valid code.
func (c *Core) satisfy(ctx context.Context, st *unsealedState, entityID string, en identity.MFAEnforcement, payload map[string][]string, validated map[string]error) error {
	var lastErr error
	for _, m := range en.Methods {
		codes, ok := payload[m.ID]
		if !ok {
			continue
		}
		err, done := validated[m.ID]
		if !done {
			code := ""
			if len(codes) > 0 {
				code = codes[0]
			}
			err = st.identity.ValidateTOTP(ctx, m.ID, entityID, code)
			validated[m.ID] = err
		}
		if err == nil {
			return nil
		}
		lastErr = err
	}
	if lastErr == nil {
		return logical.InvalidRequest("mfa_payload has no passcode for enforcement %q", en.Name)
	}
	return lastErr
}
