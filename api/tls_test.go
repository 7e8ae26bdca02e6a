package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeClientCert creates a self-signed client certificate and its key as
// PEM files in dir and returns the certificate and the two paths.
func writeClientCert(t *testing.T, dir, cn string) (*x509.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, cn+".pem"), filepath.Join(dir, cn+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, certFile, keyFile
}

// TestTLSClientCert checks that the configured client certificate is
// presented to a server that requires one.
func TestTLSClientCert(t *testing.T) {
	dir := t.TempDir()
	cert, certFile, keyFile := writeClientCert(t, dir, "app")
	_, otherCert, otherKey := writeClientCert(t, dir, "other")
	var seenCN string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenCN = r.TLS.PeerCertificates[0].Subject.CommonName
		writeJSON(w, 200, map[string]any{"initialized": true})
	}))
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()

	tests := []struct {
		name       string
		cert, key  string
		wantNewErr error
		wantOK     bool
	}{
		{"trusted certificate presented", certFile, keyFile, nil, true},
		{"no certificate", "", "", nil, false},
		{"untrusted certificate", otherCert, otherKey, nil, false},
		{"certificate without key", certFile, "", ErrClientCertPair, false},
		{"key without certificate", "", keyFile, ErrClientCertPair, false},
		{"mismatched pair", certFile, otherKey, errAny, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seenCN = ""
			c, err := NewClient(&Config{Address: srv.URL,
				TLS: TLSConfig{Insecure: true, ClientCert: tt.cert, ClientKey: tt.key}})
			if tt.wantNewErr != nil {
				if err == nil || (tt.wantNewErr != errAny && !errors.Is(err, tt.wantNewErr)) {
					t.Fatalf("NewClient err = %v, want %v", err, tt.wantNewErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SealStatus(context.Background())
			if (err == nil) != tt.wantOK || (tt.wantOK && seenCN != "app") {
				t.Errorf("err = %v, server saw %q; want ok=%v", err, seenCN, tt.wantOK)
			}
		})
	}
}

// errAny marks a case where any error will do.
var errAny = errors.New("any error")
