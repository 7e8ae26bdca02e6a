package testserver

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
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/server"
)

// WriteCert writes a self-signed ECDSA certificate for name and its key
// into dir as name.pem and name-key.pem: a server certificate for
// 127.0.0.1, or a client certificate (which is also a CA, so a cert auth
// role can trust it directly). It returns the two paths.
func WriteCert(t testing.TB, dir, name string, serverCert bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
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
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// StartTLS starts an in-memory server on a TLS listener (certFile,
// keyFile) that asks for client certificates, initialises it with one
// key share and unseals it. Addr is https://127.0.0.1:port; UnsealKey is
// the share.
func StartTLS(t testing.TB, certFile, keyFile string) *Server {
	t.Helper()
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
	return &Server{Addr: addr, RootToken: init.RootToken, UnsealKey: init.KeysB64[0], Server: srv}
}
