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
	entityID string
	methods  []identity.MFAMethod
	auth     *logical.Auth
	path     string
	expires  time.Time
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
	refs := make([]logical.MFAMethodRef, 0, len(pending.methods))
	for _, m := range pending.methods {
		refs = append(refs, logical.MFAMethodRef{Type: m.Type, ID: m.ID, UsesPasscode: m.UsesPasscode, Name: m.Name})
	}
	resp.Auth = &logical.Auth{MFARequirement: &logical.MFARequirement{RequestID: id,
		Constraints: map[string][]logical.MFAMethodRef{"login": refs}}}
	resp.Data = nil
	resp.AddWarning("A login request was issued that is subject to MFA validation. Please make sure to validate the login by sending another request to mfa/validate endpoint.")
	return nil
}

// validateMFA completes a parked login when one of its methods accepts the
// given passcode.
func (c *Core) validateMFA(ctx context.Context, st *unsealedState, id string, payload map[string][]string) (*logical.Response, error) {
	p := st.mfa.get(c.conf.Now(), id)
	if p == nil {
		return nil, logical.InvalidRequest("invalid or expired MFA request ID")
	}
	tried := false
	var lastErr error
	for _, m := range p.methods {
		codes, ok := payload[m.ID]
		if !ok {
			continue
		}
		tried = true
		code := ""
		if len(codes) > 0 {
			code = codes[0]
		}
		if lastErr = st.identity.ValidateTOTP(ctx, m.ID, p.entityID, code); lastErr == nil {
			st.mfa.remove(id)
			if err := c.mintToken(ctx, st, p.path, p.auth); err != nil {
				return nil, err
			}
			return &logical.Response{Auth: p.auth}, nil
		}
	}
	if !tried {
		return nil, logical.InvalidRequest("mfa_payload names none of the MFA methods this login requires")
	}
	return nil, lastErr
}
