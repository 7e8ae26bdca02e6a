package userpass_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"
	userpassauth "github.com/hashicorp/vault/api/auth/userpass"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// e2e is testserver's auth fixture with the userpass method mounted.
type e2e struct{ *testserver.AuthE2E }

func newE2E(t *testing.T) *e2e { return &e2e{testserver.NewAuthE2E(t, "userpass")} }

func e2eClient(t testing.TB, addr, token string) *vault.Client {
	return testserver.VaultClient(t, addr, token)
}

// login logs in with the userpass helper on a fresh, token-less client.
func (e *e2e) login(user, password string, opts ...userpassauth.LoginOption) (*vault.Client, *vault.Secret, error) {
	c := e2eClient(e.T, e.Srv.Addr, "")
	c.ClearToken()
	auth, err := userpassauth.NewUserpassAuth(user, &userpassauth.Password{FromString: password}, opts...)
	if err != nil {
		e.T.Fatal(err)
	}
	s, err := c.Auth().Login(context.Background(), auth)
	return c, s, err
}

// refused logs in expecting status and an error containing msg, and no token.
func (e *e2e) refused(user, password string, status int, msg string, opts ...userpassauth.LoginOption) {
	e.T.Helper()
	c, s, err := e.login(user, password, opts...)
	wantStatus(e.T, err, status, msg)
	if s != nil || c.Token() != "" {
		e.T.Errorf("refused login left secret %+v token %q", s, c.Token())
	}
}

func wantStatus(t testing.TB, err error, status int, msg string) {
	t.Helper()
	var re *vault.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v, want an HTTP %d", err, status)
	}
	if re.StatusCode != status || (msg != "" && !slices.ContainsFunc(re.Errors, func(s string) bool { return strings.Contains(s, msg) })) {
		t.Fatalf("status %d errors %q, want %d containing %q", re.StatusCode, re.Errors, status, msg)
	}
}

func TestE2ELoginReadsAllowedSecret(t *testing.T) {
	e := newE2E(t)
	e.Write("auth/userpass/users/Bob", map[string]any{"password": "bob-pass", "token_policies": "reader", "token_ttl": "1h"})
	c, s, err := e.login("BOB", "bob-pass")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if s.Auth == nil || s.Auth.ClientToken == "" || c.Token() != s.Auth.ClientToken {
		t.Fatalf("login secret = %+v", s)
	}
	if s.Auth.LeaseDuration != 3600 || !s.Auth.Renewable || s.Auth.Metadata["username"] != "bob" {
		t.Errorf("auth = %+v", s.Auth)
	}
	ctx := context.Background()
	got, err := c.KVv2("secret").Get(ctx, "allowed")
	if err != nil || got.Data["v"] != "allowed" {
		t.Fatalf("read allowed: %v %v", got, err)
	}
	_, err = c.KVv2("secret").Get(ctx, "denied")
	wantStatus(t, err, http.StatusForbidden, "permission denied")

	self, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	pols, _ := self.TokenPolicies()
	slices.Sort(pols)
	if !slices.Equal(pols, []string{"default", "reader"}) {
		t.Errorf("policies = %v", pols)
	}
	// The token path is the request path, as in Vault.
	if self.Data["display_name"] != "userpass-bob" || self.Data["path"] != "auth/userpass/login/BOB" {
		t.Errorf("display_name %v path %v", self.Data["display_name"], self.Data["path"])
	}
}

func TestE2ELoginRefused(t *testing.T) {
	e := newE2E(t)
	e.Write("auth/userpass/users/bob", map[string]any{"password": "bob-pass", "token_policies": "reader"})
	e.Write("auth/userpass/users/far", map[string]any{"password": "far-pass", "token_bound_cidrs": "10.0.0.0/8"})
	e.refused("bob", "wrong", http.StatusBadRequest, "invalid username or password")
	e.refused("nobody", "bob-pass", http.StatusBadRequest, "invalid username or password")
	e.refused("far", "far-pass", http.StatusForbidden, "permission denied")
	_, err := e2eClient(t, e.Srv.Addr, "").Logical().Write("auth/userpass/login/bob", map[string]any{})
	wantStatus(t, err, http.StatusBadRequest, "missing password")
	// Four more failures lock bob out; then even the right password is
	// refused, with 403 as Vault.
	for range 4 {
		e.refused("bob", "wrong", http.StatusBadRequest, "invalid username or password")
	}
	e.refused("bob", "bob-pass", http.StatusForbidden, "permission denied")
}

func TestE2EManageUsers(t *testing.T) {
	e := newE2E(t)
	e.Write("auth/userpass/users/alice", map[string]any{"password": "one", "policies": "reader"})
	e.Write("auth/userpass/users/bob", map[string]any{"password": "two"})
	list, err := e.Admin.Logical().List("auth/userpass/users")
	if err != nil || !slices.Equal(list.Data["keys"].([]any), []any{"alice", "bob"}) {
		t.Fatalf("list = %v %v", list, err)
	}
	r := e.Read("auth/userpass/users/alice")
	if _, ok := r.Data["password"]; ok || !slices.Equal(r.Data["policies"].([]any), []any{"reader"}) {
		t.Errorf("read = %v", r.Data)
	}
	e.Write("auth/userpass/users/alice/password", map[string]any{"password": "three"})
	e.refused("alice", "one", http.StatusBadRequest, "invalid username or password")
	if _, _, err := e.login("alice", "three"); err != nil {
		t.Fatalf("login with new password: %v", err)
	}
	e.Write("auth/userpass/users/bob/policies", map[string]any{"token_policies": "reader"})
	c, _, err := e.login("bob", "two")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.KVv2("secret").Get(context.Background(), "allowed"); err != nil {
		t.Errorf("bob after policies update: %v", err)
	}
	if _, err := e.Admin.Logical().Delete("auth/userpass/users/bob"); err != nil {
		t.Fatal(err)
	}
	if r := e.Read("auth/userpass/users/bob"); r != nil {
		t.Errorf("read after delete = %v", r)
	}
	e.refused("bob", "two", http.StatusBadRequest, "invalid username or password")
}

// TestE2ECreateNeedsCreate checks the existence check: a token that may
// only update users cannot create one.
func TestE2ECreateNeedsCreate(t *testing.T) {
	e := newE2E(t)
	e.Write("auth/userpass/users/bob", map[string]any{"password": "two"})
	if err := e.Admin.Sys().PutPolicy("updater", `path "auth/userpass/users/*" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := e.Admin.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"updater"}})
	if err != nil {
		t.Fatal(err)
	}
	c := e2eClient(t, e.Srv.Addr, tok.Auth.ClientToken)
	if _, err := c.Logical().Write("auth/userpass/users/bob", map[string]any{"token_ttl": "5m"}); err != nil {
		t.Errorf("update existing user: %v", err)
	}
	_, err = c.Logical().Write("auth/userpass/users/eve", map[string]any{"password": "x"})
	wantStatus(t, err, http.StatusForbidden, "permission denied")
}

// TestE2ELockoutConfig mounts userpass at a custom path with lockout mount
// options, then changes them through config/lockout.
func TestE2ELockoutConfig(t *testing.T) {
	e := newE2E(t)
	err := e.Admin.Sys().EnableAuthWithOptions("people", &vault.EnableAuthOptions{Type: "userpass",
		Options: map[string]string{"lockout_threshold": "2", "lockout_duration": "1h"}})
	if err != nil {
		t.Fatal(err)
	}
	mount := userpassauth.WithMountPath("people")
	e.Write("auth/people/users/bob", map[string]any{"password": "pw"})
	if r := e.Read("auth/people/config/lockout"); r.Data["lockout_threshold"].(interface{ String() string }).String() != "2" {
		t.Errorf("config = %v", r.Data)
	}
	e.refused("bob", "x", http.StatusBadRequest, "invalid username or password", mount)
	e.refused("bob", "x", http.StatusBadRequest, "invalid username or password", mount)
	e.refused("bob", "pw", http.StatusForbidden, "permission denied", mount)
	e.Write("auth/people/config/lockout", map[string]any{"lockout_disable": true})
	if _, _, err := e.login("bob", "pw", mount); err != nil {
		t.Fatalf("login with lockout disabled: %v", err)
	}
	err = e.Admin.Sys().EnableAuthWithOptions("bad", &vault.EnableAuthOptions{Type: "userpass",
		Options: map[string]string{"lockout_threshold": "lots"}})
	wantStatus(t, err, http.StatusBadRequest, "lockout_threshold")
}
