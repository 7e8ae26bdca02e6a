package token

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// clock is a fake clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     testing.TB
	s     *Store
	store *inmem.Backend
	clk   *clock
	root  string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvOpts(t, Options{DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour})
}

func newEnvOpts(t testing.TB, opts Options) *env {
	t.Helper()
	clk := newClock()
	opts.Now = clk.Now
	st := inmem.New()
	s, err := NewStore(st, opts)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	root, err := s.CreateRoot(context.Background(), "")
	if err != nil {
		t.Fatalf("CreateRoot: %v", err)
	}
	return &env{t: t, s: s, store: st, clk: clk, root: root.ID}
}

// call sends a request to the backend as the holder of token. sudo mirrors
// what core would set from the caller's policy.
func (e *env) call(op logical.Operation, path, token string, sudo bool, data map[string]any) (*logical.Response, error) {
	e.t.Helper()
	req := &logical.Request{
		Operation: op, Path: path, Data: data, ClientToken: token, Sudo: sudo,
		MountPoint: "auth/token/", Storage: e.store,
	}
	return e.s.Backend().HandleRequest(context.Background(), req)
}

// mustCall is call that fails the test on error.
func (e *env) mustCall(op logical.Operation, path, token string, sudo bool, data map[string]any) *logical.Response {
	e.t.Helper()
	resp, err := e.call(op, path, token, sudo, data)
	if err != nil {
		e.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// create makes a token through auth/token/create as parent and returns the
// auth block.
func (e *env) create(parent string, data map[string]any) *logical.Auth {
	e.t.Helper()
	resp := e.mustCall(logical.UpdateOperation, "create", parent, false, data)
	if resp == nil || resp.Auth == nil || resp.Auth.ClientToken == "" {
		e.t.Fatalf("create: no auth in response %+v", resp)
	}
	return resp.Auth
}

func (e *env) lookup(raw string) *Entry {
	e.t.Helper()
	te, err := e.s.Lookup(context.Background(), raw)
	if err != nil {
		e.t.Fatalf("Lookup: %v", err)
	}
	return te
}

func (e *env) alive(raw string) bool { return e.lookup(raw) != nil }

// keys returns every storage key (recursively) under prefix.
func (e *env) keys(prefix string) []string {
	e.t.Helper()
	var out []string
	err := logical.ScanKeys(context.Background(), e.store, prefix, func(k string) error {
		out = append(out, k)
		return nil
	})
	if err != nil {
		e.t.Fatalf("scan: %v", err)
	}
	return out
}

// wantErr checks that err is a user-facing error of kind whose message
// contains msg.
func wantErr(t *testing.T, err, kind error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %q, got nil", msg)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v: want kind %v", err, kind)
	}
	if got, ok := logical.UserMessage(err); !ok || !strings.Contains(got, msg) {
		t.Fatalf("error message %q: want it to contain %q", got, msg)
	}
}

func ctx() context.Context { return context.Background() }

func mustKey(t *testing.T, h string) [32]byte {
	t.Helper()
	k, ok := decodeHash(h)
	if !ok {
		t.Fatalf("bad hash %q", h)
	}
	return k
}
