package approle

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

// testClock is the settable test clock.
type testClock = testclock.Clock

// fixedSystem is a SystemView with fixed TTLs.
type fixedSystem struct{ def, max time.Duration }

func (s fixedSystem) DefaultLeaseTTL() time.Duration { return s.def }
func (s fixedSystem) MaxLeaseTTL() time.Duration     { return s.max }

// plainStorage hides Transactional so tests cover the sequential fallback.
type plainStorage struct{ storage.Backend }

// env is one mounted AppRole backend with its storage.
type env struct {
	t     testing.TB
	b     *backend
	s     logical.Storage
	clock *testClock
	// remote is the client address of requests ("ip:port").
	remote string
}

func newEnv(t testing.TB) *env { return newEnvOn(t, inmem.New()) }

func newEnvOn(t testing.TB, s logical.Storage) *env {
	t.Helper()
	lb, err := Factory(context.Background(), &logical.BackendConfig{StorageView: s,
		System: fixedSystem{def: 768 * time.Hour, max: 768 * time.Hour}})
	if err != nil {
		t.Fatalf("Factory: %v", err)
	}
	b := lb.(*backend)
	if err := b.Initialize(context.Background(), s); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	e := &env{t: t, b: b, s: s, clock: testclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)), remote: "127.0.0.1:50000"}
	b.now = e.clock.Now
	return e
}

func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: e.s, MountPoint: "auth/approle/",
		Conn: &logical.Connection{RemoteAddr: e.remote},
	})
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

// fail sends a request that must fail with an error of kind and a message
// equal to msg (when msg is not empty).
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

// role creates a role and returns its role ID.
func (e *env) role(name string, data map[string]any) string {
	e.t.Helper()
	e.ok(logical.CreateOperation, "role/"+name, data)
	return e.ok(logical.ReadOperation, "role/"+name+"/role-id", nil).Data["role_id"].(string)
}

// secret generates a secret ID and returns it with its accessor.
func (e *env) secret(name string, data map[string]any) (string, string) {
	e.t.Helper()
	resp := e.ok(logical.UpdateOperation, "role/"+name+"/secret-id", data)
	return resp.Data["secret_id"].(string), resp.Data["secret_id_accessor"].(string)
}

func (e *env) login(roleID, secretID string) (*logical.Response, error) {
	return e.do(logical.UpdateOperation, "login", map[string]any{"role_id": roleID, "secret_id": secretID})
}

// mustLogin logs in and returns the Auth.
func (e *env) mustLogin(roleID, secretID string) *logical.Auth {
	e.t.Helper()
	resp, err := e.login(roleID, secretID)
	if err != nil {
		e.t.Fatalf("login: %v", err)
	}
	if resp == nil || resp.Auth == nil {
		e.t.Fatalf("login: no Auth in %+v", resp)
	}
	return resp.Auth
}

// failLogin logs in expecting an ErrInvalidRequest with msg.
func (e *env) failLogin(roleID, secretID, msg string) {
	e.t.Helper()
	e.fail(logical.UpdateOperation, "login", map[string]any{"role_id": roleID, "secret_id": secretID}, logical.ErrInvalidRequest, msg)
}

// keys lists every storage key.
func (e *env) keys() []string {
	e.t.Helper()
	var out []string
	if err := logical.ScanKeys(context.Background(), e.s, "", func(k string) error {
		out = append(out, k)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// countKeys counts storage keys with prefix.
func (e *env) countKeys(prefix string) int {
	n := 0
	for _, k := range e.keys() {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

const invalidCreds = "invalid role or secret ID"
