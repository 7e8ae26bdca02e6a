package approle_test

import (
	"net/http"
	"testing"

	vault "github.com/hashicorp/vault/api"
)

// TestE2ERenewGoesToAppRole renews an AppRole token through the official
// client: the renewal follows the role's current TTLs and is refused once
// the role ID is rotated or the role is deleted.
func TestE2ERenewGoesToAppRole(t *testing.T) {
	e := newE2E(t)
	roleID, secretID := e.roleWithSecret("app", map[string]any{"token_policies": "reader", "token_ttl": "1h", "token_max_ttl": "2h"},
		map[string]any{})
	login := func() *tokenClient {
		c, _, err := e.login(roleID, secretID)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		return &tokenClient{t, c.Auth().Token().RenewSelf}
	}
	c := login()
	if got := c.renew(1800); got != 1800 {
		t.Fatalf("renew-self(30m) = %ds, want 1800", got)
	}
	e.Write("auth/approle/role/app", map[string]any{"token_ttl": "1m", "token_max_ttl": "15m"})
	if got := c.renew(3600); got <= 0 || got > 900 {
		t.Fatalf("renew-self(1h) after token_max_ttl=15m = %ds, want at most 900", got)
	}
	if got := c.renew(0); got != 60 {
		t.Fatalf("renew-self(0) = %ds, want token_ttl 60", got)
	}

	e.Write("auth/approle/role/app/role-id", map[string]any{"role_id": "rotated-role-id"})
	_, err := c.renewSelf(0)
	wantStatus(t, err, http.StatusBadRequest, `the role ID of role "app" has changed since login, not renewing`)

	roleID = "rotated-role-id"
	c = login()
	if got := c.renew(0); got != 60 {
		t.Fatalf("renew-self of a fresh login = %ds, want 60", got)
	}
	if _, err := e.Admin.Logical().Delete("auth/approle/role/app"); err != nil {
		t.Fatal(err)
	}
	_, err = c.renewSelf(0)
	wantStatus(t, err, http.StatusBadRequest, `role "app" does not exist during renewal`)
}

// tokenClient renews its own token.
type tokenClient struct {
	t         *testing.T
	renewSelf func(increment int) (*vault.Secret, error)
}

// renew renews the token by increment seconds and returns the granted TTL.
func (c *tokenClient) renew(increment int) int {
	c.t.Helper()
	s, err := c.renewSelf(increment)
	if err != nil || s == nil || s.Auth == nil {
		c.t.Fatalf("renew-self(%d) = %+v, %v", increment, s, err)
	}
	return s.Auth.LeaseDuration
}
