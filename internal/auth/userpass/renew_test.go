package userpass

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// renewAs sends core's renewal request for a token with policies and
// username metadata, as core describes a login token.
func (e *env) renewAs(username string, policies ...string) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.RenewOperation, Storage: e.s, MountPoint: "auth/userpass/",
		Auth: &logical.Auth{
			Policies: policies, TokenPolicies: policies, Metadata: map[string]string{"username": username},
			ExplicitMaxTTL: 5 * time.Hour, LeaseOptions: logical.LeaseOptions{TTL: time.Hour, Renewable: true},
		},
	})
}

func TestRenew(t *testing.T) {
	cases := []struct {
		name     string
		user     map[string]any // nil: no such user
		username string
		policies []string
		wantErr  string
		want     logical.Auth
	}{
		{"current settings apply", map[string]any{"token_policies": "reader", "token_ttl": "10m", "token_max_ttl": "30m", "token_period": "0"},
			"bob", []string{"reader", "default"}, "",
			logical.Auth{LeaseOptions: logical.LeaseOptions{TTL: 10 * time.Minute, MaxTTL: 30 * time.Minute}, ExplicitMaxTTL: 5 * time.Hour}},
		{"period and tighter explicit max", map[string]any{"token_policies": "reader", "token_period": "2m", "token_explicit_max_ttl": "1h"},
			"bob", []string{"default", "reader"}, "",
			logical.Auth{Period: 2 * time.Minute, ExplicitMaxTTL: time.Hour}},
		{"username case does not matter", map[string]any{"token_policies": "reader"}, "BOB", []string{"reader"}, "",
			logical.Auth{ExplicitMaxTTL: 5 * time.Hour}},
		{"no default policy", map[string]any{"token_no_default_policy": true}, "bob", nil, "",
			logical.Auth{ExplicitMaxTTL: 5 * time.Hour}},
		{"policy added", map[string]any{"token_policies": "reader,writer"}, "bob", []string{"reader", "default"},
			"policies have changed, not renewing", logical.Auth{}},
		{"policy removed", map[string]any{"token_policies": ""}, "bob", []string{"reader", "default"},
			"policies have changed, not renewing", logical.Auth{}},
		{"user deleted", nil, "bob", []string{"reader", "default"}, "the user no longer exists, not renewing", logical.Auth{}},
		{"no username", nil, "", []string{"default"}, "the user no longer exists, not renewing", logical.Auth{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.user != nil {
				tc.user["password"] = "pw"
				e.user("bob", tc.user)
			}
			resp, err := e.renewAs(tc.username, tc.policies...)
			if tc.wantErr != "" {
				if !errors.Is(err, logical.ErrInvalidRequest) || err.Error() != tc.wantErr {
					t.Fatalf("renew = %+v, %v; want %q", resp, err, tc.wantErr)
				}
				return
			}
			if err != nil || resp == nil || resp.Auth == nil {
				t.Fatalf("renew = %+v, %v", resp, err)
			}
			a := resp.Auth
			if a.TTL != tc.want.TTL || a.MaxTTL != tc.want.MaxTTL || a.Period != tc.want.Period || a.ExplicitMaxTTL != tc.want.ExplicitMaxTTL {
				t.Errorf("ttl %v max %v period %v explicit %v; want %+v", a.TTL, a.MaxTTL, a.Period, a.ExplicitMaxTTL, tc.want)
			}
		})
	}
}

// TestRenewAfterLogin renews what a real login returned, the way core
// hands it back (with "default" added), then after the user changed.
func TestRenewAfterLogin(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "pw", "token_policies": "reader"})
	a := e.mustLogin("bob", "pw")
	if _, err := e.renewAs(a.Metadata["username"], append(a.Policies, "default")...); err != nil {
		t.Fatalf("renew after login: %v", err)
	}
	e.ok(logical.UpdateOperation, "users/bob/policies", map[string]any{"token_policies": "admin"})
	if _, err := e.renewAs(a.Metadata["username"], append(a.Policies, "default")...); err == nil {
		t.Fatal("renewed after the user's policies changed")
	}
}
