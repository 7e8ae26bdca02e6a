package core

import "testing"

func TestLoginDisplayName(t *testing.T) {
	for _, tc := range []struct{ path, name, want string }{
		{"auth/userpass/login/alice", "alice", "userpass-alice"},
		{"auth/team/people/login/bob", "bob", "team-people-bob"},
		{"auth/approle/login", "", "approle"},
		{"auth/oidc/oidc/callback", "ada@example.com", "oidc-ada@example.com"},
		{"auth/jwt/login", "repo:acme/app", "jwt-repo:acme/app"},
	} {
		if got := loginDisplayName(tc.path, tc.name); got != tc.want {
			t.Errorf("loginDisplayName(%q, %q) = %q, want %q", tc.path, tc.name, got, tc.want)
		}
	}
}
