package approle

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// renew sends core's renewal request for the token login a minted, as
// core describes it ("default" added to its policies).
func (e *env) renew(a *logical.Auth) (*logical.Response, error) {
	policies := append(slices.Clone(a.Policies), "default")
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.RenewOperation, Storage: e.s, MountPoint: "auth/approle/",
		Auth: &logical.Auth{
			Policies: policies, TokenPolicies: policies, Metadata: maps.Clone(a.Metadata),
			InternalData: maps.Clone(a.InternalData), ExplicitMaxTTL: a.ExplicitMaxTTL,
			LeaseOptions: logical.LeaseOptions{TTL: a.TTL, Renewable: true},
		},
	})
}

func TestRenew(t *testing.T) {
	cases := []struct {
		name    string
		change  func(e *env) // between login and renewal
		mangle  func(a *logical.Auth)
		wantErr string
		want    logical.LeaseOptions
		period  time.Duration
	}{
		{name: "unchanged role", want: logical.LeaseOptions{TTL: time.Hour, MaxTTL: 2 * time.Hour}},
		{name: "current TTLs apply", change: func(e *env) {
			e.ok(logical.UpdateOperation, "role/web", map[string]any{"token_ttl": "5m", "token_max_ttl": "10m", "token_period": "3m"})
		}, want: logical.LeaseOptions{TTL: 5 * time.Minute, MaxTTL: 10 * time.Minute}, period: 3 * time.Minute},
		{name: "policies are not compared (as Vault)", change: func(e *env) {
			e.ok(logical.UpdateOperation, "role/web", map[string]any{"token_policies": "other"})
		}, want: logical.LeaseOptions{TTL: time.Hour, MaxTTL: 2 * time.Hour}},
		{name: "role deleted", change: func(e *env) {
			e.ok(logical.DeleteOperation, "role/web", nil)
		}, wantErr: `role "web" does not exist during renewal`},
		{name: "role deleted and re-created", change: func(e *env) {
			e.ok(logical.DeleteOperation, "role/web", nil)
			e.role("web", map[string]any{"token_policies": "app"})
		}, wantErr: `the role ID of role "web" has changed since login, not renewing`},
		{name: "role ID rotated", change: func(e *env) {
			e.ok(logical.UpdateOperation, "role/web/role-id", map[string]any{"role_id": "rotated"})
		}, wantErr: `the role ID of role "web" has changed since login, not renewing`},
		{name: "token without role name", mangle: func(a *logical.Auth) { delete(a.InternalData, "role_name") },
			wantErr: "failed to fetch role_name during renewal"},
		{name: "token from before role ID tags", mangle: func(a *logical.Auth) { delete(a.InternalData, roleIDTagKey) },
			want: logical.LeaseOptions{TTL: time.Hour, MaxTTL: 2 * time.Hour}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			roleID := e.role("web", map[string]any{"token_policies": "app", "token_ttl": "1h", "token_max_ttl": "2h"})
			sid, _ := e.secret("web", nil)
			a := e.mustLogin(roleID, sid)
			if tc.change != nil {
				tc.change(e)
			}
			if tc.mangle != nil {
				tc.mangle(a)
			}
			resp, err := e.renew(a)
			if tc.wantErr != "" {
				if !errors.Is(err, logical.ErrInvalidRequest) || err.Error() != tc.wantErr {
					t.Fatalf("renew = %+v, %v; want %q", resp, err, tc.wantErr)
				}
				return
			}
			if err != nil || resp == nil || resp.Auth == nil {
				t.Fatalf("renew = %+v, %v", resp, err)
			}
			if got := resp.Auth; got.TTL != tc.want.TTL || got.MaxTTL != tc.want.MaxTTL || got.Period != tc.period {
				t.Errorf("ttl %v max %v period %v; want %+v period %v", got.TTL, got.MaxTTL, got.Period, tc.want, tc.period)
			}
		})
	}
}
