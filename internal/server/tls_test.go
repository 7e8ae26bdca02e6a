package server_test

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
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/server"
)

// writeSelfSigned writes a self-signed server certificate for 127.0.0.1.
func writeSelfSigned(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kinko-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func TestTLSListener(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := writeSelfSigned(t, dir)
	cfg := &server.Config{
		Storage:   server.StorageConfig{Type: "bolt", Options: map[string]string{"path": filepath.Join(dir, "kinko.db")}},
		Listeners: []server.ListenerConfig{{Type: "tcp", Address: "127.0.0.1:0", TLSCertFile: certPath, TLSKeyFile: keyPath}},
	}
	s, err := server.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	vc := vault.DefaultConfig()
	vc.Address = "https://" + s.Addrs[0]
	if err := vc.ConfigureTLS(&vault.TLSConfig{CACert: certPath}); err != nil {
		t.Fatal(err)
	}
	c, err := vault.NewClient(vc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Sys().SealStatus()
	if err != nil || st.Initialized || st.StorageType != "bolt" {
		t.Fatalf("seal status over TLS: %+v, %v", st, err)
	}
	resp, err := http.Get("http://" + s.Addrs[0] + "/v1/sys/seal-status")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP accepted on a TLS listener")
		}
	}
	if _, err := server.Start(&server.Config{
		Storage:   server.StorageConfig{Type: "inmem"},
		Listeners: []server.ListenerConfig{{Type: "tcp", Address: "127.0.0.1:0", TLSCertFile: keyPath, TLSKeyFile: certPath}},
	}, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Fatal("start with a swapped key pair succeeded")
	}
}
