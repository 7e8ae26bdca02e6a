package userpass

import (
	"errors"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// FuzzLogin logs in with arbitrary usernames and passwords. A login may
// only succeed for the real user (any case) with the exact password; every
// failure must be a user-facing error without an Auth that never echoes
// the password tried or the real one.
func FuzzLogin(f *testing.F) {
	e := newEnvWith(f, map[string]string{"lockout_disable": "true"}, 4)
	const realPassword = "fuzz-Pa55"
	e.user("fuzzuser", map[string]any{"password": realPassword})
	for _, seed := range [][2]string{
		{"fuzzuser", realPassword}, {"FuzzUser", realPassword}, {"fuzzuser", "fuzz-pa55"},
		{"fuzzuser", ""}, {"", realPassword}, {"fuzzuser/password", realPassword},
		{"fuzz.user", realPassword}, {"-fuzzuser", realPassword}, {"fuzzuser", realPassword + "\x00"},
		{"fuzzuser", strings.Repeat("a", 100)}, {"ünïcode", "ü"}, {"../user", "x"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, username, password string) {
		resp, err := e.do(logical.UpdateOperation, "login/"+username, map[string]any{"password": password})
		if err == nil {
			if resp == nil || resp.Auth == nil {
				t.Fatalf("login %q: no error and no Auth", username)
			}
			if strings.ToLower(username) != "fuzzuser" || password != realPassword {
				t.Fatalf("login %q with password %q succeeded", username, password)
			}
			if resp.Auth.Alias.Name != "fuzzuser" || resp.Auth.Metadata["username"] != "fuzzuser" {
				t.Fatalf("auth = %+v", resp.Auth)
			}
			return
		}
		if resp != nil && resp.Auth != nil {
			t.Fatalf("failed login %q returned an Auth", username)
		}
		var le *logical.Error
		if !errors.As(err, &le) {
			t.Fatalf("login %q: internal error %v", username, err)
		}
		msg := err.Error()
		if strings.Contains(msg, realPassword) || (len(password) > 3 && strings.Contains(msg, password)) {
			t.Fatalf("error %q reveals a password", msg)
		}
	})
}

// FuzzMountOptions checks lockout option parsing never panics and that
// what it accepts is coherent.
func FuzzMountOptions(f *testing.F) {
	for _, s := range []string{"5", "0", "-1", "15m", "90", "1.5", "true", "", "9999999999999999999", "1d"} {
		f.Add(s, s, s, s)
	}
	f.Fuzz(func(t *testing.T, thr, dur, reset, dis string) {
		o, err := parseMountOptions(map[string]string{"lockout_threshold": thr, "lockout_duration": dur,
			"lockout_counter_reset": reset, "lockout_disable": dis})
		if err != nil {
			if !errors.Is(err, logical.ErrInvalidRequest) {
				t.Fatalf("error kind: %v", err)
			}
			return
		}
		c := o.apply(defaultLockout)
		if c.Threshold < 1 || c.Duration <= 0 || c.CounterReset <= 0 {
			t.Fatalf("accepted options gave %+v", c)
		}
	})
}
