package main

import (
	"regexp"
	"testing"

	"github.com/kinko-dev/kinko/internal/auth/cert"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// writeCert writes a self-signed certificate and its key for name into
// the session's directory (see testserver.WriteCert).
func (s *cliSession) writeCert(name string, serverCert bool) (string, string) {
	s.t.Helper()
	return testserver.WriteCert(s.t, s.dir, name, serverCert)
}

// startTLSServer starts a TLS server asking for client certificates and
// points the session's KINKO_CACERT at its certificate.
func startTLSServer(t *testing.T, s *cliSession) *testserver.Server {
	certFile, keyFile := s.writeCert("server", true)
	s.env["KINKO_CACERT"] = certFile
	return testserver.StartTLS(t, certFile, keyFile)
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
