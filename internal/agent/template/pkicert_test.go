package template

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/api"
)

// issuer is a Source whose writes issue a certificate valid from start
// for validity, numbered by serial.
type issuer struct {
	t        *testing.T
	start    time.Time
	validity time.Duration
	writes   int
	answer   map[string]any // when set, returned instead
}

func (s *issuer) Read(context.Context, string, url.Values) (*api.Secret, error) { return nil, nil }

func (s *issuer) Write(_ context.Context, path string, data map[string]any) (*api.Secret, error) {
	s.writes++
	if s.answer != nil {
		return &api.Secret{Data: s.answer}, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(s.writes)), Subject: pkix.Name{CommonName: data["common_name"].(string)},
		NotBefore: s.start, NotAfter: s.start.Add(s.validity)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		s.t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	return &api.Secret{Data: map[string]any{
		"certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})),
		"issuing_ca":  "CA-PEM", "ca_chain": []any{"CA-PEM"}, "serial_number": big.NewInt(int64(s.writes)).String(),
	}}, nil
}

func TestPKICertReusedUntilTwoThirdsOfItsValidity(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &issuer{t: t, start: start, validity: 90 * time.Minute}
	tmpl, err := Parse("cert", `{{ with pkiCert "pki/issue/web" "common_name=web.example" }}{{ .Data.serial_number }}|{{ .CA }}|{{ index .CAChain 0 }}|{{ if .Key }}key{{ end }}|{{ .Data.Cert | len | printf "%d" | len }}{{ end }}`)
	if err != nil {
		t.Fatal(err)
	}
	now := start
	tmpl.Now = func() time.Time { return now }
	tests := []struct {
		at         time.Duration // after start
		wantSerial string
		wantWrites int
	}{
		{0, "1", 1},
		{30 * time.Minute, "1", 1},
		{59 * time.Minute, "1", 1},
		{61 * time.Minute, "2", 2}, // past two thirds of 90 minutes
		{62 * time.Minute, "2", 2},
	}
	for _, tc := range tests {
		now = start.Add(tc.at)
		if tc.at >= 61*time.Minute {
			src.start = start.Add(61 * time.Minute)
		}
		out, err := tmpl.Render(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.SplitN(string(out), "|", 2)[0]; got != tc.wantSerial || src.writes != tc.wantWrites {
			t.Fatalf("at +%s: serial %s after %d writes, want %s after %d (%s)", tc.at, got, src.writes, tc.wantSerial, tc.wantWrites, out)
		}
		if !strings.Contains(string(out), "|CA-PEM|CA-PEM|key|") {
			t.Fatalf("output %s", out)
		}
	}
}

func TestPKICertErrors(t *testing.T) {
	tests := []struct {
		name, text string
		answer     map[string]any
		want       string
	}{
		{"no arguments", `{{ pkiCert "pki/issue/web" }}`, nil, "needs key=value arguments"},
		{"bad argument", `{{ pkiCert "pki/issue/web" "common_name" }}`, nil, "is not key=value"},
		{"no certificate", `{{ pkiCert "pki/issue/web" "common_name=a" }}`, map[string]any{"private_key": "secret-key-material"}, "no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse("cert", tc.text)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.Render(context.Background(), &issuer{t: t, start: time.Now(), validity: time.Hour, answer: tc.answer})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret-key-material") {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
