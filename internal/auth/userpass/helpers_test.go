package userpass

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

// testClock is the settable test clock.
type testClock = testclock.Clock

// env is one mounted userpass backend with its storage. Hashes use
// bcrypt.MinCost so tests run fast (the production cost is tested apart).
type env struct {
	t     testing.TB
	b     *backend
	s     logical.Storage
	clock *testClock
	// remote is the client address of requests ("ip:port").
	remote string
	// tune is the mount's tuned user lockout, as core passes it.
	tune *logical.UserLockoutConfig
}

func newEnv(t testing.TB) *env { return newEnvWith(t, nil, bcrypt.MinCost) }

func newEnvWith(t testing.TB, options map[string]string, cost int) *env {
	t.Helper()
	s := inmem.New()
	lb, err := Factory(context.Background(), &logical.BackendConfig{StorageView: s, Config: options})
	if err != nil {
		t.Fatalf("Factory: %v", err)
	}
	b := lb.(*backend)
	b.cost = cost
	if err := b.Initialize(context.Background(), s); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	e := &env{t: t, b: b, s: s, clock: testclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)), remote: "127.0.0.1:50000"}
	b.now = e.clock.Now
	return e
}

func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: e.s, MountPoint: "auth/userpass/",
		Conn: &logical.Connection{RemoteAddr: e.remote}, MountConfig: e.mountConfig(),
	})
}

func (e *env) mountConfig() logical.MountConfig {
	return logical.MountConfig{UserLockout: e.tune}
}

// ok sends a request that must succeed.
func (e *env) ok(op logical.Operation, path string, data map[string]any) *logical.Response {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err != nil {
		e.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// fail sends a request that must fail with an error of kind and, when msg
// is not empty, exactly the message msg.
func (e *env) fail(op logical.Operation, path string, data map[string]any, kind error, msg string) {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err == nil {
		e.t.Fatalf("%s %s: succeeded (%+v), want %v", op, path, resp, kind)
	}
	if !errors.Is(err, kind) {
		e.t.Fatalf("%s %s: error %v, want kind %v", op, path, err, kind)
	}
	if msg != "" && err.Error() != msg {
		e.t.Fatalf("%s %s: error %q, want %q", op, path, err.Error(), msg)
	}
	if resp != nil && resp.Auth != nil {
		e.t.Fatalf("%s %s: failed but returned an Auth", op, path)
	}
}

// user creates a user.
func (e *env) user(name string, data map[string]any) {
	e.t.Helper()
	e.ok(logical.CreateOperation, "users/"+name, data)
}

func (e *env) login(name, password string) (*logical.Response, error) {
	return e.do(logical.UpdateOperation, "login/"+name, map[string]any{"password": password})
}

// mustLogin logs in and returns the Auth.
func (e *env) mustLogin(name, password string) *logical.Auth {
	e.t.Helper()
	resp, err := e.login(name, password)
	if err != nil {
		e.t.Fatalf("login %s: %v", name, err)
	}
	if resp == nil || resp.Auth == nil {
		e.t.Fatalf("login %s: no Auth in %+v", name, resp)
	}
	return resp.Auth
}

// failLogin logs in expecting an error of kind with message msg.
func (e *env) failLogin(name, password string, kind error, msg string) {
	e.t.Helper()
	e.fail(logical.UpdateOperation, "login/"+name, map[string]any{"password": password}, kind, msg)
}

// badLogin expects Vault's 400 "invalid username or password".
func (e *env) badLogin(name, password string) {
	e.t.Helper()
	e.failLogin(name, password, logical.ErrInvalidRequest, msgInvalid)
}

// lockedLogin expects the 403 of a locked-out (or refused) login.
func (e *env) lockedLogin(name, password string) {
	e.t.Helper()
	e.failLogin(name, password, logical.ErrPermissionDenied, "permission denied")
}

// storageContains reports whether any stored value contains needle.
func (e *env) storageContains(needle []byte) bool {
	e.t.Helper()
	found := false
	if err := logical.ScanKeys(context.Background(), e.s, "", func(k string) error {
		ent, err := e.s.Get(context.Background(), k)
		if err != nil {
			return err
		}
		if bytes.Contains(ent.Value, needle) || bytes.Contains([]byte(k), needle) {
			found = true
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return found
}

const msgInvalid = "invalid username or password"
