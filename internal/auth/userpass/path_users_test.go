package userpass

import (
	"context"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestUserCRUD(t *testing.T) {
	e := newEnv(t)
	e.user("Mary", map[string]any{"password": "s3cret", "token_policies": "Dev, ops", "token_ttl": "1h",
		"token_max_ttl": 7200, "token_bound_cidrs": "10.0.0.0/8", "token_num_uses": 3})
	// Case-insensitive: the user is stored and listed lower-case.
	got := e.ok(logical.ReadOperation, "users/MARY", nil).Data
	want := map[string]any{"token_policies": []string{"dev", "ops"}, "token_ttl": int64(3600), "token_max_ttl": int64(7200),
		"token_bound_cidrs": []string{"10.0.0.0/8"}, "token_num_uses": 3, "token_type": "default"}
	for k, v := range want {
		if !equalAny(got[k], v) {
			t.Errorf("read %s = %#v, want %#v", k, got[k], v)
		}
	}
	for _, k := range []string{"password", "password_hash", "policies", "ttl", "max_ttl", "bound_cidrs"} {
		if _, ok := got[k]; ok {
			t.Errorf("read shows %q", k)
		}
	}
	keys := e.ok(logical.ListOperation, "users/", nil).Data["keys"].([]string)
	if !slices.Equal(keys, []string{"mary"}) {
		t.Errorf("list = %v", keys)
	}
	// An update without a password keeps it.
	e.ok(logical.UpdateOperation, "users/mary", map[string]any{"token_ttl": "2h"})
	e.remote = "10.1.2.3:4000" // inside token_bound_cidrs
	if a := e.mustLogin("mary", "s3cret"); a.TTL.Hours() != 2 {
		t.Errorf("TTL after update = %v", a.TTL)
	}
	e.ok(logical.DeleteOperation, "users/mAry", nil)
	if resp := e.ok(logical.ReadOperation, "users/mary", nil); resp != nil {
		t.Errorf("read after delete = %+v", resp)
	}
	e.badLogin("mary", "s3cret")
	if keys := e.ok(logical.ListOperation, "users", nil).Data["keys"].([]string); len(keys) != 0 {
		t.Errorf("list after delete = %v", keys)
	}
}

func equalAny(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		return ok && slices.Equal(as, bs)
	}
	return a == b
}

func TestUserWriteRefused(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "pw"})
	tests := []struct {
		name, path string
		op         logical.Operation
		data       map[string]any
		msg        string
	}{
		{"create without password", "users/alice", logical.CreateOperation, map[string]any{"token_policies": "a"}, "missing password"},
		{"update of missing user without password", "users/alice", logical.UpdateOperation, map[string]any{}, "missing password"},
		{"password and hash", "users/alice", logical.CreateOperation,
			map[string]any{"password": "x", "password_hash": "$2a$10$abc"}, "only one of password or password_hash may be provided"},
		{"password over 72 bytes", "users/alice", logical.CreateOperation, map[string]any{"password": strings.Repeat("p", 73)},
			"password is longer than 72 bytes, the most bcrypt can use: choose a shorter one"},
		{"not a bcrypt hash", "users/alice", logical.CreateOperation, map[string]any{"password_hash": "plain"}, "password_hash is not a valid bcrypt hash"},
		{"root policy", "users/bob", logical.UpdateOperation, map[string]any{"token_policies": "root"}, "the root policy cannot be granted by an auth method"},
		{"bad CIDR", "users/bob", logical.UpdateOperation, map[string]any{"bound_cidrs": "10.0.0.0/99"}, ""},
		{"ttl over max_ttl", "users/bob", logical.UpdateOperation, map[string]any{"ttl": 100, "max_ttl": 10}, "token_ttl should not be greater than token_max_ttl"},
		{"bad duration", "users/bob", logical.UpdateOperation, map[string]any{"token_ttl": "soon"}, ""},
		{"password of missing user", "users/nobody/password", logical.UpdateOperation, map[string]any{"password": "x"}, "username does not exist"},
		{"policies of missing user", "users/nobody/policies", logical.UpdateOperation, map[string]any{"token_policies": "x"}, "username does not exist"},
		{"empty new password", "users/bob/password", logical.UpdateOperation, map[string]any{}, "missing password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.fail(tc.op, tc.path, tc.data, logical.ErrInvalidRequest, tc.msg)
		})
	}
	e.t = t
	if resp := e.ok(logical.ReadOperation, "users/alice", nil); resp != nil {
		t.Errorf("refused create left a user: %+v", resp)
	}
	e.mustLogin("bob", "pw") // refused updates changed nothing
}

func TestPasswordHashImport(t *testing.T) {
	e := newEnv(t)
	h5, err := bcrypt.GenerateFromPassword([]byte("imported"), 5)
	if err != nil {
		t.Fatal(err)
	}
	e.user("imp", map[string]any{"password_hash": string(h5)})
	e.mustLogin("imp", "imported")
	e.badLogin("imp", string(h5)) // the hash itself is not the password

	h4, _ := bcrypt.GenerateFromPassword([]byte("weak"), 4)
	e.fail(logical.UpdateOperation, "users/imp/password", map[string]any{"password_hash": string(h4)},
		logical.ErrInvalidRequest, "bcrypt cost of 4 is too low, want 5 at minimum")
	// Only the header says the cost; a cost-13 hash is refused before use.
	h13 := strings.Replace(string(h5), "$05$", "$13$", 1)
	e.fail(logical.UpdateOperation, "users/imp/password", map[string]any{"password_hash": h13},
		logical.ErrInvalidRequest, "bcrypt cost of 13 exceeds maximum cost of 12")
	e.mustLogin("imp", "imported")
}

func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "old-pass", "token_policies": "p"})
	e.ok(logical.UpdateOperation, "users/BOB/password", map[string]any{"password": "new-pass"})
	e.badLogin("bob", "old-pass")
	if a := e.mustLogin("bob", "new-pass"); !slices.Equal(a.Policies, []string{"p"}) {
		t.Errorf("policies after password change = %v", a.Policies)
	}
	// The full write path changes it too.
	e.ok(logical.UpdateOperation, "users/bob", map[string]any{"password": "third"})
	e.badLogin("bob", "new-pass")
	e.mustLogin("bob", "third")
}

func TestUserPolicies(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "pw", "token_policies": "a", "token_ttl": 60})
	e.ok(logical.UpdateOperation, "users/bob/policies", map[string]any{"token_policies": "B,c"})
	data := e.ok(logical.ReadOperation, "users/bob", nil).Data
	if !equalAny(data["token_policies"], []string{"b", "c"}) || data["token_ttl"] != int64(60) {
		t.Errorf("after policies update: %v", data)
	}
	if _, ok := data["policies"]; ok {
		t.Errorf("token_policies update shows deprecated policies: %v", data)
	}
	e.ok(logical.UpdateOperation, "users/bob/policies", map[string]any{"policies": "d"})
	data = e.ok(logical.ReadOperation, "users/bob", nil).Data
	if !equalAny(data["token_policies"], []string{"d"}) || !equalAny(data["policies"], []string{"d"}) {
		t.Errorf("after deprecated policies update: %v", data)
	}
	if a := e.mustLogin("bob", "pw"); !slices.Equal(a.Policies, []string{"d"}) {
		t.Errorf("login policies = %v", a.Policies)
	}
	e.fail(logical.UpdateOperation, "users/bob/policies", map[string]any{"token_policies": "root"}, logical.ErrInvalidRequest, "")
}

// TestDeprecatedFields checks Vault's upgrade rule: a deprecated field sets
// its token_* twin and shows in reads until the token_* name is used.
func TestDeprecatedFields(t *testing.T) {
	e := newEnv(t)
	e.user("old", map[string]any{"password": "pw", "policies": "p1", "ttl": 60, "max_ttl": 120, "bound_cidrs": "127.0.0.1/32"})
	data := e.ok(logical.ReadOperation, "users/old", nil).Data
	want := map[string]any{"policies": []string{"p1"}, "token_policies": []string{"p1"}, "ttl": int64(60), "token_ttl": int64(60),
		"max_ttl": int64(120), "token_max_ttl": int64(120), "bound_cidrs": []string{"127.0.0.1/32"}, "token_bound_cidrs": []string{"127.0.0.1/32"}}
	for k, v := range want {
		if !equalAny(data[k], v) {
			t.Errorf("read %s = %#v, want %#v", k, data[k], v)
		}
	}
	a := e.mustLogin("old", "pw")
	if a.TTL.Seconds() != 60 || a.MaxTTL.Seconds() != 120 || !slices.Equal(a.BoundCIDRs, []string{"127.0.0.1/32"}) {
		t.Errorf("login auth = %+v", a)
	}
	e.ok(logical.UpdateOperation, "users/old", map[string]any{"token_policies": "p2", "token_ttl": 30, "token_max_ttl": 90, "token_bound_cidrs": ""})
	data = e.ok(logical.ReadOperation, "users/old", nil).Data
	for _, k := range []string{"policies", "ttl", "max_ttl", "bound_cidrs"} {
		if _, ok := data[k]; ok {
			t.Errorf("after token_* update, read still shows %s = %v", k, data[k])
		}
	}
	if !equalAny(data["token_policies"], []string{"p2"}) || data["token_ttl"] != int64(30) || !equalAny(data["token_bound_cidrs"], []string{}) {
		t.Errorf("after token_* update: %v", data)
	}
	// Both names sent: the token_* one wins.
	e.ok(logical.UpdateOperation, "users/old", map[string]any{"policies": "x", "token_policies": "y"})
	if a := e.mustLogin("old", "pw"); !slices.Equal(a.Policies, []string{"y"}) {
		t.Errorf("policies with both names sent = %v", a.Policies)
	}
}

// TestStorageHoldsNoPassword checks no stored key or value contains a
// password, whichever path set it.
func TestStorageHoldsNoPassword(t *testing.T) {
	e := newEnv(t)
	passwords := []string{"first-Pa55word", "second-Pa55word", "third-Pa55word"}
	e.user("carol", map[string]any{"password": passwords[0]})
	e.ok(logical.UpdateOperation, "users/carol/password", map[string]any{"password": passwords[1]})
	e.ok(logical.UpdateOperation, "users/carol", map[string]any{"password": passwords[2]})
	e.mustLogin("carol", passwords[2])
	e.badLogin("carol", passwords[0])
	for _, p := range passwords {
		if e.storageContains([]byte(p)) {
			t.Errorf("storage contains the password %q", p)
		}
	}
	var u user
	if _, err := logical.GetJSON(context.Background(), e.s, userPrefix+"carol", &u); err != nil || bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(passwords[2])) != nil {
		t.Errorf("stored hash does not verify: %v", err)
	}
}

// TestProductionCost checks a backend built by Factory hashes at cost 10
// as Vault does (the other tests lower it).
func TestProductionCost(t *testing.T) {
	fresh, err := Factory(context.Background(), &logical.BackendConfig{})
	if err != nil || fresh.(*backend).cost != 10 {
		t.Fatalf("Factory cost = %v, %v", fresh.(*backend).cost, err)
	}
	e := newEnvWith(t, nil, bcrypt.DefaultCost)
	e.user("dan", map[string]any{"password": "pw"})
	u, err := readUser(context.Background(), e.s, "dan")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(u.PasswordHash); err != nil || c != 10 {
		t.Errorf("stored cost = %d, %v", c, err)
	}
}

func TestHelpAndUnknownPath(t *testing.T) {
	e := newEnv(t)
	resp := e.ok(logical.HelpOperation, "users/x", nil)
	if !strings.Contains(resp.Data["help"].(string), "password_hash") {
		t.Errorf("help = %v", resp.Data["help"])
	}
	e.fail(logical.ReadOperation, "nope", nil, logical.ErrUnsupportedPath, "")
	e.fail(logical.ReadOperation, "login/bob", nil, logical.ErrUnsupportedOp, "")
	if sp := e.b.SpecialPaths(); !slices.Equal(sp.Unauthenticated, []string{"login/*"}) {
		t.Errorf("unauthenticated = %v", sp.Unauthenticated)
	}
}
