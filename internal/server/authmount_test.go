package server_test

import (
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// TestDisablingAuthMethodRevokesItsTokens: as Vault, the tokens an auth
// method issued (and their children) stop working when it is disabled;
// tokens from other methods are untouched.
func TestDisablingAuthMethodRevokesItsTokens(t *testing.T) {
	ts := testserver.Start(t)
	c := testserver.VaultClient(t, ts.Addr, ts.RootToken)
	must(t, c.Sys().EnableAuthWithOptions("people", &vault.EnableAuthOptions{Type: "userpass"}))
	_, err := c.Logical().Write("auth/people/users/ann", map[string]any{"password": "pw-ann-123", "token_policies": "creator"})
	must(t, err)
	must(t, c.Sys().PutPolicy("creator", `path "auth/token/create" { capabilities = ["update"] }`))
	login, err := c.Logical().Write("auth/people/login/ann", map[string]any{"password": "pw-ann-123"})
	must(t, err)
	ann := testserver.VaultClient(t, ts.Addr, login.Auth.ClientToken)
	child, err := ann.Auth().Token().Create(&vault.TokenCreateRequest{})
	must(t, err)
	other, err := c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"default"}})
	must(t, err)

	must(t, c.Sys().DisableAuth("people"))
	for name, tok := range map[string]string{"login token": login.Auth.ClientToken, "its child": child.Auth.ClientToken} {
		if _, err := testserver.VaultClient(t, ts.Addr, tok).Auth().Token().LookupSelf(); err == nil {
			t.Errorf("%s still works after its auth method was disabled", name)
		}
	}
	if _, err := testserver.VaultClient(t, ts.Addr, other.Auth.ClientToken).Auth().Token().LookupSelf(); err != nil {
		t.Errorf("an unrelated token was revoked: %v", err)
	}
}
