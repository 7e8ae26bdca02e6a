package userpass_test

import (
	"errors"
	"net/http"
	"testing"

	vault "github.com/hashicorp/vault/api"
)

// TestE2ERenewGoesToUserpass renews a userpass token through the official
// client: the renewal follows the user's current settings and is refused
// once the user's policies change or the user is deleted.
func TestE2ERenewGoesToUserpass(t *testing.T) {
	e := newE2E(t)
	e.Write("auth/userpass/users/bob", map[string]any{"password": "pw", "token_policies": "reader",
		"token_ttl": "1h", "token_max_ttl": "2h"})
	c, s, err := e.login("bob", "pw")
	if err != nil {
		t.Fatal(err)
	}
	accessor := s.Auth.Accessor
	tokens := c.Auth().Token()

	r, err := tokens.RenewSelf(0)
	if err != nil || r.Auth == nil || r.Auth.LeaseDuration != 3600 {
		t.Fatalf("renew-self = %+v, %v; want 3600s", r, err)
	}
	// A smaller token_max_ttl now caps the renewal (counted from login).
	e.Write("auth/userpass/users/bob", map[string]any{"token_ttl": "5m", "token_max_ttl": "10m"})
	r, err = tokens.RenewSelf(3600)
	if err != nil || r.Auth == nil || r.Auth.LeaseDuration <= 0 || r.Auth.LeaseDuration > 600 {
		t.Fatalf("renew-self after token_max_ttl=10m = %+v, %v; want at most 600s", r, err)
	}
	if r, err = tokens.RenewSelf(0); err != nil || r.Auth.LeaseDuration != 300 {
		t.Fatalf("renew-self without increment = %+v, %v; want token_ttl 300s", r, err)
	}
	// The auth mount's tuned max_lease_ttl caps it too.
	if err := e.Admin.Sys().TuneMount("auth/userpass", vault.MountConfigInput{MaxLeaseTTL: "2m"}); err != nil {
		t.Fatal(err)
	}
	if r, err = tokens.RenewSelf(0); err != nil || r.Auth.LeaseDuration <= 0 || r.Auth.LeaseDuration > 120 {
		t.Fatalf("renew-self after tuning max_lease_ttl=2m = %+v, %v; want at most 120s", r, err)
	}

	e.Write("auth/userpass/users/bob/policies", map[string]any{"token_policies": "reader,admin"})
	_, err = tokens.RenewSelf(0)
	wantStatus(t, err, http.StatusBadRequest, "policies have changed, not renewing")
	_, err = e.Admin.Logical().Write("auth/token/renew-accessor", map[string]any{"accessor": accessor})
	wantStatus(t, err, http.StatusBadRequest, "policies have changed, not renewing")
	_, err = e.Admin.Auth().Token().Renew(c.Token(), 0)
	wantStatus(t, err, http.StatusBadRequest, "policies have changed, not renewing")

	e.Write("auth/userpass/users/bob/policies", map[string]any{"token_policies": "reader"})
	if _, err := tokens.RenewSelf(0); err != nil {
		t.Fatalf("renew-self with the policies restored: %v", err)
	}
	if _, err := e.Admin.Logical().Delete("auth/userpass/users/bob"); err != nil {
		t.Fatal(err)
	}
	_, err = tokens.RenewSelf(0)
	wantStatus(t, err, http.StatusBadRequest, "the user no longer exists, not renewing")
	// A refused renewal leaves the token as it was: still usable.
	if _, err := tokens.LookupSelf(); err != nil {
		t.Errorf("token after a refused renewal: %v", err)
	}
}

// TestE2ERenewAuthMountGone refuses renewing a token whose auth mount was
// disabled.
func TestE2ERenewAuthMountGone(t *testing.T) {
	e := newE2E(t)
	e.Write("auth/userpass/users/bob", map[string]any{"password": "pw", "token_policies": "reader"})
	c, _, err := e.login("bob", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Admin.Sys().DisableAuth("userpass"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Auth().Token().RenewSelf(0)
	var re *vault.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("renew-self = %v, want a refusal", err)
	}
	// 403 would mean the unmount revoked the token, which is fine too.
	if re.StatusCode != http.StatusForbidden {
		wantStatus(t, err, http.StatusBadRequest, "no handler for the auth method that issued this token")
	}
}
