package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/auth/cert"
	"github.com/kinko-dev/kinko/internal/server"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// writeCert writes a self-signed certificate and its key for name into
// the session's directory: a server certificate for 127.0.0.1, or a client
// certificate. It returns the two file paths.
func (s *cliSession) writeCert(name string, serverCert bool) (string, string) {
	s.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	if serverCert {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		s.t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.file(name+".pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))),
		s.file(name+"-key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})))
}

// startTLSServer starts an in-memory server on a TLS listener that asks for
// client certificates, initialises and unseals it, and returns it in the
// shape testserver uses.
func startTLSServer(t *testing.T, s *cliSession) *testserver.Server {
	certFile, keyFile := s.writeCert("server", true)
	cfg := &server.Config{
		Storage:   server.StorageConfig{Type: "inmem"},
		Listeners: []server.ListenerConfig{{Type: "tcp", Address: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile}},
	}
	srv, err := server.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	addr := "https://" + srv.Addrs[0]
	client, err := api.NewClient(&api.Config{Address: addr, TLS: api.TLSConfig{CACert: certFile}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	init, err := client.Init(ctx, &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := client.Unseal(ctx, init.KeysB64[0]); err != nil || st.Sealed {
		t.Fatalf("unseal: %+v, %v", st, err)
	}
	s.env["KINKO_CACERT"] = certFile
	return &testserver.Server{Addr: addr, RootToken: init.RootToken, Server: srv}
}

func TestLoginCert(t *testing.T) {
	s := &cliSession{t: t, dir: t.TempDir(), env: map[string]string{}}
	srv := startTLSServer(t, s)
	s.env["KINKO_ADDR"], s.env["KINKO_TOKEN"], s.env["HOME"] = srv.Addr, srv.RootToken, s.dir
	clientCert, clientKey := s.writeCert("web-1", false)
	otherCert, otherKey := s.writeCert("stranger", false)
	// The TLS client works with and without a client certificate.
	s.run(0, "", "token", "lookup", "-field=id")
	s.run(0, "", "-client-cert="+clientCert, "-client-key="+clientKey, "token", "lookup", "-field=id")
	s.run(exitLocal, "", "-client-cert="+clientCert, "-client-key="+otherKey, "token", "lookup")

	skipIfPlaceholder(t, "cert", cert.Factory)
	s.run(0, "", "policy", "write", "app", s.file("app.hcl", `path "secret/*" { capabilities = ["read"] }`))
	s.run(0, "", "auth", "enable", "cert")
	s.run(0, "", "write", "auth/cert/certs/web", "certificate=@"+clientCert, "token_policies=app")
	s.env["KINKO_TOKEN"] = ""

	policies := regexp.MustCompile(`(?m)^token_policies\s+\["app" "default"\]$`)
	out := s.run(0, "", "login", "-method=cert", "-no-store", "-client-cert="+clientCert, "-client-key="+clientKey, "name=web")
	if !policies.MatchString(out) {
		t.Errorf("login with flags: output lacks the role's policies:\n%s", out)
	}
	s.env["KINKO_CLIENT_CERT"], s.env["KINKO_CLIENT_KEY"] = clientCert, clientKey
	s.run(0, "", "login", "-method=cert")
	out = s.run(0, "", "token", "lookup")
	if !regexp.MustCompile(`(?m)^policies\s+\[app default\]$`).MatchString(out) {
		t.Errorf("stored cert login token: lookup shows\n%s", out)
	}
	s.env["KINKO_CLIENT_CERT"], s.env["KINKO_CLIENT_KEY"] = otherCert, otherKey
	s.run(exitAPI, "", "login", "-method=cert", "-no-store")
}
