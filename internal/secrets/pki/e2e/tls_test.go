package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func tlsCert(ic *issuedCert) tls.Certificate {
	chain := [][]byte{ic.cert.Raw}
	for _, c := range ic.chain {
		chain = append(chain, c.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: ic.key, Leaf: ic.cert}
}

// mtlsServer accepts connections on loopback, requires a client
// certificate from clientCAs, and answers the client's CN. Handshake
// failures are sent on errs.
func mtlsServer(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool) (string, <-chan error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: clientCAs, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	errs := make(chan error, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
			if err := tc.Handshake(); err != nil {
				errs <- err
				tc.Close()
				continue
			}
			errs <- nil
			_, _ = io.WriteString(tc, tc.ConnectionState().PeerCertificates[0].Subject.CommonName)
			tc.Close()
		}
	}()
	return ln.Addr().String(), errs
}

// dialMTLS connects with a client certificate and returns what the
// server answered.
func dialMTLS(addr string, roots *x509.CertPool, client tls.Certificate) (string, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{
		RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{client}, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(conn)
	if err == nil && len(b) == 0 {
		err = errors.New("connection closed without an answer")
	}
	return string(b), err
}

func TestMutualTLS(t *testing.T) {
	e, root := webEnv(t)
	e.write("pki/roles/svc", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "key_type": "ec"})
	server := e.issue("pki/issue/svc", map[string]any{"common_name": "localhost", "ip_sans": "127.0.0.1"})
	client := e.issue("pki/issue/svc", map[string]any{"common_name": "client.example.com"})
	pool := x509.NewCertPool()
	pool.AddCert(root)
	addr, errs := mtlsServer(t, tlsCert(server), pool)

	got, err := dialMTLS(addr, pool, tlsCert(client))
	if err != nil || got != "client.example.com" {
		t.Fatalf("mutual TLS with kinko certificates: %q, %v", got, err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("server handshake: %v", err)
	}

	e.mount("other")
	e.genRoot("other", nil)
	e.write("other/roles/any", map[string]any{"allow_any_name": true, "key_type": "ec"})
	stranger := e.issue("other/issue/any", map[string]any{"common_name": "client.example.com"})
	if got, err := dialMTLS(addr, pool, tlsCert(stranger)); err == nil {
		t.Fatalf("a client certificate from another root was accepted: %q", got)
	}
	if err := <-errs; err == nil {
		t.Fatal("server accepted a client certificate from another root")
	}

	otherPool := x509.NewCertPool()
	otherPool.AddCert(mustCert(t, str(stranger.secret.Data["issuing_ca"])))
	if _, err := dialMTLS(addr, otherPool, tlsCert(client)); err == nil {
		t.Fatal("the client trusted a server certificate from a root it does not trust")
	}
}
