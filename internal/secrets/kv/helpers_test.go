package kv

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

// testClock is the settable test clock.
type testClock = testclock.Clock

// plainStorage hides the Transactional method of a backend so tests cover
// the sequential fallback of commit.
type plainStorage struct{ storage.Backend }

// env is one mounted engine with its storage.
type env struct {
	t     testing.TB
	b     logical.Backend
	s     logical.Storage
	clock *testClock
}

func newEnv(t testing.TB, config map[string]string) *env {
	t.Helper()
	return newEnvOn(t, config, inmem.New())
}

func newEnvOn(t testing.TB, config map[string]string, s logical.Storage) *env {
	t.Helper()
	b, err := Factory(context.Background(), &logical.BackendConfig{Config: config, StorageView: s})
	if err != nil {
		t.Fatalf("Factory: %v", err)
	}
	e := &env{t: t, b: b, s: s, clock: testclock.New(time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC))}
	if vb, ok := b.(*versionedBackend); ok {
		vb.now = e.clock.Now
	}
	return e
}

// v2Storage makes the storage of newV2; TestSequentialStorage swaps it to
// run tests without transactions.
var v2Storage = func() logical.Storage { return inmem.New() }

func newV2(t testing.TB) *env { return newEnvOn(t, map[string]string{"version": "2"}, v2Storage()) }

// do sends one request and returns what the backend returned.
func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: e.s, MountPoint: "secret/",
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

// fail sends a request that must fail with an error of kind and a message
// containing msg; it returns the response that came with the error.
func (e *env) fail(op logical.Operation, path string, data map[string]any, kind error, msg string) *logical.Response {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err == nil {
		e.t.Fatalf("%s %s: expected error %v, got success %+v", op, path, kind, resp)
	}
	if !errors.Is(err, kind) {
		e.t.Fatalf("%s %s: error %q is not of kind %v", op, path, err, kind)
	}
	if !strings.Contains(err.Error(), msg) {
		e.t.Fatalf("%s %s: error %q does not contain %q", op, path, err, msg)
	}
	return resp
}

// put writes data to a v2 secret and returns the new version number.
func (e *env) put(path string, data map[string]any) uint64 {
	e.t.Helper()
	resp := e.ok(logical.UpdateOperation, "data/"+path, map[string]any{"data": data})
	return resp.Data["version"].(uint64)
}

// readData reads a v2 secret's data, failing the test if it is not there.
func (e *env) readData(path string, version int) map[string]any {
	e.t.Helper()
	var in map[string]any
	if version > 0 {
		in = map[string]any{"version": version}
	}
	resp := e.ok(logical.ReadOperation, "data/"+path, in)
	if resp == nil {
		e.t.Fatalf("read %s v%d: not found", path, version)
	}
	return resp.Data["data"].(map[string]any)
}

// storageKeys lists every key in the env's storage.
func (e *env) storageKeys() []string {
	e.t.Helper()
	var keys []string
	err := logical.ScanKeys(context.Background(), e.s, "", func(k string) error {
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return keys
}

// jsonEq compares two values by their JSON encoding.
func jsonEq(t testing.TB, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
}
