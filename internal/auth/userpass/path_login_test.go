package userpass

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestLoginAuth(t *testing.T) {
	e := newEnv(t)
	e.user("Bob", map[string]any{"password": "pw", "token_policies": "a,b", "token_ttl": "1h", "token_max_ttl": "2h",
		"token_period": 0, "token_num_uses": 4, "token_no_default_policy": true, "token_explicit_max_ttl": "3h"})
	a := e.mustLogin("BOB", "pw")
	want := &logical.Auth{
		LeaseOptions:    logical.LeaseOptions{TTL: time.Hour, MaxTTL: 2 * time.Hour, Renewable: true},
		Policies:        []string{"a", "b"},
		Metadata:        map[string]string{"username": "bob"},
		DisplayName:     "bob",
		NumUses:         4,
		ExplicitMaxTTL:  3 * time.Hour,
		TokenType:       "service",
		Alias:           &logical.Alias{Name: "bob"},
		NoDefaultPolicy: true,
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("auth =\n%+v\nwant\n%+v", a, want)
	}
}

func TestLoginRefused(t *testing.T) {
	e := newEnv(t)
	e.user("bob", map[string]any{"password": "right-password"})
	tests := []struct {
		name, user, password string
		kind                 error
		msg                  string
	}{
		{"wrong password", "bob", "wrong-password", logical.ErrInvalidRequest, msgInvalid},
		{"unknown user", "alice", "right-password", logical.ErrInvalidRequest, msgInvalid},
		{"password case matters", "bob", "Right-password", logical.ErrInvalidRequest, msgInvalid},
		{"missing password", "bob", "", logical.ErrInvalidRequest, "missing password"},
		// bcrypt ignores bytes past 72; kinko refuses such passwords.
		{"right prefix over 72 bytes", "bob", "right-password" + strings.Repeat("x", 80), logical.ErrInvalidRequest, msgInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.failLogin(tc.user, tc.password, tc.kind, tc.msg)
		})
	}
	e.t = t
	e.fail(logical.UpdateOperation, "login/bob", map[string]any{"password": []any{"x"}}, logical.ErrInvalidRequest, "")
	e.fail(logical.UpdateOperation, "login/bo%b", map[string]any{"password": "x"}, logical.ErrUnsupportedPath, "")
	e.fail(logical.UpdateOperation, "login", map[string]any{"username": "bob", "password": "right-password"}, logical.ErrUnsupportedPath, "")
}

// TestLongPasswordAtLimit checks a password of exactly 72 bytes works and
// one byte more differs.
func TestLongPasswordAtLimit(t *testing.T) {
	e := newEnv(t)
	p := strings.Repeat("é", 36) // 72 bytes
	e.user("long", map[string]any{"password": p})
	e.mustLogin("long", p)
	e.badLogin("long", p+"!")
}

func TestLoginBoundCIDRs(t *testing.T) {
	e := newEnv(t)
	e.user("net", map[string]any{"password": "pw", "token_bound_cidrs": "10.0.0.0/8, 192.0.2.7"})
	tests := []struct {
		remote string
		ok     bool
	}{
		{"10.20.30.40:5555", true},
		{"192.0.2.7:1", true},
		{"[::ffff:10.0.0.1]:80", true},
		{"127.0.0.1:5555", false},
		{"192.0.2.8:1", false},
		{"[2001:db8::1]:443", false},
		{"", false},
	}
	for _, tc := range tests {
		e.remote = tc.remote
		if tc.ok {
			if a := e.mustLogin("net", "pw"); !slices.Equal(a.BoundCIDRs, []string{"10.0.0.0/8", "192.0.2.7"}) {
				t.Errorf("%s: BoundCIDRs = %v", tc.remote, a.BoundCIDRs)
			}
			continue
		}
		e.lockedLogin("net", "pw")
		// Outside the CIDRs, a wrong password is still just wrong.
		e.badLogin("net", "nope")
	}
	// A request without connection details is refused too.
	_, err := e.b.HandleRequest(t.Context(), &logical.Request{Operation: logical.UpdateOperation, Path: "login/net",
		Data: map[string]any{"password": "pw"}, Storage: e.s})
	if err == nil || err.Error() != "permission denied" {
		t.Errorf("login without Conn: %v", err)
	}
}

// TestUnknownUserCostsABcrypt checks an unknown user's login takes as long
// as a wrong password for a real one (both one cost-10 bcrypt comparison),
// so timing does not reveal which users exist. Without the dummy
// comparison the unknown case would be thousands of times faster.
func TestUnknownUserCostsABcrypt(t *testing.T) {
	if testing.Short() {
		t.Skip("bcrypt at production cost")
	}
	e := newEnvWith(t, map[string]string{"lockout_disable": "true"}, 10)
	e.user("real", map[string]any{"password": "pw"})
	median := func(name string) time.Duration {
		var d []time.Duration
		for range 5 {
			start := time.Now()
			e.badLogin(name, "wrong")
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		return d[len(d)/2]
	}
	known, unknown := median("real"), median("ghost")
	// Only "much faster" would leak: slower is load on a shared machine.
	if unknown < known/4 {
		t.Errorf("median login time: unknown user %v, known user %v", unknown, known)
	}
}
