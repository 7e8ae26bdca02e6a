package token

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// methodHook is a RenewCheck that records its calls and answers with auth
// (nil: refuse with nil auth) or err. It looks the token up again to prove
// it runs with no store lock held.
type methodHook struct {
	s     *Store
	calls int
	conn  *logical.Connection
	auth  *logical.Auth
	err   error
}

func (h *methodHook) check(ctx context.Context, e *Entry, conn *logical.Connection) (*logical.Auth, error) {
	h.calls++
	h.conn = conn
	if got, err := h.s.lookupHash(ctx, e.Hash); err != nil || got == nil {
		return nil, errors.New("hook could not look the token up")
	}
	if h.err != nil {
		return nil, h.err
	}
	return h.auth, nil
}

// loginToken creates a token as core's login does.
func (e *env) loginToken(path string, ttl time.Duration, renewable bool) *Entry {
	e.t.Helper()
	te := &Entry{Policies: []string{"reader", "default"}, Path: path, TTL: ttl, Renewable: renewable,
		Orphan: true, ExplicitMaxTTL: 10 * time.Hour, DisplayName: "userpass-bob"}
	if err := e.s.Create(ctx(), te); err != nil {
		e.t.Fatal(err)
	}
	return te
}

func TestRenewAsksAuthMethod(t *testing.T) {
	refused := logical.Errorf(logical.ErrPermissionDenied, "user is gone")
	cases := []struct {
		name      string
		path      string
		renewable bool
		incr      time.Duration
		at        time.Duration // time since creation
		auth      *logical.Auth
		hookErr   error
		wantCalls int
		wantTTL   time.Duration
		wantErr   error
	}{
		{"method TTL is the default grant", "auth/userpass/login/bob", true, 0, 0,
			&logical.Auth{LeaseOptions: logical.LeaseOptions{TTL: 5 * time.Minute}}, nil, 1, 5 * time.Minute, nil},
		{"zero method TTL gives the default", "auth/userpass/login/bob", true, 0, 0,
			&logical.Auth{}, nil, 1, time.Hour, nil},
		{"increment capped by method max TTL", "auth/userpass/login/bob", true, 2 * time.Hour, 20 * time.Minute,
			&logical.Auth{LeaseOptions: logical.LeaseOptions{MaxTTL: 30 * time.Minute}}, nil, 1, 10 * time.Minute, nil},
		{"explicit max TTL only tightens", "auth/userpass/login/bob", true, 2 * time.Hour, 0,
			&logical.Auth{ExplicitMaxTTL: 24 * time.Hour}, nil, 1, 2 * time.Hour, nil},
		{"method period makes it periodic", "auth/approle/login", true, 0, 0,
			&logical.Auth{Period: 3 * time.Minute}, nil, 1, 3 * time.Minute, nil},
		{"past the method max TTL", "auth/userpass/login/bob", true, 0, time.Hour,
			&logical.Auth{LeaseOptions: logical.LeaseOptions{MaxTTL: 30 * time.Minute}}, nil, 1, 0, ErrPastMaxTTL},
		{"method refuses", "auth/userpass/login/bob", true, 0, 0, nil, refused, 1, 0, refused},
		{"nil answer refuses", "auth/userpass/login/bob", true, 0, 0, nil, nil, 1, 0, ErrRenewRefused},
		{"not renewable: not asked", "auth/userpass/login/bob", false, 0, 0, nil, refused, 0, 0, ErrNotRenewable},
		{"token store token: not asked", "auth/token/create", true, 0, 0, nil, refused, 0, 2 * time.Hour, nil},
		{"non-login path: not asked", "sys/wrapping/wrap", true, 0, 0, nil, refused, 0, 2 * time.Hour, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			h := &methodHook{s: e.s, auth: tc.auth, err: tc.hookErr}
			e.s.RenewCheck = h.check
			te := e.loginToken(tc.path, 2*time.Hour, tc.renewable)
			e.clk.Advance(tc.at)
			conn := &logical.Connection{RemoteAddr: "192.0.2.1:1234"}
			_, ttl, _, err := e.s.renew(ctx(), te.Hash, tc.incr, e.s.defaultLimits(), conn)
			if !errors.Is(err, tc.wantErr) || ttl != tc.wantTTL {
				t.Fatalf("renew = %v, %v; want %v, %v", ttl, err, tc.wantTTL, tc.wantErr)
			}
			if h.calls != tc.wantCalls {
				t.Fatalf("RenewCheck called %d times, want %d", h.calls, tc.wantCalls)
			}
			if tc.wantCalls > 0 && h.conn != conn {
				t.Errorf("RenewCheck got connection %v", h.conn)
			}
			if err != nil && e.lookup(te.ID).ExpireTime != te.ExpireTime {
				t.Errorf("a refused renewal moved the expiry")
			}
		})
	}
}

// TestRenewEndpointsAskAuthMethod drives renew, renew-self and
// renew-accessor: each asks the method, and a refusal reaches the caller.
func TestRenewEndpointsAskAuthMethod(t *testing.T) {
	e := newEnv(t)
	h := &methodHook{s: e.s, err: logical.InvalidRequest("policies have changed, not renewing")}
	e.s.RenewCheck = h.check
	te := e.loginToken("auth/userpass/login/bob", time.Hour, true)
	calls := []struct {
		path, token string
		data        map[string]any
	}{
		{"renew", e.root, map[string]any{"token": te.ID}},
		{"renew-self", te.ID, nil},
		{"renew-accessor", e.root, map[string]any{"accessor": te.Accessor}},
	}
	for _, c := range calls {
		_, err := e.call(logical.UpdateOperation, c.path, c.token, false, c.data)
		wantErr(t, err, logical.ErrInvalidRequest, "policies have changed")
	}
	if h.calls != len(calls) {
		t.Fatalf("RenewCheck called %d times, want %d", h.calls, len(calls))
	}
	h.err, h.auth = nil, &logical.Auth{LeaseOptions: logical.LeaseOptions{TTL: 7 * time.Minute}}
	resp := e.mustCall(logical.UpdateOperation, "renew-self", te.ID, false, nil)
	if resp.Auth == nil || resp.Auth.TTL != 7*time.Minute {
		t.Fatalf("renew-self = %+v", resp.Auth)
	}
}
