package cert

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// env is one mounted cert backend with its storage.
type env struct {
	t testing.TB
	b *backend
	s logical.Storage
	// remote is the client address of requests ("ip:port").
	remote string
}

type fixedSystem struct{ def, max time.Duration }

func (f fixedSystem) DefaultLeaseTTL() time.Duration { return f.def }
func (f fixedSystem) MaxLeaseTTL() time.Duration     { return f.max }

func newEnv(t testing.TB) *env {
	t.Helper()
	s := inmem.New()
	lb, err := Factory(context.Background(), &logical.BackendConfig{StorageView: s,
		System: fixedSystem{def: 768 * time.Hour, max: 768 * time.Hour}})
	if err != nil {
		t.Fatalf("Factory: %v", err)
	}
	return &env{t: t, b: lb.(*backend), s: s, remote: "127.0.0.1:50000"}
}

func (e *env) do(op logical.Operation, path string, data map[string]any, cs *tls.ConnectionState) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: e.s, MountPoint: "auth/cert/",
		Conn: &logical.Connection{RemoteAddr: e.remote, ConnState: cs},
	})
}

// ok sends a request that must succeed.
func (e *env) ok(op logical.Operation, path string, data map[string]any) *logical.Response {
	e.t.Helper()
	resp, err := e.do(op, path, data, nil)
	if err != nil {
		e.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// fail sends a request that must fail with an error of kind and, when msg
// is not empty, exactly the message msg.
func (e *env) fail(op logical.Operation, path string, data map[string]any, kind error, msg string) {
	e.t.Helper()
	resp, err := e.do(op, path, data, nil)
	checkErr(e.t, resp, err, kind, msg)
}

func checkErr(t testing.TB, resp *logical.Response, err, kind error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded (%+v), want %v", resp, kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want kind %v", err, kind)
	}
	if msg != "" && err.Error() != msg {
		t.Fatalf("error %q, want %q", err.Error(), msg)
	}
	if resp != nil && resp.Auth != nil {
		t.Fatalf("failed but returned an Auth")
	}
}

// role creates or updates a role.
func (e *env) role(name string, data map[string]any) {
	e.t.Helper()
	e.ok(logical.UpdateOperation, "certs/"+name, data)
}

// login logs in presenting cs (nil: no TLS) and naming role (may be "").
func (e *env) login(role string, cs *tls.ConnectionState) (*logical.Response, error) {
	var data map[string]any
	if role != "" {
		data = map[string]any{"name": role}
	}
	return e.do(logical.UpdateOperation, "login", data, cs)
}

// mustLogin logs in and returns the Auth.
func (e *env) mustLogin(role string, c *TestCert) *logical.Auth {
	e.t.Helper()
	resp, err := e.login(role, c.ConnState())
	if err != nil {
		e.t.Fatalf("login %q: %v", role, err)
	}
	if resp == nil || resp.Auth == nil {
		e.t.Fatalf("login %q: no Auth in %+v", role, resp)
	}
	return resp.Auth
}
