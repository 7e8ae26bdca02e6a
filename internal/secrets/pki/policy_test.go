package pki

import "testing"

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"db-*.x", "db-1.x", true},
		{"db-*.x", "db-.x", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"*mid*", "xmidy", true},
		{"*mid*", "xmiy", false},
		{"p*q*r", "pqr", true},
		{"p*q*r", "prq", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestNameAllowedEdgeCases(t *testing.T) {
	base := roleEntry{AllowedDomains: []string{"example.com"}, AllowSubdomains: true, AllowBareDomains: true,
		EnforceHostnames: true, AllowLocalhost: true, AllowWildcardCertificates: true}
	tests := []struct {
		name string
		want bool
	}{
		{"example.com", true},
		{"a.example.com", true},
		{"a.example.com.", false},
		{"*.example.com", true},
		{"f*.example.com", true},
		{"*.*.example.com", false},
		{"*", false},
		{"a@example.com", true},
		{"a@b@example.com", false},
		{"@example.com", false},
		{"*@example.com", false},
		{"a@*.example.com", false},
		{"-a.example.com", false},
		{"localhost", true},
		{"*.localhost", true},
		{"x.localdomain", true},
		{"", false},
	}
	for _, tt := range tests {
		if got := base.nameAllowed(tt.name); got != tt.want {
			t.Errorf("nameAllowed(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
