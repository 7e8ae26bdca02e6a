package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// lockoutFixture is a server with userpass mounted at people/ and two
// users, ann and bob.
type lockoutFixture struct {
	t        *testing.T
	ts       *testserver.Server
	c        *vault.Client // root
	accessor string
}

func newLockoutFixture(t *testing.T) *lockoutFixture {
	t.Helper()
	ts := testserver.Start(t)
	f := &lockoutFixture{t: t, ts: ts, c: testserver.VaultClient(t, ts.Addr, ts.RootToken)}
	must(t, f.c.Sys().EnableAuthWithOptions("people", &vault.EnableAuthOptions{Type: "userpass"}))
	for _, u := range []string{"ann", "bob"} {
		_, err := f.c.Logical().Write("auth/people/users/"+u, map[string]any{"password": "pw-" + u + "-123"})
		must(t, err)
	}
	auths, err := f.c.Sys().ListAuth()
	must(t, err)
	f.accessor = auths["people/"].Accessor
	return f
}

// login logs in as user with password and returns the HTTP status (200
// on success).
func (f *lockoutFixture) login(user, password string) int {
	f.t.Helper()
	c := testserver.VaultClient(f.t, f.ts.Addr, "")
	s, err := c.Logical().Write("auth/people/login/"+user, map[string]any{"password": password})
	if err == nil {
		if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
			f.t.Fatalf("login %s: no token in %+v", user, s)
		}
		return 200
	}
	return statusOf(err)
}

func (f *lockoutFixture) wantLogin(user, password string, status int) {
	f.t.Helper()
	if got := f.login(user, password); got != status {
		f.t.Fatalf("login %s: status %d, want %d", user, got, status)
	}
}

// wantError expects err to be an HTTP status error mentioning msg.
func wantError(t testing.TB, err error, status int, msg string) {
	t.Helper()
	var re *vault.ResponseError
	if !errors.As(err, &re) || re.StatusCode != status || !strings.Contains(strings.Join(re.Errors, "; "), msg) {
		t.Fatalf("error %v, want HTTP %d mentioning %q", err, status, msg)
	}
}

// lockedUsers reads sys/locked-users and returns the total and the
// locked aliases by mount accessor.
func lockedUsers(t testing.TB, c *vault.Client, query map[string][]string) (int, map[string][]string) {
	t.Helper()
	s, err := c.Logical().ReadWithData("sys/locked-users", query)
	if err != nil {
		t.Fatalf("read sys/locked-users: %v", err)
	}
	raw, _ := json.Marshal(s.Data)
	var out struct {
		Total       int `json:"total"`
		ByNamespace []struct {
			NamespaceID    string `json:"namespace_id"`
			NamespacePath  string `json:"namespace_path"`
			Counts         int    `json:"counts"`
			MountAccessors []struct {
				MountAccessor    string   `json:"mount_accessor"`
				Counts           int      `json:"counts"`
				AliasIdentifiers []string `json:"alias_identifiers"`
			} `json:"mount_accessors"`
		} `json:"by_namespace"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("sys/locked-users %s: %v", raw, err)
	}
	if len(out.ByNamespace) != 1 || out.ByNamespace[0].NamespaceID != "root" || out.ByNamespace[0].Counts != out.Total {
		t.Fatalf("sys/locked-users by_namespace: %s", raw)
	}
	got := map[string][]string{}
	for _, m := range out.ByNamespace[0].MountAccessors {
		if m.Counts != len(m.AliasIdentifiers) {
			t.Fatalf("sys/locked-users counts: %s", raw)
		}
		got[m.MountAccessor] = m.AliasIdentifiers
	}
	return out.Total, got
}

// TestUserLockoutTuneListUnlock follows Vault's user lockout API end to
// end with the official client: a tuned threshold locks a user out, the
// lock is listed under the mount accessor, an unlock lifts it.
func TestUserLockoutTuneListUnlock(t *testing.T) {
	f := newLockoutFixture(t)
	must(t, f.c.Sys().TuneMount("auth/people", vault.MountConfigInput{
		UserLockoutConfig: &vault.UserLockoutConfigInput{LockoutThreshold: "2", LockoutDuration: "15m"},
	}))
	tune, err := f.c.Logical().Read("sys/auth/people/tune")
	must(t, err)
	if fmt.Sprintf("%v %v %v %v", tune.Data["user_lockout_threshold"], tune.Data["user_lockout_duration"],
		tune.Data["user_lockout_counter_reset_duration"], tune.Data["user_lockout_disable"]) != "2 900 0 false" {
		t.Errorf("tune read: %v", tune.Data)
	}

	f.wantLogin("ann", "wrong-1", 400)
	f.wantLogin("ann", "wrong-2", 400)
	f.wantLogin("ann", "pw-ann-123", 403) // locked: the right password is refused
	f.wantLogin("bob", "pw-bob-123", 200) // other users are not affected

	total, byMount := lockedUsers(t, f.c, nil)
	if total != 1 || !slices.Equal(byMount[f.accessor], []string{"ann"}) || len(byMount) != 1 {
		t.Fatalf("locked users = %d %v, want ann under %s", total, byMount, f.accessor)
	}
	total, byMount = lockedUsers(t, f.c, map[string][]string{"mount_accessor": {f.accessor}})
	if total != 1 || !slices.Equal(byMount[f.accessor], []string{"ann"}) {
		t.Fatalf("locked users of %s = %d %v", f.accessor, total, byMount)
	}

	_, err = f.c.Logical().Write("sys/locked-users/"+f.accessor+"/unlock/ann", nil)
	must(t, err)
	f.wantLogin("ann", "pw-ann-123", 200)
	if total, _ := lockedUsers(t, f.c, nil); total != 0 {
		t.Errorf("locked users after unlock: %d", total)
	}
	// Unlocking a user that is not locked succeeds, as in Vault.
	_, err = f.c.Logical().Write("sys/locked-users/"+f.accessor+"/unlock/bob", nil)
	must(t, err)
}

// TestUserLockoutDisable: lockout_disable=true turns lockout off.
func TestUserLockoutDisable(t *testing.T) {
	f := newLockoutFixture(t)
	threshold, disable := "2", true
	must(t, f.c.Sys().TuneMountAllowNil("auth/people", vault.TuneMountConfigInput{
		UserLockoutConfig: &vault.TuneUserLockoutConfigInput{LockoutThreshold: &threshold, DisableLockout: &disable},
	}))
	for i := range 6 {
		f.wantLogin("ann", fmt.Sprint("wrong-", i), 400)
	}
	f.wantLogin("ann", "pw-ann-123", 200)
	if total, _ := lockedUsers(t, f.c, nil); total != 0 {
		t.Errorf("locked users with lockout disabled: %d", total)
	}
	tune, err := f.c.Logical().Read("sys/auth/people/tune")
	must(t, err)
	if tune.Data["user_lockout_disable"] != true {
		t.Errorf("tune read: %v", tune.Data)
	}
	// Turning it back on counts from then on.
	disable = false
	must(t, f.c.Sys().TuneMountAllowNil("auth/people", vault.TuneMountConfigInput{
		UserLockoutConfig: &vault.TuneUserLockoutConfigInput{DisableLockout: &disable},
	}))
	f.wantLogin("ann", "wrong-a", 400)
	f.wantLogin("ann", "wrong-b", 400)
	f.wantLogin("ann", "pw-ann-123", 403)
}

// TestUserLockoutPersisted: the tuned lockout is kept in the mount table
// (it survives a seal and unseal) and shown in sys/auth listings.
func TestUserLockoutPersisted(t *testing.T) {
	f := newLockoutFixture(t)
	_, err := f.c.Logical().Write("sys/auth/people/tune", map[string]any{
		"user_lockout_config": map[string]any{"lockout_threshold": 3, "lockout_counter_reset": "1h"},
	})
	must(t, err)
	must(t, f.c.Sys().Seal())
	if _, err := f.c.Sys().Unseal(f.ts.UnsealKey); err != nil {
		t.Fatal(err)
	}
	tune, err := f.c.Logical().Read("sys/mounts/auth/people/tune")
	must(t, err)
	if fmt.Sprintf("%v %v", tune.Data["user_lockout_threshold"], tune.Data["user_lockout_counter_reset_duration"]) != "3 3600" {
		t.Errorf("tune read after unseal: %v", tune.Data)
	}
	list, err := f.c.Logical().Read("sys/auth")
	must(t, err)
	cfg, _ := list.Data["people/"].(map[string]any)["config"].(map[string]any)
	if lc, _ := cfg["user_lockout_config"].(map[string]any); fmt.Sprint(lc["user_lockout_threshold"]) != "3" {
		t.Errorf("sys/auth config: %v", cfg)
	}
	// The settings apply; config/lockout shows the effective ones.
	for i := range 3 {
		f.wantLogin("ann", fmt.Sprint("wrong-", i), 400)
	}
	f.wantLogin("ann", "pw-ann-123", 403)
	eff, err := f.c.Logical().Read("auth/people/config/lockout")
	must(t, err)
	if fmt.Sprintf("%v %v", eff.Data["lockout_threshold"], eff.Data["lockout_counter_reset"]) != "3 3600" {
		t.Errorf("config/lockout: %v", eff.Data)
	}
	// "system" and 0 unset the tuned fields again.
	_, err = f.c.Logical().Write("sys/auth/people/tune", map[string]any{
		"user_lockout_config": map[string]any{"lockout_threshold": "0", "lockout_counter_reset": "system"},
	})
	must(t, err)
	tune, err = f.c.Logical().Read("sys/auth/people/tune")
	must(t, err)
	if _, ok := tune.Data["user_lockout_threshold"]; ok {
		t.Errorf("tune read after unsetting: %v", tune.Data)
	}
}

// TestUserLockoutErrors checks the 400s of bad tunes and unknown mounts.
func TestUserLockoutErrors(t *testing.T) {
	f := newLockoutFixture(t)
	must(t, f.c.Sys().EnableAuthWithOptions("machines", &vault.EnableAuthOptions{Type: "approle"}))
	tune := func(path string, cfg map[string]any) error {
		_, err := f.c.Logical().Write(path, map[string]any{"user_lockout_config": cfg})
		return err
	}
	tests := []struct {
		path string
		cfg  map[string]any
		msg  string
	}{
		{"sys/auth/people/tune", map[string]any{"lockout_threshold": "-1"}, "invalid user_lockout_config.lockout_threshold"},
		{"sys/auth/people/tune", map[string]any{"lockout_duration": "soon"}, "invalid user_lockout_config.lockout_duration"},
		{"sys/auth/people/tune", map[string]any{"lockout_disable": "perhaps"}, "lockout_disable"},
		{"sys/auth/people/tune", map[string]any{"threshold": 3}, "unknown user_lockout_config field"},
		{"sys/mounts/secret/tune", map[string]any{"lockout_threshold": 3}, `secrets engine type "kv" not allowed`},
		{"sys/auth/token/tune", map[string]any{"lockout_threshold": 3}, `auth method type "token" not allowed`},
		{"sys/auth/nowhere/tune", map[string]any{"lockout_threshold": 3}, "no mount at"},
	}
	for _, tt := range tests {
		wantError(t, tune(tt.path, tt.cfg), 400, tt.msg)
	}
	if total, _ := lockedUsers(t, f.c, nil); total != 0 {
		t.Errorf("locked users: %d", total)
	}
	_, err := f.c.Logical().ReadWithData("sys/locked-users", map[string][]string{"mount_accessor": {"auth_userpass_nope"}})
	wantError(t, err, 400, `no auth method with mount accessor "auth_userpass_nope"`)
	_, err = f.c.Logical().Write("sys/locked-users/auth_userpass_nope/unlock/ann", nil)
	wantError(t, err, 400, "no auth method with mount accessor")
	auths, err := f.c.Sys().ListAuth()
	must(t, err)
	_, err = f.c.Logical().Write("sys/locked-users/"+auths["machines/"].Accessor+"/unlock/x", nil)
	wantError(t, err, 400, "has no user lockout")
}

// TestLockedUsersPolicy: as in Vault, sys/locked-users needs a policy
// granting it, not sudo.
func TestLockedUsersPolicy(t *testing.T) {
	f := newLockoutFixture(t)
	must(t, f.c.Sys().PutPolicy("lockout-admin", `
path "sys/locked-users" { capabilities = ["read"] }
path "sys/locked-users/*" { capabilities = ["update"] }`))
	admin, err := f.c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"lockout-admin"}})
	must(t, err)
	other, err := f.c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"default"}})
	must(t, err)
	ac := testserver.VaultClient(t, f.ts.Addr, admin.Auth.ClientToken)
	oc := testserver.VaultClient(t, f.ts.Addr, other.Auth.ClientToken)

	for i := range 5 { // Vault's default threshold
		f.wantLogin("ann", fmt.Sprint("wrong-", i), 400)
	}
	f.wantLogin("ann", "pw-ann-123", 403)
	if _, err := oc.Logical().Read("sys/locked-users"); statusOf(err) != 403 {
		t.Errorf("list without policy: %v", err)
	}
	if _, err := oc.Logical().Write("sys/locked-users/"+f.accessor+"/unlock/ann", nil); statusOf(err) != 403 {
		t.Errorf("unlock without policy: %v", err)
	}
	if _, byMount := lockedUsers(t, ac, nil); !slices.Equal(byMount[f.accessor], []string{"ann"}) {
		t.Fatalf("locked users = %v", byMount)
	}
	_, err = ac.Logical().Write("sys/locked-users/"+f.accessor+"/unlock/ANN", nil)
	must(t, err)
	f.wantLogin("ann", "pw-ann-123", 200)
}
