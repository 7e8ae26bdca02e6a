package cert

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// loginFixture: roles "web" (CA1, CN *.example.com), "dns" (CA1, DNS SAN
// *.svc.cluster.local) and "ops" (CA2, unconstrained); CA3 is trusted by
// nobody.
type loginFixture struct {
	*env
	ca1, ca2, ca3 *TestCA
}

func newLoginFixture(t *testing.T) *loginFixture {
	f := &loginFixture{env: newEnv(t), ca1: NewTestCA(t, "ca one"), ca2: NewTestCA(t, "ca two"), ca3: NewTestCA(t, "ca three")}
	f.role("web", map[string]any{"certificate": f.ca1.PEM, "allowed_common_names": "*.example.com", "token_policies": "web"})
	f.role("dns", map[string]any{"certificate": f.ca1.PEM, "allowed_dns_sans": "*.svc.cluster.local", "token_policies": "dns"})
	f.role("ops", map[string]any{"certificate": f.ca2.PEM, "token_policies": "ops"})
	return f
}

func TestLoginRefused(t *testing.T) {
	f := newLoginFixture(t)
	past := time.Now().Add(-48 * time.Hour)
	cases := []struct {
		name string
		role string
		cs   *tls.ConnectionState
		msg  string // exact message, or a prefix when it ends with "..."
	}{
		{"no tls", "", nil, "tls connection required"},
		{"no certificate", "", &tls.ConnectionState{HandshakeComplete: true}, "client certificate must be supplied"},
		{"other CA", "", f.ca3.Issue(t, CertOptions{CommonName: "api.example.com"}).ConnState(),
			"invalid certificate or no client certificate supplied"},
		{"other CA named role", "web", f.ca3.Issue(t, CertOptions{CommonName: "api.example.com"}).ConnState(),
			"invalid certificate or no client certificate supplied"},
		{"self-signed look-alike of CA", "", SelfSigned(t, CertOptions{CommonName: "ca one"}).ConnState(),
			"invalid certificate or no client certificate supplied"},
		{"expired", "", f.ca1.Issue(t, CertOptions{CommonName: "api.example.com", NotBefore: past, NotAfter: past.Add(time.Hour)}).ConnState(),
			"failed to verify client's certificate: x509: certificate has expired or is not yet valid..."},
		{"not yet valid", "", f.ca1.Issue(t, CertOptions{CommonName: "api.example.com", NotBefore: time.Now().Add(time.Hour)}).ConnState(),
			"failed to verify client's certificate: x509: certificate has expired or is not yet valid..."},
		{"server-only key usage", "", f.ca1.Issue(t, CertOptions{CommonName: "api.example.com", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}).ConnState(),
			"failed to verify client's certificate: x509: certificate specifies an incompatible key usage"},
		{"CN not allowed", "web", f.ca1.Issue(t, CertOptions{CommonName: "api.example.org"}).ConnState(),
			"no chain matching all constraints could be found for this login certificate"},
		{"glob needs the dot", "web", f.ca1.Issue(t, CertOptions{CommonName: "example.com"}).ConnState(),
			"no chain matching all constraints could be found for this login certificate"},
		{"DNS SAN not allowed", "dns", f.ca1.Issue(t, CertOptions{CommonName: "x", DNSNames: []string{"db.svc.other.local"}}).ConnState(),
			"no chain matching all constraints could be found for this login certificate"},
		{"no role matches", "", f.ca1.Issue(t, CertOptions{CommonName: "x", DNSNames: []string{"db.svc.other.local"}}).ConnState(),
			"no chain matching all constraints could be found for this login certificate"},
		{"unknown role name", "nope", f.ca1.Issue(t, CertOptions{CommonName: "api.example.com"}).ConnState(),
			"invalid certificate or no client certificate supplied"},
		{"role of another CA", "ops", f.ca1.Issue(t, CertOptions{CommonName: "api.example.com"}).ConnState(),
			"invalid certificate or no client certificate supplied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.login(tc.role, tc.cs)
			if err == nil || !errors.Is(err, logical.ErrInvalidRequest) {
				t.Fatalf("want 400, got %v (resp %+v)", err, resp)
			}
			if resp != nil && resp.Auth != nil {
				t.Fatal("refused login returned an Auth")
			}
			if prefix, ok := strings.CutSuffix(tc.msg, "..."); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("error %q, want prefix %q", err, prefix)
				}
			} else if err.Error() != tc.msg {
				t.Fatalf("error %q, want %q", err, tc.msg)
			}
		})
	}
}

func TestLoginPicksRole(t *testing.T) {
	f := newLoginFixture(t)
	both := f.ca1.Issue(t, CertOptions{CommonName: "a.example.com", DNSNames: []string{"a.svc.cluster.local"}})
	cases := []struct {
		name string
		role string
		cert *TestCert
		want string
	}{
		{"CN glob by name", "web", f.ca1.Issue(t, CertOptions{CommonName: "api.example.com"}), "web"},
		{"CN glob, all roles tried", "", f.ca1.Issue(t, CertOptions{CommonName: "api.example.com"}), "web"},
		{"name is case-insensitive", "WEB", f.ca1.Issue(t, CertOptions{CommonName: "api.example.com"}), "web"},
		{"DNS SAN, all roles tried", "", f.ca1.Issue(t, CertOptions{CommonName: "db", DNSNames: []string{"db.svc.cluster.local"}}), "dns"},
		{"other CA's role", "", f.ca2.Issue(t, CertOptions{CommonName: "anyone"}), "ops"},
		{"first matching role in name order", "", both, "dns"},
		{"name picks the later role", "web", both, "web"},
		{"key usage any", "", f.ca2.Issue(t, CertOptions{CommonName: "x", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}), "ops"},
		{"no key usage", "", f.ca2.Issue(t, CertOptions{CommonName: "x", ExtKeyUsage: []x509.ExtKeyUsage{}}), "ops"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := f.mustLogin(tc.role, tc.cert)
			if a.Metadata["cert_name"] != tc.want || !slices.Equal(a.Policies, []string{tc.want}) {
				t.Fatalf("logged in through %q with policies %v, want %q", a.Metadata["cert_name"], a.Policies, tc.want)
			}
			if a.ClientToken != "" {
				t.Fatal("backend minted a token itself")
			}
		})
	}
}

func TestLoginAuth(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	e.role("app", map[string]any{"certificate": ca.PEM, "token_policies": "a,b", "token_ttl": "1h",
		"token_max_ttl": "2h", "token_num_uses": 3, "token_bound_cidrs": "127.0.0.0/8"})
	c := ca.Issue(t, CertOptions{CommonName: "client-1", Serial: 4242})
	a := e.mustLogin("", c)
	wantMD := map[string]string{
		"cert_name": "app", "common_name": "client-1", "serial_number": "4242",
		"subject_key_id": hexColons(c.Cert.SubjectKeyId), "authority_key_id": hexColons(ca.Cert.SubjectKeyId),
	}
	for k, v := range wantMD {
		if a.Metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, a.Metadata[k], v)
		}
	}
	if len(a.Metadata) != len(wantMD) {
		t.Errorf("metadata %v has extra keys", a.Metadata)
	}
	if !strings.Contains(a.Metadata["subject_key_id"], ":") || a.Metadata["subject_key_id"] != strings.ToLower(a.Metadata["subject_key_id"]) {
		t.Errorf("subject_key_id %q not lower-case colon hex", a.Metadata["subject_key_id"])
	}
	if a.Alias == nil || a.Alias.Name != "client-1" || a.Alias.Metadata != nil {
		t.Errorf("alias %+v", a.Alias)
	}
	if a.DisplayName != "app" {
		t.Errorf("display name %q, want the role name", a.DisplayName)
	}
	if a.TTL != time.Hour || a.MaxTTL != 2*time.Hour || a.NumUses != 3 || !slices.Equal(a.BoundCIDRs, []string{"127.0.0.0/8"}) ||
		!slices.Equal(a.Policies, []string{"a", "b"}) {
		t.Errorf("token params not applied: %+v", a)
	}
	if a.InternalData["subject_key_id"] == "" {
		t.Errorf("internal data %v", a.InternalData)
	}

	e.role("app", map[string]any{"display_name": "friendly"})
	e.ok(logical.UpdateOperation, "config", map[string]any{"enable_identity_alias_metadata": true})
	a = e.mustLogin("app", c)
	if a.DisplayName != "friendly" || a.Alias.Metadata["cert_name"] != "app" || a.Alias.Metadata["common_name"] != "client-1" {
		t.Errorf("after update: display %q, alias metadata %v", a.DisplayName, a.Alias.Metadata)
	}
}

func TestLoginBoundCIDRs(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	e.role("app", map[string]any{"certificate": ca.PEM, "token_bound_cidrs": "10.0.0.0/8"})
	c := ca.Issue(t, CertOptions{CommonName: "c"})
	resp, err := e.login("", c.ConnState())
	checkErr(t, resp, err, logical.ErrPermissionDenied, "permission denied")
	e.remote = "10.1.2.3:4000"
	e.mustLogin("", c)
	e.role("app", map[string]any{"bound_cidrs": "192.0.2.0/24"}) // the deprecated name
	resp, err = e.login("", c.ConnState())
	checkErr(t, resp, err, logical.ErrPermissionDenied, "permission denied")
}

func TestLoginClock(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	e.role("app", map[string]any{"certificate": ca.PEM})
	c := ca.Issue(t, CertOptions{CommonName: "c", NotAfter: time.Now().Add(time.Hour)})
	e.mustLogin("", c)
	e.b.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	resp, err := e.login("", c.ConnState())
	checkErr(t, resp, err, logical.ErrInvalidRequest, "")
	if !strings.Contains(err.Error(), "expired") {
		t.Fatalf("error %q does not say expired", err)
	}
}

func TestLoginIntermediates(t *testing.T) {
	e := newEnv(t)
	root := NewTestCA(t, "root")
	inter := root.Intermediate(t, "intermediate")
	leaf := inter.Issue(t, CertOptions{CommonName: "c"})
	if len(leaf.Chain) != 2 {
		t.Fatalf("chain of %d", len(leaf.Chain))
	}
	bare := &TestCert{Cert: leaf.Cert, Chain: leaf.Chain[:1]}

	e.role("root", map[string]any{"certificate": root.PEM})
	if a := e.mustLogin("", leaf); a.Metadata["cert_name"] != "root" {
		t.Fatalf("through %q", a.Metadata["cert_name"])
	}
	resp, err := e.login("", bare.ConnState())
	checkErr(t, resp, err, logical.ErrInvalidRequest, errNoTrust.Error())

	e.role("inter", map[string]any{"certificate": inter.PEM})
	if a := e.mustLogin("inter", bare); a.Metadata["cert_name"] != "inter" {
		t.Fatalf("through %q", a.Metadata["cert_name"])
	}
	// A bundle role trusts each of its CAs.
	other := NewTestCA(t, "other")
	e.role("bundle", map[string]any{"certificate": other.PEM + root.PEM})
	e.mustLogin("bundle", leaf)
	e.mustLogin("bundle", other.Issue(t, CertOptions{CommonName: "o"}))
}

func TestLoginPinnedLeaf(t *testing.T) {
	e := newEnv(t)
	pinned := SelfSigned(t, CertOptions{CommonName: "robot"})
	e.role("robot", map[string]any{"certificate": pinned.CertPEM, "allowed_common_names": "robot"})
	if a := e.mustLogin("", pinned); a.Metadata["cert_name"] != "robot" {
		t.Fatalf("through %q", a.Metadata["cert_name"])
	}
	lookalike := SelfSigned(t, CertOptions{CommonName: "robot", Serial: pinned.Cert.SerialNumber.Int64()})
	resp, err := e.login("", lookalike.ConnState())
	checkErr(t, resp, err, logical.ErrInvalidRequest, errNoTrust.Error())

	// A pinned leaf issued by an untrusted CA is trusted as itself.
	ca := NewTestCA(t, "untrusted")
	issued := ca.Issue(t, CertOptions{CommonName: "robot"})
	e.role("issued", map[string]any{"certificate": issued.CertPEM})
	e.mustLogin("issued", issued)

	e.role("robot", map[string]any{"allowed_common_names": "someone-else"})
	resp, err = e.login("robot", pinned.ConnState())
	checkErr(t, resp, err, logical.ErrInvalidRequest, errNoTrust.Error())

	e.b.now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	resp, err = e.login("issued", issued.ConnState())
	checkErr(t, resp, err, logical.ErrInvalidRequest, "")
}

func TestLoginCRL(t *testing.T) {
	e := newEnv(t)
	root := NewTestCA(t, "root")
	inter := root.Intermediate(t, "intermediate")
	e.role("root", map[string]any{"certificate": root.PEM})
	a, b := inter.Issue(t, CertOptions{CommonName: "a"}), inter.Issue(t, CertOptions{CommonName: "b"})
	e.mustLogin("", a)

	e.ok(logical.UpdateOperation, "crls/leaves", map[string]any{"crl": inter.CRL(t, a.Cert)})
	resp, err := e.login("", a.ConnState())
	checkErr(t, resp, err, logical.ErrInvalidRequest, errNoMatch.Error())
	e.mustLogin("", b)

	e.ok(logical.UpdateOperation, "crls/inters", map[string]any{"crl": root.CRL(t, inter.Cert)})
	resp, err = e.login("", b.ConnState())
	checkErr(t, resp, err, logical.ErrInvalidRequest, errNoMatch.Error())

	e.ok(logical.DeleteOperation, "crls/inters", nil)
	e.ok(logical.DeleteOperation, "crls/leaves", nil)
	e.mustLogin("", a)
	e.mustLogin("", b)
}

func TestLoginConstraints(t *testing.T) {
	extOID := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
	extVal, err := asn1.Marshal("team-blue")
	if err != nil {
		t.Fatal(err)
	}
	c := CertOptions{CommonName: "svc.example.com", DNSNames: []string{"svc.internal"},
		EmailAddresses: []string{"ops@example.com"}, URIs: []string{"spiffe://example.com/svc"},
		OUs: []string{"Platform"}, Extensions: []pkix.Extension{{Id: extOID, Value: extVal}}}
	cases := []struct {
		field, value string
		allowed      bool
	}{
		{"allowed_names", "svc.*", true},
		{"allowed_names", "*.internal", true},
		{"allowed_names", "ops@*", true},
		{"allowed_names", "nobody", false},
		{"allowed_common_names", "svc.example.com,other", true},
		{"allowed_common_names", "SVC.example.com", false},
		{"allowed_email_sans", "*@example.com", true},
		{"allowed_email_sans", "*@example.org", false},
		{"allowed_uri_sans", "spiffe://example.com/*", true},
		{"allowed_uri_sans", "spiffe://other/*", false},
		{"allowed_organizational_units", "Plat*", true},
		{"allowed_organizational_units", "Finance", false},
		{"required_extensions", "1.3.6.1.4.1.99999.1:team-*", true},
		{"required_extensions", "1.3.6.1.4.1.99999.1:team-red", false},
		{"required_extensions", "1.3.6.1.4.1.99999.2:*", false},
	}
	for _, tc := range cases {
		t.Run(tc.field+"="+tc.value, func(t *testing.T) {
			e := newEnv(t)
			ca := NewTestCA(t, "ca")
			e.role("r", map[string]any{"certificate": ca.PEM, tc.field: tc.value})
			resp, err := e.login("r", ca.Issue(t, c).ConnState())
			if tc.allowed && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.allowed {
				checkErr(t, resp, err, logical.ErrInvalidRequest, errNoMatch.Error())
			}
		})
	}
}

func TestLoginMetadataExtensions(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	oid := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7}
	val, _ := asn1.Marshal("rack-12")
	e.role("r", map[string]any{"certificate": ca.PEM, "allowed_metadata_extensions": "1.3.6.1.4.1.99999.7,1.2.3.4"})
	a := e.mustLogin("r", ca.Issue(t, CertOptions{CommonName: "c", Extensions: []pkix.Extension{{Id: oid, Value: val}}}))
	if a.Metadata["1-3-6-1-4-1-99999-7"] != "rack-12" {
		t.Fatalf("metadata %v", a.Metadata)
	}
	if _, ok := a.Metadata["1-2-3-4"]; ok {
		t.Fatalf("absent extension in metadata: %v", a.Metadata)
	}
}

func TestLoginAliasFallback(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	e.role("r", map[string]any{"certificate": ca.PEM})
	cases := []struct {
		opts CertOptions
		want string
	}{
		{CertOptions{CommonName: "cn", DNSNames: []string{"d"}}, "cn"},
		{CertOptions{DNSNames: []string{"d.example", "e"}}, "d.example"},
		{CertOptions{EmailAddresses: []string{"x@example.com"}}, "x@example.com"},
		{CertOptions{URIs: []string{"spiffe://td/w"}}, "spiffe://td/w"},
		{CertOptions{Serial: 77}, "serial:77"},
	}
	for _, tc := range cases {
		if a := e.mustLogin("", ca.Issue(t, tc.opts)); a.Alias.Name != tc.want {
			t.Errorf("alias %q, want %q", a.Alias.Name, tc.want)
		}
	}
}

// TestLoginSeesRoleChanges: the parse cache never serves an old role.
func TestLoginSeesRoleChanges(t *testing.T) {
	e := newEnv(t)
	ca, other := NewTestCA(t, "ca"), NewTestCA(t, "other")
	c := ca.Issue(t, CertOptions{CommonName: "c"})
	e.role("r", map[string]any{"certificate": ca.PEM, "token_policies": "one"})
	if a := e.mustLogin("r", c); !slices.Equal(a.Policies, []string{"one"}) {
		t.Fatalf("policies %v", a.Policies)
	}
	e.role("r", map[string]any{"token_policies": "two"})
	if a := e.mustLogin("r", c); !slices.Equal(a.Policies, []string{"two"}) {
		t.Fatalf("policies %v after update", a.Policies)
	}
	e.role("r", map[string]any{"certificate": other.PEM})
	resp, err := e.login("r", c.ConnState())
	checkErr(t, resp, err, logical.ErrInvalidRequest, errNoTrust.Error())
	e.ok(logical.DeleteOperation, "certs/r", nil)
	resp, err = e.login("", other.Issue(t, CertOptions{CommonName: "o"}).ConnState())
	checkErr(t, resp, err, logical.ErrInvalidRequest, errNoTrust.Error())
}
