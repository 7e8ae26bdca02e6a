package transit

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

// env is one transit backend on in-memory storage, driven directly.
type env struct {
	t     testing.TB
	b     *backend
	s     logical.Storage
	clock *testclock.Clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	s := inmem.New()
	clock := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	b := newBackend(s, clock.Now)
	t.Cleanup(func() { b.Cleanup(context.Background()) })
	return &env{t: t, b: b, s: s, clock: clock}
}

// do sends one request; op "create" is an encrypt that may upsert.
func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: e.s, MountPoint: "transit/",
	})
}

// ok sends a request that must succeed.
func (e *env) ok(op logical.Operation, path string, data map[string]any) *logical.Response {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err != nil {
		e.t.Fatalf("%s %s: unexpected error: %v", op, path, err)
	}
	return resp
}

// write is ok with an update.
func (e *env) write(path string, data map[string]any) *logical.Response {
	e.t.Helper()
	return e.ok(logical.UpdateOperation, path, data)
}

// fail sends a request that must fail with an invalid-request error whose
// message contains msg.
func (e *env) fail(op logical.Operation, path string, data map[string]any, msg string) *logical.Response {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err == nil {
		e.t.Fatalf("%s %s: expected error containing %q, got success %+v", op, path, msg, resp)
	}
	if !errors.Is(err, logical.ErrInvalidRequest) {
		e.t.Fatalf("%s %s: error %q is not an invalid request", op, path, err)
	}
	if !strings.Contains(err.Error(), msg) {
		e.t.Fatalf("%s %s: error %q does not contain %q", op, path, err, msg)
	}
	return resp
}

// createKey makes a key of type t with extra settings.
func (e *env) createKey(name string, t keyType, extra map[string]any) {
	e.t.Helper()
	data := map[string]any{"type": string(t)}
	for k, v := range extra {
		data[k] = v
	}
	e.write("keys/"+name, data)
}

// encrypt returns the ciphertext of plaintext under key name.
func (e *env) encrypt(name string, plaintext []byte, extra map[string]any) string {
	e.t.Helper()
	data := map[string]any{"plaintext": b64(plaintext)}
	for k, v := range extra {
		data[k] = v
	}
	return e.write("encrypt/"+name, data).Data["ciphertext"].(string)
}

// decrypt returns the plaintext of ciphertext under key name.
func (e *env) decrypt(name, ciphertext string, extra map[string]any) []byte {
	e.t.Helper()
	data := map[string]any{"ciphertext": ciphertext}
	for k, v := range extra {
		data[k] = v
	}
	out := e.write("decrypt/"+name, data).Data["plaintext"].(string)
	return unb64(e.t, out)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return b
}
