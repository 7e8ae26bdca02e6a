package cert

import (
	"context"
	"crypto/tls"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// renew sends core's renewal request for the token login a minted, as
// core describes it ("default" added), over a connection presenting cs.
func (e *env) renew(a *logical.Auth, cs *tls.ConnectionState) (*logical.Response, error) {
	policies := append(slices.Clone(a.Policies), "default")
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.RenewOperation, Storage: e.s, MountPoint: "auth/cert/",
		Conn: &logical.Connection{RemoteAddr: e.remote, ConnState: cs},
		Auth: &logical.Auth{
			Policies: policies, TokenPolicies: policies, Metadata: maps.Clone(a.Metadata),
			InternalData: maps.Clone(a.InternalData), LeaseOptions: logical.LeaseOptions{TTL: a.TTL, Renewable: true},
		},
	})
}

func TestRenew(t *testing.T) {
	ca, other := NewTestCA(t, "renew ca"), NewTestCA(t, "other ca")
	leaf := ca.Issue(t, CertOptions{CommonName: "api.example.com"})
	sibling := ca.Issue(t, CertOptions{CommonName: "db.example.com"})
	denied := logical.ErrPermissionDenied
	invalid := logical.ErrInvalidRequest
	cases := []struct {
		name    string
		change  func(e *env)
		cs      *tls.ConnectionState
		kind    error
		msg     string
		wantTTL time.Duration
	}{
		{"same certificate", nil, leaf.ConnState(), nil, "", time.Hour},
		{"current TTL applies", func(e *env) {
			e.role("web", map[string]any{"token_ttl": "10m"})
		}, leaf.ConnState(), nil, "", 10 * time.Minute},
		{"another certificate of the role", nil, sibling.ConnState(), denied, errOtherCert.Error(), 0},
		{"no TLS", nil, nil, invalid, "tls connection required", 0},
		{"no certificate", nil, &tls.ConnectionState{HandshakeComplete: true}, invalid, "client certificate must be supplied", 0},
		{"certificate revoked since", func(e *env) {
			e.ok(logical.UpdateOperation, "crls/ca", map[string]any{"crl": ca.CRL(t, leaf.Cert)})
		}, leaf.ConnState(), invalid, "no chain matching all constraints could be found for this login certificate", 0},
		{"CA no longer trusted", func(e *env) {
			e.role("web", map[string]any{"certificate": other.PEM})
		}, leaf.ConnState(), invalid, "invalid certificate or no client certificate supplied", 0},
		{"policies changed", func(e *env) {
			e.role("web", map[string]any{"token_policies": "web,admin"})
		}, leaf.ConnState(), invalid, "policies have changed, not renewing", 0},
		{"role deleted", func(e *env) {
			e.ok(logical.DeleteOperation, "certs/web", nil)
		}, leaf.ConnState(), invalid, errRoleGone.Error(), 0},
		{"binding disabled", func(e *env) {
			e.ok(logical.UpdateOperation, "config", map[string]any{"disable_binding": true})
		}, nil, nil, "", time.Hour},
		{"binding disabled, role still checked", func(e *env) {
			e.ok(logical.UpdateOperation, "config", map[string]any{"disable_binding": true})
			e.ok(logical.DeleteOperation, "certs/web", nil)
		}, nil, invalid, errRoleGone.Error(), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.role("web", map[string]any{"certificate": ca.PEM, "allowed_common_names": "*.example.com",
				"token_policies": "web", "token_ttl": "1h"})
			a := e.mustLogin("", leaf)
			if tc.change != nil {
				tc.change(e)
			}
			resp, err := e.renew(a, tc.cs)
			if tc.kind != nil {
				checkErr(t, resp, err, tc.kind, tc.msg)
				return
			}
			if err != nil || resp == nil || resp.Auth == nil || resp.Auth.TTL != tc.wantTTL {
				t.Fatalf("renew = %+v, %v; want TTL %v", resp, err, tc.wantTTL)
			}
		})
	}
}

func TestSameIdentity(t *testing.T) {
	ca := NewTestCA(t, "id ca")
	leaf := ca.Issue(t, CertOptions{CommonName: "a"})
	noIDs := SelfSigned(t, CertOptions{CommonName: "b", Serial: 42})
	noIDs.Cert.SubjectKeyId, noIDs.Cert.AuthorityKeyId = nil, nil
	auth := func(c *TestCert) *logical.Auth {
		return loginAuth(&parsedRole{certRole: &certRole{}}, c.Cert, &config{})
	}
	cases := []struct {
		name   string
		mangle func(a *logical.Auth)
		leaf   *TestCert
		want   bool
	}{
		{"login certificate", nil, leaf, true},
		{"other subject key ID", func(a *logical.Auth) { a.InternalData["subject_key_id"] = "eA==" }, leaf, false},
		{"other authority key ID", func(a *logical.Auth) { a.InternalData["authority_key_id"] = "eA==" }, leaf, false},
		{"no recorded key IDs", func(a *logical.Auth) { a.InternalData = nil }, leaf, false},
		{"no key IDs, same serial", nil, noIDs, true},
		{"no key IDs, other serial", func(a *logical.Auth) { a.Metadata["serial_number"] = "43" }, noIDs, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := auth(tc.leaf)
			if tc.mangle != nil {
				tc.mangle(a)
			}
			if got := sameIdentity(a, tc.leaf.Cert); got != tc.want {
				t.Fatalf("sameIdentity = %v, want %v", got, tc.want)
			}
		})
	}
}
