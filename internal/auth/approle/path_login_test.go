package approle

import (
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func TestLoginSuccess(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", map[string]any{"token_policies": "app,Ops", "token_ttl": "1h", "token_max_ttl": "2h",
		"token_num_uses": 3, "token_bound_cidrs": "127.0.0.0/8"})
	sid, acc := e.secret("web", map[string]any{"metadata": `{"env":"prod"}`})
	a := e.mustLogin(roleID, sid)

	if a.ClientToken != "" {
		t.Errorf("ClientToken = %q, core mints the token", a.ClientToken)
	}
	if !reflect.DeepEqual(a.Policies, []string{"app", "ops"}) {
		t.Errorf("Policies = %v", a.Policies)
	}
	if a.TTL != time.Hour || a.MaxTTL != 2*time.Hour || a.NumUses != 3 || !a.Renewable {
		t.Errorf("TTL %v MaxTTL %v NumUses %d Renewable %v", a.TTL, a.MaxTTL, a.NumUses, a.Renewable)
	}
	if !reflect.DeepEqual(a.BoundCIDRs, []string{"127.0.0.0/8"}) {
		t.Errorf("BoundCIDRs = %v", a.BoundCIDRs)
	}
	wantMeta := map[string]string{"role_name": "web", "env": "prod"}
	if !reflect.DeepEqual(a.Metadata, wantMeta) {
		t.Errorf("Metadata = %v, want %v", a.Metadata, wantMeta)
	}
	if a.Alias == nil || a.Alias.Name != roleID || a.Alias.Metadata["role_name"] != "web" {
		t.Errorf("Alias = %+v", a.Alias)
	}
	if a.DisplayName != "" {
		t.Errorf("DisplayName = %q, want empty (core names it after the mount)", a.DisplayName)
	}
	if tag, _ := a.InternalData[roleIDTagKey].(string); len(tag) != 64 {
		t.Errorf("role ID tag = %q, want an HMAC-SHA256 in hex", tag)
	}
	delete(a.InternalData, roleIDTagKey)
	wantInternal := map[string]any{"role_name": "web", "secret_id_accessor": acc}
	if !reflect.DeepEqual(a.InternalData, wantInternal) {
		t.Errorf("InternalData = %v, want %v", a.InternalData, wantInternal)
	}
	// Unlimited secret IDs work again and write nothing.
	before := e.keys()
	e.mustLogin(roleID, " "+sid+" ")
	if after := e.keys(); !reflect.DeepEqual(before, after) {
		t.Errorf("login of an unlimited secret ID changed storage keys")
	}
}

func TestLoginFailures(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", nil)
	sid, _ := e.secret("web", nil)
	otherID := e.role("other", nil)
	otherSID, _ := e.secret("other", nil)
	long := string(make([]byte, maxInputLength+1))
	tests := []struct {
		name, roleID, secretID, msg string
	}{
		{"missing role_id", "", sid, "missing role_id"},
		{"blank role_id", "   ", sid, "missing role_id"},
		{"unknown role_id", "nope", sid, invalidCreds},
		{"missing secret_id", roleID, "", "missing secret_id"},
		{"wrong secret_id", roleID, "wrong", invalidCreds},
		{"secret_id of another role", roleID, otherSID, invalidCreds},
		{"role_id of another role", otherID, sid, invalidCreds},
		{"accessor as secret_id", roleID, e.ok(logical.UpdateOperation, "role/web/secret-id", nil).Data["secret_id_accessor"].(string), invalidCreds},
		{"oversized role_id", long, sid, invalidCreds},
		{"oversized secret_id", roleID, long, invalidCreds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.failLogin(tc.roleID, tc.secretID, tc.msg)
		})
	}
}

func TestLoginNumUses(t *testing.T) {
	for _, s := range []struct {
		name string
		env  func(t *testing.T) *env
	}{
		{"transactional", newEnvT},
		{"sequential", func(t *testing.T) *env { return newEnvOn(t, plainStorage{inmem.New()}) }},
	} {
		t.Run(s.name, func(t *testing.T) {
			e := s.env(t)
			roleID := e.role("web", map[string]any{"secret_id_num_uses": 2})
			sid, acc := e.secret("web", nil)
			e.mustLogin(roleID, sid)
			look := e.ok(logical.UpdateOperation, "role/web/secret-id/lookup", map[string]any{"secret_id": sid})
			if look.Data["secret_id_num_uses"] != 1 {
				t.Fatalf("uses left = %v, want 1", look.Data["secret_id_num_uses"])
			}
			e.mustLogin(roleID, sid)
			e.failLogin(roleID, sid, invalidCreds)
			if n := e.countKeys(secretIDPrefix) + e.countKeys(accessorPrefix); n != 0 {
				t.Fatalf("%d secret/accessor keys left after the last use", n)
			}
			e.fail(logical.UpdateOperation, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": acc}, logical.ErrNotFound, "")
		})
	}
}

func newEnvT(t *testing.T) *env { return newEnv(t) }

// TestLoginNumUsesConcurrent checks the decrement is atomic: of many
// concurrent logins exactly num_uses succeed.
func TestLoginNumUsesConcurrent(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", nil)
	sid, _ := e.secret("web", map[string]any{"num_uses": 5})
	var wg sync.WaitGroup
	var okCount atomic.Int32
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := e.login(roleID, sid); err == nil && resp.Auth != nil {
				okCount.Add(1)
			}
		}()
	}
	wg.Wait()
	if okCount.Load() != 5 {
		t.Fatalf("%d logins succeeded, want exactly 5", okCount.Load())
	}
}

func TestLoginExpiry(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", map[string]any{"secret_id_ttl": "10m"})
	sid, _ := e.secret("web", nil)
	limited, _ := e.secret("web", map[string]any{"ttl": "5m", "num_uses": 3})
	e.clock.Advance(5*time.Minute - time.Second)
	e.mustLogin(roleID, limited)
	e.mustLogin(roleID, sid)
	e.clock.Advance(time.Second)
	e.failLogin(roleID, limited, invalidCreds)
	e.clock.Advance(5 * time.Minute)
	e.failLogin(roleID, sid, invalidCreds)
	if n := e.countKeys(secretIDPrefix) + e.countKeys(accessorPrefix); n != 0 {
		t.Fatalf("%d secret/accessor keys left after expiry", n)
	}
}

func TestLoginCIDRs(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", map[string]any{"secret_id_bound_cidrs": "10.0.0.0/8,127.0.0.1"})
	sid, _ := e.secret("web", map[string]any{"cidr_list": "10.1.0.0/16", "num_uses": 5})
	any4, _ := e.secret("web", nil)

	e.remote = "10.1.2.3:999"
	a := e.mustLogin(roleID, sid)
	if len(a.BoundCIDRs) != 0 {
		t.Errorf("BoundCIDRs = %v, want none", a.BoundCIDRs)
	}
	e.remote = "10.2.0.1:999"
	e.failLogin(roleID, sid, `source address "10.2.0.1:999" unauthorized through CIDR restrictions on the secret ID`)
	e.mustLogin(roleID, any4)
	e.remote = "192.0.2.1:999"
	e.failLogin(roleID, any4, `source address "192.0.2.1:999" unauthorized by CIDR restrictions on the role`)
	e.remote = "127.0.0.1:1"
	e.mustLogin(roleID, any4)
	// Refused attempts spend no use: 5 uses, 1 spent by the login above.
	look := e.ok(logical.UpdateOperation, "role/web/secret-id/lookup", map[string]any{"secret_id": sid})
	if look.Data["secret_id_num_uses"] != 4 {
		t.Errorf("uses left = %v, want 4", look.Data["secret_id_num_uses"])
	}
	// Narrowing the role so the secret's list is no longer a subset refuses it.
	e.ok(logical.UpdateOperation, "role/web/secret-id-bound-cidrs", map[string]any{"secret_id_bound_cidrs": "10.2.0.0/16"})
	e.remote = "10.1.2.3:999"
	e.fail(logical.UpdateOperation, "login", map[string]any{"role_id": roleID, "secret_id": sid}, logical.ErrInvalidRequest, "")
}

func TestLoginNoConnection(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", map[string]any{"secret_id_bound_cidrs": "10.0.0.0/8"})
	sid, _ := e.secret("web", nil)
	_, err := e.b.HandleRequest(t.Context(), &logical.Request{Operation: logical.UpdateOperation, Path: "login",
		Data: map[string]any{"role_id": roleID, "secret_id": sid}, Storage: e.s})
	if err == nil {
		t.Fatal("login without a connection passed a CIDR-bound role")
	}
}

func TestLoginWithoutSecretID(t *testing.T) {
	e := newEnv(t)
	e.fail(logical.CreateOperation, "role/open", map[string]any{"bind_secret_id": false}, logical.ErrInvalidRequest, "")
	roleID := e.role("cidr", map[string]any{"bind_secret_id": false, "secret_id_bound_cidrs": "127.0.0.0/8"})
	a := e.mustLogin(roleID, "")
	if _, ok := a.InternalData["secret_id_accessor"]; ok || a.Metadata["role_name"] != "cidr" {
		t.Errorf("Auth = %+v", a)
	}
	e.remote = "192.0.2.1:5"
	e.failLogin(roleID, "", `source address "192.0.2.1:5" unauthorized by CIDR restrictions on the role`)
	e.fail(logical.UpdateOperation, "role/cidr/secret-id", nil, logical.ErrInvalidRequest, "bind_secret_id is not set on the role")

	// token_bound_cidrs alone is a constraint too (as Vault): the login
	// succeeds from anywhere, the token is bound.
	tokID := e.role("tok", map[string]any{"bind_secret_id": false, "token_bound_cidrs": "10.0.0.0/8"})
	if a := e.mustLogin(tokID, ""); !reflect.DeepEqual(a.BoundCIDRs, []string{"10.0.0.0/8"}) {
		t.Errorf("BoundCIDRs = %v", a.BoundCIDRs)
	}
}

func TestLoginSecretTokenBoundCIDRs(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", map[string]any{"token_bound_cidrs": "10.0.0.0/8"})
	sid, _ := e.secret("web", map[string]any{"token_bound_cidrs": "10.1.0.0/16"})
	if a := e.mustLogin(roleID, sid); !reflect.DeepEqual(a.BoundCIDRs, []string{"10.1.0.0/16"}) {
		t.Errorf("BoundCIDRs = %v, want the secret's", a.BoundCIDRs)
	}
	e.fail(logical.UpdateOperation, "role/web/secret-id", map[string]any{"token_bound_cidrs": "192.0.2.0/24"}, logical.ErrInvalidRequest, "")
}

func TestLoginAfterRoleIDChange(t *testing.T) {
	e := newEnv(t)
	oldID := e.role("web", nil)
	sid, _ := e.secret("web", nil)
	e.ok(logical.UpdateOperation, "role/web/role-id", map[string]any{"role_id": "custom-id"})
	e.failLogin(oldID, sid, invalidCreds)
	e.mustLogin("custom-id", sid)
	if n := e.countKeys(roleIDPrefix); n != 1 {
		t.Errorf("%d role_id index keys, want 1", n)
	}
}

func TestLoginStaleIndex(t *testing.T) {
	// An index naming a role whose role_id differs (a crash between index
	// writes without transactions) must not log in.
	e := newEnv(t)
	e.role("web", nil)
	sid, _ := e.secret("web", nil)
	key, err := e.b.saltedKey(t.Context(), e.s, roleIDPrefix, "forged")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.Put(t.Context(), &logical.StorageEntry{Key: key, Value: []byte("web")}); err != nil {
		t.Fatal(err)
	}
	e.failLogin("forged", sid, invalidCreds)
}

// TestLoginSeesRoleChanges checks the login cache never serves a stale role.
func TestLoginSeesRoleChanges(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", map[string]any{"token_policies": "a"})
	sid, _ := e.secret("web", nil)
	if a := e.mustLogin(roleID, sid); !reflect.DeepEqual(a.Policies, []string{"a"}) {
		t.Fatalf("policies = %v", a.Policies)
	}
	e.ok(logical.UpdateOperation, "role/web/policies", map[string]any{"token_policies": "b"})
	if a := e.mustLogin(roleID, sid); !reflect.DeepEqual(a.Policies, []string{"b"}) {
		t.Fatalf("policies after update = %v", a.Policies)
	}
	e.ok(logical.DeleteOperation, "role/web", nil)
	e.failLogin(roleID, sid, invalidCreds)
	// The same name recreated with the same custom role ID must not accept
	// the old secret ID (a new role key, and the old secrets were deleted).
	e.role("web", map[string]any{"role_id": roleID})
	e.failLogin(roleID, sid, invalidCreds)
}
