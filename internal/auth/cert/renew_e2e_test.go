package cert_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/auth/cert"
)

// TestE2ERenewGoesToCert renews a cert token through the official client:
// only over a connection presenting the login's certificate, and only
// while its role exists.
func TestE2ERenewGoesToCert(t *testing.T) {
	e := newE2E(t)
	opts := cert.CertOptions{CommonName: "api.example.com", DNSNames: []string{"api.svc.local"}}
	leaf := e.ca.Issue(t, opts)
	c := e.client(leaf, "")
	secret, err := c.Logical().Write("auth/cert/login", nil)
	if err != nil || secret.Auth == nil {
		t.Fatalf("login: %+v, %v", secret, err)
	}
	token := secret.Auth.ClientToken
	c.SetToken(token)
	if _, err := e.admin.Logical().Write("auth/cert/certs/web", map[string]any{"token_ttl": "10m"}); err != nil {
		t.Fatal(err)
	}
	if s, err := c.Auth().Token().RenewSelf(0); err != nil || s.Auth.LeaseDuration != 600 {
		t.Fatalf("renew-self = %+v, %v; want the role's current 600s", s, err)
	}

	refusals := []struct {
		name   string
		client *cert.TestCert
		status int
		msg    string
	}{
		{"another certificate of the role", e.ca.Issue(t, opts), http.StatusForbidden, "client identity during renewal not matching"},
		{"no client certificate", nil, http.StatusBadRequest, "client certificate must be supplied"},
	}
	for _, tc := range refusals {
		_, err := e.client(tc.client, token).Auth().Token().RenewSelf(0)
		if !isStatus(err, tc.status) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: renew-self = %v, want %d %q", tc.name, err, tc.status, tc.msg)
		}
	}

	if _, err := e.admin.Logical().Delete("auth/cert/certs/web"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Auth().Token().RenewSelf(0)
	if !isStatus(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "no longer exists, not renewing") {
		t.Fatalf("renew-self after the role was deleted = %v", err)
	}
}
