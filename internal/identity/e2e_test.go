package identity_test

import (
	"encoding/base32"
	"net/url"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/identity"
	"github.com/kinko-dev/kinko/internal/testserver"
)

func newClient(t *testing.T, addr, token string) *vault.Client {
	t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// must returns a function that passes a value through, failing the test
// on an error: must[T](t)(f()).
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestEndToEnd drives the identity API with the official Vault client:
// group policies reach a login token, a disabled entity is refused, and a
// login enforcement makes the login finish through sys/mfa/validate.
func TestEndToEnd(t *testing.T) {
	s := testserver.Start(t)
	root := newClient(t, s.Addr, s.RootToken)
	secret := must[*vault.Secret](t)
	ok(t, root.Sys().PutPolicy("reader", `path "secret/data/app" { capabilities = ["read"] }`))
	ok(t, root.Sys().EnableAuthWithOptions("userpass", &vault.EnableAuthOptions{Type: "userpass"}))
	secret(root.Logical().Write("auth/userpass/users/ann", map[string]any{"password": "pw-ann-1234"}))
	must[*vault.KVSecret](t)(root.KVv2("secret").Put(t.Context(), "app", map[string]any{"k": "v"}))

	login := func() *vault.Secret {
		c := newClient(t, s.Addr, "")
		return secret(c.Logical().Write("auth/userpass/login/ann", map[string]any{"password": "pw-ann-1234"}))
	}
	sec := login()
	entityID := sec.Auth.EntityID
	ann := newClient(t, s.Addr, sec.Auth.ClientToken)
	if _, err := ann.KVv2("secret").Get(t.Context(), "app"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("read before the group: %v", err)
	}
	g := secret(root.Logical().Write("identity/group", map[string]any{"name": "readers", "policies": []string{"reader"},
		"member_entity_ids": []string{entityID}}))
	if _, err := ann.KVv2("secret").Get(t.Context(), "app"); err != nil {
		t.Fatalf("read through the group policy (same token): %v", err)
	}
	e := secret(root.Logical().Read("identity/entity/id/" + entityID))
	if ids := e.Data["group_ids"].([]any); len(ids) != 1 || ids[0] != g.Data["id"] {
		t.Fatalf("entity groups: %v", e.Data["group_ids"])
	}

	secret(root.Logical().Write("identity/entity/id/"+entityID, map[string]any{"disabled": true}))
	if _, err := newClient(t, s.Addr, "").Logical().Write("auth/userpass/login/ann", map[string]any{"password": "pw-ann-1234"}); err == nil {
		t.Fatal("disabled entity logged in")
	}
	secret(root.Logical().Write("identity/entity/id/"+entityID, map[string]any{"disabled": false}))

	method := secret(root.Logical().Write("identity/mfa/method/totp", map[string]any{"issuer": "kinko"})).Data["method_id"].(string)
	gen := secret(root.Logical().Write("identity/mfa/method/totp/admin-generate", map[string]any{"method_id": method, "entity_id": entityID}))
	u := must[*url.URL](t)(url.Parse(gen.Data["url"].(string)))
	key := must[[]byte](t)(base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret")))
	secret(root.Logical().Write("identity/mfa/login-enforcement/readers", map[string]any{"mfa_method_ids": []string{method},
		"identity_group_ids": []string{g.Data["id"].(string)}}))

	pending := login()
	if pending.Auth == nil || pending.Auth.ClientToken != "" || pending.Auth.MFARequirement == nil {
		t.Fatalf("login under MFA: %+v", pending.Auth)
	}
	anon := newClient(t, s.Addr, "")
	reqID := pending.Auth.MFARequirement.MFARequestID
	if _, err := anon.Sys().MFAValidate(reqID, map[string]any{method: []string{"000000"}}); err == nil {
		t.Fatal("wrong passcode accepted")
	}
	code := must[string](t)(identity.TOTPCode(key, time.Now(), 30*time.Second, 6, "SHA1"))
	done := secret(anon.Sys().MFAValidate(reqID, map[string]any{method: []string{code}}))
	if done.Auth == nil || done.Auth.ClientToken == "" || done.Auth.EntityID != entityID {
		t.Fatalf("validated login: %+v", done.Auth)
	}
	if _, err := newClient(t, s.Addr, done.Auth.ClientToken).KVv2("secret").Get(t.Context(), "app"); err != nil {
		t.Fatalf("read with the MFA token: %v", err)
	}
}
