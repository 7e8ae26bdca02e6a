package e2e

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

// srvEnv is a real kinko server driven with the official Vault client.
type srvEnv struct {
	t   testing.TB
	srv *testserver.Server
	c   *vault.Client
}

func newServer(t testing.TB) *srvEnv {
	t.Helper()
	srv := testserver.Start(t)
	return &srvEnv{t: t, srv: srv, c: testserver.VaultClient(t, srv.Addr, srv.RootToken)}
}

// mount enables a PKI engine at path with a ten-year maximum TTL.
func (e *srvEnv) mount(path string) {
	e.t.Helper()
	err := e.c.Sys().Mount(path, &vault.MountInput{Type: "pki", Config: vault.MountConfigInput{MaxLeaseTTL: "87600h"}})
	if err != nil {
		e.t.Fatalf("mount %s: %v", path, err)
	}
}

func (e *srvEnv) write(path string, data map[string]any) *vault.Secret {
	e.t.Helper()
	s, err := e.c.Logical().Write(path, data)
	if err != nil {
		e.t.Fatalf("write %s: %v", path, err)
	}
	return s
}

// writeFails writes and expects a 400 whose message contains msg.
func (e *srvEnv) writeFails(path string, data map[string]any, msg string) {
	e.t.Helper()
	_, err := e.c.Logical().Write(path, data)
	var re *vault.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
		e.t.Fatalf("write %s: want a 400 error, got %v", path, err)
	}
	if !strings.Contains(err.Error(), msg) {
		e.t.Fatalf("write %s: error %q does not contain %q", path, err, msg)
	}
}

func (e *srvEnv) read(path string) *vault.Secret {
	e.t.Helper()
	s, err := e.c.Logical().Read(path)
	if err != nil {
		e.t.Fatalf("read %s: %v", path, err)
	}
	return s
}

// raw sends an unauthenticated request and returns status, content type
// and body.
func (e *srvEnv) raw(method, path, contentType string, body []byte) (int, string, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.Addr+"/v1/"+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// genRoot generates an internal root CA in mount and returns it.
func (e *srvEnv) genRoot(mount string, data map[string]any) *x509.Certificate {
	e.t.Helper()
	body := map[string]any{"common_name": "Test Root " + mount, "key_type": "ec", "ttl": "87600h"}
	for k, v := range data {
		body[k] = v
	}
	s := e.write(mount+"/root/generate/internal", body)
	return mustCert(e.t, str(s.Data["certificate"]))
}

// issuedCert is the result of an issue call.
type issuedCert struct {
	cert   *x509.Certificate
	key    crypto.Signer
	chain  []*x509.Certificate
	serial string
	secret *vault.Secret
}

func (e *srvEnv) issue(path string, data map[string]any) *issuedCert {
	e.t.Helper()
	s := e.write(path, data)
	out := &issuedCert{cert: mustCert(e.t, str(s.Data["certificate"])), serial: str(s.Data["serial_number"]), secret: s}
	if k := str(s.Data["private_key"]); k != "" {
		key, err := parseKey(k)
		if err != nil {
			e.t.Fatalf("private_key: %v", err)
		}
		out.key = key
	}
	chain, _ := s.Data["ca_chain"].([]any)
	for _, c := range chain {
		out.chain = append(out.chain, mustCert(e.t, str(c)))
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func mustCert(t testing.TB, text string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %.60q", text)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verify checks leaf against roots (and intermediates) for an usage.
func verify(leaf *x509.Certificate, roots, inters []*x509.Certificate, usage x509.ExtKeyUsage, dns string) error {
	rp, ip := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range roots {
		rp.AddCert(c)
	}
	for _, c := range inters {
		ip.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: rp, Intermediates: ip, DNSName: dns, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

// parseKey decodes a PEM private key (PKCS #8, PKCS #1 or SEC 1).
func parseKey(text string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var k any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, err
	}
	return k.(crypto.Signer), nil
}

// hexSerial renders a serial as the API does (aa:bb:...).
func hexSerial(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}
