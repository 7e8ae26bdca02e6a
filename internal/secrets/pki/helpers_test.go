package pki

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

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

// direct is one backend on in-memory storage, called without HTTP, for
// unit tests, fuzzing and benchmarks.
type direct struct {
	t     testing.TB
	b     *backend
	s     logical.Storage
	clock *testclock.Clock
}

func newDirect(t testing.TB) *direct {
	t.Helper()
	s := inmem.New()
	clock := testclock.New(time.Now())
	return &direct{t: t, b: newBackend(s, nil, clock.Now), s: s, clock: clock}
}

func (d *direct) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return d.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: d.s, MountPoint: "pki/",
		MountConfig: logical.MountConfig{DefaultLeaseTTL: 768 * time.Hour, MaxLeaseTTL: 87600 * time.Hour},
	})
}

func (d *direct) ok(op logical.Operation, path string, data map[string]any) *logical.Response {
	d.t.Helper()
	resp, err := d.do(op, path, data)
	if err != nil {
		d.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// fails expects an invalid-request error containing msg.
func (d *direct) fails(op logical.Operation, path string, data map[string]any, msg string) {
	d.t.Helper()
	_, err := d.do(op, path, data)
	if !errors.Is(err, logical.ErrInvalidRequest) || !strings.Contains(err.Error(), msg) {
		d.t.Fatalf("%s %s: want invalid request containing %q, got %v", op, path, msg, err)
	}
}
