package cert

import (
	"crypto/x509"
	"encoding/pem"
	"reflect"
	"slices"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestCertsCRUD(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	e.ok(logical.CreateOperation, "certs/Web", map[string]any{
		"certificate": ca.PEM, "allowed_common_names": "a,b", "allowed_dns_sans": []any{"*.x"},
		"required_extensions": "1.2.3:*", "token_policies": "p1", "token_ttl": "10m",
	})
	resp := e.ok(logical.ReadOperation, "certs/web", nil)
	d := resp.Data
	if d["certificate"] != ca.PEM || d["display_name"] != "web" ||
		!reflect.DeepEqual(d["allowed_common_names"], []string{"a", "b"}) ||
		!reflect.DeepEqual(d["allowed_dns_sans"], []string{"*.x"}) ||
		!reflect.DeepEqual(d["allowed_email_sans"], []string{}) ||
		!reflect.DeepEqual(d["token_policies"], []string{"p1"}) || d["token_ttl"] != int64(600) ||
		d["ocsp_enabled"] != false || d["token_type"] != "default" {
		t.Fatalf("read: %v", d)
	}
	for _, k := range []string{"policies", "ttl", "max_ttl", "period", "bound_cidrs"} {
		if _, ok := d[k]; ok {
			t.Errorf("deprecated %q shown though not used", k)
		}
	}

	// Update keeps what is not sent.
	e.ok(logical.UpdateOperation, "certs/web", map[string]any{"display_name": "W"})
	d = e.ok(logical.ReadOperation, "certs/WEB", nil).Data
	if d["display_name"] != "W" || d["certificate"] != ca.PEM || !reflect.DeepEqual(d["token_policies"], []string{"p1"}) {
		t.Fatalf("after update: %v", d)
	}

	e.role("other", map[string]any{"certificate": ca.PEM})
	keys := e.ok(logical.ListOperation, "certs/", nil).Data["keys"]
	if !reflect.DeepEqual(keys, []string{"other", "web"}) {
		t.Fatalf("list: %v", keys)
	}
	e.ok(logical.DeleteOperation, "certs/Web", nil)
	if resp := e.ok(logical.ReadOperation, "certs/web", nil); resp != nil {
		t.Fatalf("read after delete: %+v", resp)
	}
	if exists, err := e.b.certExists(t.Context(), &logical.Request{Storage: e.s},
		&logical.FieldData{Raw: map[string]any{"name": "other"}, Schema: e.b.pathCerts().Fields}); err != nil || !exists {
		t.Fatalf("exists: %v %v", exists, err)
	}
}

func TestCertsDeprecatedFields(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	e.role("r", map[string]any{"certificate": ca.PEM, "policies": "old", "ttl": 60, "max_ttl": 120, "period": 30, "bound_cidrs": "10.0.0.0/8"})
	d := e.ok(logical.ReadOperation, "certs/r", nil).Data
	want := map[string]any{"policies": []string{"old"}, "token_policies": []string{"old"}, "ttl": int64(60), "token_ttl": int64(60),
		"max_ttl": int64(120), "period": int64(30), "token_period": int64(30),
		"bound_cidrs": []string{"10.0.0.0/8"}, "token_bound_cidrs": []string{"10.0.0.0/8"}}
	for k, v := range want {
		if !reflect.DeepEqual(d[k], v) {
			t.Errorf("%s = %#v, want %#v", k, d[k], v)
		}
	}
	// A token_* field wins and hides its deprecated twin.
	e.role("r", map[string]any{"token_policies": "new", "token_ttl": 90})
	d = e.ok(logical.ReadOperation, "certs/r", nil).Data
	if _, ok := d["policies"]; ok || !reflect.DeepEqual(d["token_policies"], []string{"new"}) || d["token_ttl"] != int64(90) {
		t.Fatalf("after upgrade: %v", d)
	}
	if _, ok := d["ttl"]; ok {
		t.Fatalf("ttl still shown: %v", d)
	}
	// lease is the oldest name of token_ttl.
	e.role("l", map[string]any{"certificate": ca.PEM, "lease": 300})
	if d := e.ok(logical.ReadOperation, "certs/l", nil).Data; d["token_ttl"] != int64(300) || d["ttl"] != int64(300) {
		t.Fatalf("lease: %v", d)
	}
	e.role("l2", map[string]any{"certificate": ca.PEM, "lease": 300, "token_ttl": 20})
	if d := e.ok(logical.ReadOperation, "certs/l2", nil).Data; d["token_ttl"] != int64(20) {
		t.Fatalf("lease beside token_ttl: %v", d)
	}
}

func TestCertsWriteRefused(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	serverOnly := SelfSigned(t, CertOptions{CommonName: "s", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	garbled := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not der")}))
	cases := []struct {
		name string
		data map[string]any
		msg  string
	}{
		{"no certificate", map[string]any{"token_policies": "p"},
			"failed to parse certificate: send one or more PEM-encoded X.509 certificates (-----BEGIN CERTIFICATE-----)"},
		{"not PEM", map[string]any{"certificate": "hello"},
			"failed to parse certificate: send one or more PEM-encoded X.509 certificates (-----BEGIN CERTIFICATE-----)"},
		{"bad DER", map[string]any{"certificate": ca.PEM + garbled},
			"failed to parse certificate: PEM block 2 is not a valid X.509 certificate"},
		{"server-only leaf", map[string]any{"certificate": serverOnly.CertPEM},
			"nonCA certificates should have TLS client authentication set as an extended key usage"},
		{"ocsp", map[string]any{"certificate": ca.PEM, "ocsp_enabled": true}, ""},
		{"bad required extension", map[string]any{"certificate": ca.PEM, "required_extensions": "1.2.3"}, ""},
		{"bad required extension oid", map[string]any{"certificate": ca.PEM, "required_extensions": "x.y:z"}, ""},
		{"bad metadata extension", map[string]any{"certificate": ca.PEM, "allowed_metadata_extensions": "1..2"}, ""},
		{"ttl above max", map[string]any{"certificate": ca.PEM, "token_ttl": "2h", "token_max_ttl": "1h"}, ""},
		{"root policy", map[string]any{"certificate": ca.PEM, "token_policies": "root"}, ""},
		{"bad cidr", map[string]any{"certificate": ca.PEM, "token_bound_cidrs": "10.0.0.0/99"}, ""},
		{"negative lease", map[string]any{"certificate": ca.PEM, "lease": -5}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.fail(logical.UpdateOperation, "certs/x", tc.data, logical.ErrInvalidRequest, tc.msg)
			if resp := e.ok(logical.ReadOperation, "certs/x", nil); resp != nil {
				t.Fatalf("refused write stored a role: %v", resp.Data)
			}
		})
	}
}

func TestCertsWarnings(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	resp := e.ok(logical.UpdateOperation, "certs/x", map[string]any{"certificate": ca.PEM, "token_ttl": "800h", "bogus": 1})
	if resp == nil || len(resp.Warnings) != 2 {
		t.Fatalf("warnings: %+v", resp)
	}
}

func TestConfig(t *testing.T) {
	e := newEnv(t)
	d := e.ok(logical.ReadOperation, "config", nil).Data
	want := map[string]any{"disable_binding": false, "enable_identity_alias_metadata": false, "ocsp_cache_size": 100}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("defaults: %v", d)
	}
	e.ok(logical.UpdateOperation, "config", map[string]any{"disable_binding": true})
	e.ok(logical.UpdateOperation, "config", map[string]any{"ocsp_cache_size": 10})
	d = e.ok(logical.ReadOperation, "config", nil).Data
	want = map[string]any{"disable_binding": true, "enable_identity_alias_metadata": false, "ocsp_cache_size": 10}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("after writes: %v", d)
	}
	e.fail(logical.UpdateOperation, "config", map[string]any{"ocsp_cache_size": 1}, logical.ErrInvalidRequest,
		"invalid cache size, must be >= 2 and <= 100000")
}

func TestCRLs(t *testing.T) {
	e := newEnv(t)
	ca := NewTestCA(t, "ca")
	a, b := ca.Issue(t, CertOptions{Serial: 11}), ca.Issue(t, CertOptions{Serial: 12})
	crlPEM := ca.CRL(t, a.Cert, b.Cert)
	e.ok(logical.UpdateOperation, "crls/Main", map[string]any{"crl": crlPEM})
	block, _ := pem.Decode([]byte(crlPEM))
	e.ok(logical.UpdateOperation, "crls/der", map[string]any{"crl": string(block.Bytes)})

	d := e.ok(logical.ReadOperation, "crls/main", nil).Data
	if !reflect.DeepEqual(d["serials"], map[string]any{"11": map[string]any{}, "12": map[string]any{}}) {
		t.Fatalf("read: %v", d)
	}
	keys := e.ok(logical.ListOperation, "crls", nil).Data["keys"].([]string)
	if !slices.Equal(keys, []string{"der", "main"}) {
		t.Fatalf("list: %v", keys)
	}
	e.ok(logical.DeleteOperation, "crls/der", nil)
	e.fail(logical.DeleteOperation, "crls/der", nil, logical.ErrInvalidRequest, "no such CRL der")
	e.fail(logical.ReadOperation, "crls/der", nil, logical.ErrInvalidRequest, "no such CRL der")

	for _, bad := range []map[string]any{
		{},
		{"url": "http://169.254.169.254/crl"},
		{"crl": "garbage"},
		{"crl": ca.PEM},
		{"crl": "-----BEGIN X509 CRL-----\nnot base64\n"},
	} {
		e.fail(logical.UpdateOperation, "crls/bad", bad, logical.ErrInvalidRequest, "")
	}
	if keys := e.ok(logical.ListOperation, "crls", nil).Data["keys"].([]string); !slices.Equal(keys, []string{"main"}) {
		t.Fatalf("list after refused writes: %v", keys)
	}
}

func TestHelpAndSpecialPaths(t *testing.T) {
	e := newEnv(t)
	if sp := e.b.SpecialPaths(); !slices.Equal(sp.Unauthenticated, []string{"login"}) {
		t.Fatalf("special paths %+v", sp)
	}
	resp, err := e.do(logical.HelpOperation, "certs/x", nil, nil)
	if err != nil || resp.Data["help"] == "" {
		t.Fatalf("help: %+v %v", resp, err)
	}
}
