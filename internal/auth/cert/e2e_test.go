package cert_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/auth/cert"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// e2e is a kinko dev server behind a TLS listener that requests client
// certificates, with a cert mount whose role "web" trusts ca and allows
// CNs *.example.com and DNS SANs *.svc.local; the role's tokens get the
// "reader" policy (read secret/data/allowed).
type e2e struct {
	t     *testing.T
	srv   *testserver.Server
	tlsrv *httptest.Server
	ca    *cert.TestCA
	// serverCA is the PEM of the CA that issued the listener's certificate.
	serverCA []byte
	admin    *vault.Client
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	e := &e2e{t: t, srv: testserver.Start(t), ca: cert.NewTestCA(t, "client ca")}
	sca := cert.NewTestCA(t, "server ca")
	e.serverCA = []byte(sca.PEM)
	serverCert := sca.Issue(t, cert.CertOptions{CommonName: "localhost", DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	e.tlsrv = httptest.NewUnstartedServer(e.srv.Handler)
	e.tlsrv.TLS = &tls.Config{
		Certificates: []tls.Certificate{serverCert.TLSCertificate()},
		ClientAuth:   tls.RequestClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	e.tlsrv.StartTLS()
	t.Cleanup(e.tlsrv.Close)

	e.admin = e.client(nil, e.srv.RootToken)
	ctx := context.Background()
	if err := e.admin.Sys().EnableAuthWithOptionsWithContext(ctx, "cert", &vault.EnableAuthOptions{Type: "cert"}); err != nil {
		t.Fatalf("enable cert: %v", err)
	}
	if err := e.admin.Sys().PutPolicyWithContext(ctx, "reader", `path "secret/data/allowed" { capabilities = ["read"] }`); err != nil {
		t.Fatalf("put policy: %v", err)
	}
	for _, p := range []string{"allowed", "denied"} {
		if _, err := e.admin.KVv2("secret").Put(ctx, p, map[string]any{"v": p}); err != nil {
			t.Fatalf("put %s: %v", p, err)
		}
	}
	if _, err := e.admin.Logical().Write("auth/cert/certs/web", map[string]any{
		"certificate": e.ca.PEM, "display_name": "web",
		"allowed_common_names": "*.example.com", "allowed_dns_sans": "*.svc.local",
		"token_policies": "reader", "token_ttl": "1h",
	}); err != nil {
		t.Fatalf("write certs/web: %v", err)
	}
	return e
}

// client is a Vault client of the TLS listener presenting c (nil: no
// client certificate), with token (may be "").
func (e *e2e) client(c *cert.TestCert, token string) *vault.Client {
	e.t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = e.tlsrv.URL
	cfg.MaxRetries = 0
	tc := &vault.TLSConfig{CACertBytes: e.serverCA, TLSServerName: "localhost"}
	if c != nil {
		dir := e.t.TempDir()
		tc.ClientCert, tc.ClientKey = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		for path, body := range map[string]string{tc.ClientCert: chainPEM(c), tc.ClientKey: c.KeyPEM} {
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	if err := cfg.ConfigureTLS(tc); err != nil {
		e.t.Fatalf("ConfigureTLS: %v", err)
	}
	cl, err := vault.NewClient(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	cl.SetToken(token)
	return cl
}

// chainPEM is the leaf then its intermediates, as a client presents them.
func chainPEM(c *cert.TestCert) string {
	var sb strings.Builder
	for _, x := range c.Chain {
		sb.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: x.Raw}))
	}
	return sb.String()
}

func TestE2ELoginAndUseToken(t *testing.T) {
	e := newE2E(t)
	client := e.ca.Issue(t, cert.CertOptions{CommonName: "api.example.com", DNSNames: []string{"api.svc.local"}})
	c := e.client(client, "")

	secret, err := c.Logical().Write("auth/cert/login", nil)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		t.Fatalf("login returned no token: %+v", secret)
	}
	a := secret.Auth
	if !slices.Equal(a.Policies, []string{"default", "reader"}) {
		t.Errorf("policies %v, want [default reader]", a.Policies)
	}
	if a.LeaseDuration != 3600 || !a.Renewable {
		t.Errorf("lease %ds renewable=%v, want 3600s renewable", a.LeaseDuration, a.Renewable)
	}
	wantMD := map[string]string{"cert_name": "web", "common_name": "api.example.com",
		"serial_number": client.Cert.SerialNumber.String()}
	for k, v := range wantMD {
		if a.Metadata[k] != v {
			t.Errorf("metadata[%s] = %q, want %q", k, a.Metadata[k], v)
		}
	}
	if a.Metadata["subject_key_id"] == "" || a.Metadata["authority_key_id"] == "" {
		t.Errorf("key ids missing from metadata %v", a.Metadata)
	}

	// The named login works the same; the token reads what "reader" allows.
	if s, err := c.Logical().Write("auth/cert/login", map[string]any{"name": "web"}); err != nil || s.Auth == nil {
		t.Fatalf("named login: %v", err)
	}
	c.SetToken(a.ClientToken)
	kv, err := c.KVv2("secret").Get(context.Background(), "allowed")
	if err != nil || kv.Data["v"] != "allowed" {
		t.Fatalf("read allowed: %v %+v", err, kv)
	}
	if _, err := c.KVv2("secret").Get(context.Background(), "denied"); !isStatus(err, http.StatusForbidden) {
		t.Fatalf("read denied: %v, want 403", err)
	}
	self, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("lookup-self: %v", err)
	}
	if got := self.Data["display_name"]; got != "cert-web" {
		t.Errorf("display_name %v, want cert-web", got)
	}
	if got := self.Data["path"]; got != "auth/cert/login" {
		t.Errorf("path %v, want auth/cert/login", got)
	}
}

func TestE2ELoginRefused(t *testing.T) {
	e := newE2E(t)
	other := cert.NewTestCA(t, "other ca")
	past := time.Now().Add(-48 * time.Hour)
	ok := cert.CertOptions{CommonName: "api.example.com", DNSNames: []string{"api.svc.local"}}
	cases := []struct {
		name   string
		client *cert.TestCert // nil: no client certificate
		data   map[string]any
		msg    string
	}{
		{"no cert", nil, nil, "client certificate must be supplied"},
		{"other CA", other.Issue(t, ok), nil, "invalid certificate or no client certificate supplied"},
		{"expired", e.ca.Issue(t, cert.CertOptions{CommonName: "api.example.com", DNSNames: []string{"api.svc.local"},
			NotBefore: past, NotAfter: past.Add(time.Hour)}), nil, "certificate has expired or is not yet valid"},
		{"CN not allowed", e.ca.Issue(t, cert.CertOptions{CommonName: "api.example.org", DNSNames: []string{"api.svc.local"}}),
			nil, "no chain matching all constraints could be found for this login certificate"},
		{"DNS SAN not allowed", e.ca.Issue(t, cert.CertOptions{CommonName: "api.example.com", DNSNames: []string{"api.svc.other"}}),
			nil, "no chain matching all constraints could be found for this login certificate"},
		{"unknown name", e.ca.Issue(t, ok), map[string]any{"name": "nope"},
			"invalid certificate or no client certificate supplied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := e.client(tc.client, "").Logical().Write("auth/cert/login", tc.data)
			if !isStatus(err, http.StatusBadRequest) {
				t.Fatalf("err %v, want 400", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err %v, want it to contain %q", err, tc.msg)
			}
			if s != nil && s.Auth != nil {
				t.Fatalf("refused login returned a token")
			}
		})
	}
}

// TestE2ENoTLSAndNoToken: a login over plain HTTP is refused; managing
// roles needs a token allowed to.
func TestE2ENoTLSAndNoToken(t *testing.T) {
	e := newE2E(t)
	cfg := vault.DefaultConfig()
	cfg.Address, cfg.MaxRetries = e.srv.Addr, 0
	plain, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain.ClearToken()
	s, err := plain.Logical().Write("auth/cert/login", nil)
	if !isStatus(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "tls connection required") || s != nil {
		t.Fatalf("plain HTTP login: %v %+v, want 400 tls connection required", err, s)
	}
	anon := e.client(nil, "")
	anon.ClearToken()
	for _, op := range []func() error{
		func() error {
			_, err := anon.Logical().Write("auth/cert/certs/evil", map[string]any{"certificate": e.ca.PEM})
			return err
		},
		func() error { _, err := anon.Logical().Read("auth/cert/certs/web"); return err },
		func() error { _, err := anon.Logical().List("auth/cert/certs"); return err },
	} {
		if err := op(); !isStatus(err, http.StatusForbidden) {
			t.Errorf("unauthenticated role access: %v, want 403", err)
		}
	}
}

func isStatus(err error, code int) bool {
	var re *vault.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}
