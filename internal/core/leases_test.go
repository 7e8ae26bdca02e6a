package core

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// leaseEngine is a secrets engine made for these tests: creds/:name hands
// out a renewable lease and remembers which leases it was asked to
// revoke; "down" makes revocations fail as a database that is down.
type leaseEngine struct {
	mu      sync.Mutex
	revoked map[string]bool
	down    bool
}

func (le *leaseEngine) factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	kind := &logical.SecretType{Type: "creds",
		Renew: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
			return &logical.Response{Secret: &logical.Secret{LeaseOptions: logical.LeaseOptions{TTL: req.Secret.TTL, MaxTTL: 2 * time.Hour}}}, nil
		},
		Revoke: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
			le.mu.Lock()
			defer le.mu.Unlock()
			if le.down {
				return nil, errors.New("connect to testdb: connection refused")
			}
			le.revoked[req.Secret.InternalData["username"].(string)] = true
			return nil, nil
		}}
	return (&logical.Framework{Secrets: []*logical.SecretType{kind}, PathList: []*logical.Path{{
		Pattern: "creds/(?P<name>\\w+)", Fields: map[string]*logical.FieldSchema{"name": {Type: logical.TypeString}},
		Operations: map[logical.Operation]logical.OperationFunc{logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
			user := "u-" + d.Get("name").(string) + "-" + req.ID
			resp := kind.Response(map[string]any{"username": user}, map[string]any{"username": user})
			resp.Secret.TTL = time.Hour
			return resp, nil
		}},
	}}}).Compile(), nil
}

func (le *leaseEngine) isRevoked(user string) bool {
	le.mu.Lock()
	defer le.mu.Unlock()
	return le.revoked[user]
}

func (le *leaseEngine) setDown(v bool) {
	le.mu.Lock()
	le.down = v
	le.mu.Unlock()
}

type leaseFixture struct {
	c    *Core
	eng  *leaseEngine
	root string
	keys [][]byte
	n    int
}

func newLeaseFixture(t *testing.T, phys storage.Backend) *leaseFixture {
	t.Helper()
	old := leaseRetryBase
	leaseRetryBase = 10 * time.Millisecond
	t.Cleanup(func() { leaseRetryBase = old })
	f := &leaseFixture{eng: &leaseEngine{revoked: map[string]bool{}}}
	c, err := New(Config{Physical: phys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		LogicalBackends: map[string]logical.Factory{"leasetest": f.eng.factory}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown(context.Background()) })
	f.c = c
	res, err := c.Init(context.Background(), SealConfig{SecretShares: 1, SecretThreshold: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	f.root, f.keys = res.RootToken, res.Keys
	f.unseal(t)
	f.do(t, logical.UpdateOperation, "sys/mounts/db", f.root, map[string]any{"type": "leasetest"})
	return f
}

func (f *leaseFixture) unseal(t *testing.T) {
	t.Helper()
	if _, err := f.c.Unseal(context.Background(), f.keys[0]); err != nil {
		t.Fatal(err)
	}
}

func (f *leaseFixture) try(op logical.Operation, path, token string, data map[string]any) (*logical.Response, error) {
	f.n++
	return f.c.HandleRequest(context.Background(), &logical.Request{ID: "r" + strings.Repeat("x", f.n), Operation: op, Path: path, ClientToken: token, Data: data})
}

func (f *leaseFixture) do(t *testing.T, op logical.Operation, path, token string, data map[string]any) *logical.Response {
	t.Helper()
	resp, err := f.try(op, path, token, data)
	if err != nil {
		t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// creds reads a credential and returns its lease ID and user name.
func (f *leaseFixture) creds(t *testing.T, token string) (string, string) {
	t.Helper()
	resp := f.do(t, logical.ReadOperation, "db/creds/app", token, nil)
	if resp.Secret == nil || !strings.HasPrefix(resp.Secret.LeaseID, "db/creds/app/") || resp.Secret.TTL != time.Hour || !resp.Secret.Renewable {
		t.Fatalf("creds response without a proper lease: %+v", resp.Secret)
	}
	return resp.Secret.LeaseID, resp.Data["username"].(string)
}

func (f *leaseFixture) waitRevoked(t *testing.T, user string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f.eng.isRevoked(user) {
		if time.Now().After(deadline) {
			t.Fatalf("%s was never revoked", user)
		}
		time.Sleep(5 * time.Millisecond) // polling the lease workers
	}
}

func TestLeaseLifecycle(t *testing.T) {
	f := newLeaseFixture(t, inmem.New())
	id, user := f.creds(t, f.root)
	look := f.do(t, logical.UpdateOperation, "sys/leases/lookup", f.root, map[string]any{"lease_id": id})
	if look.Data["id"] != id || look.Data["renewable"] != true || look.Data["ttl"].(int64) != 3600 {
		t.Fatalf("lookup = %v", look.Data)
	}
	ren := f.do(t, logical.UpdateOperation, "sys/leases/renew", f.root, map[string]any{"lease_id": id, "increment": "90m"})
	if ren.Secret.LeaseID != id || ren.Secret.TTL != 90*time.Minute {
		t.Fatalf("renew = %+v", ren.Secret)
	}
	ren = f.do(t, logical.UpdateOperation, "sys/renew/"+id, f.root, map[string]any{"increment": 10 * 3600})
	if ren.Secret.TTL > 2*time.Hour || len(ren.Warnings) == 0 {
		t.Fatalf("renew past the engine's max: ttl %v warnings %v", ren.Secret.TTL, ren.Warnings)
	}
	list := f.do(t, logical.ListOperation, "sys/leases/lookup/db/creds/app/", f.root, nil)
	if keys := list.Data["keys"].([]string); len(keys) != 1 || "db/creds/app/"+keys[0] != id {
		t.Fatalf("list = %v", keys)
	}
	f.do(t, logical.UpdateOperation, "sys/leases/revoke", f.root, map[string]any{"lease_id": id})
	if !f.eng.isRevoked(user) {
		t.Fatal("sync revoke did not reach the engine")
	}
	if _, err := f.try(logical.UpdateOperation, "sys/leases/lookup", f.root, map[string]any{"lease_id": id}); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("lookup of a revoked lease: %v", err)
	}
	if _, err := f.try(logical.UpdateOperation, "sys/leases/renew", f.root, map[string]any{"lease_id": "db/../x"}); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("bad lease id: %v", err)
	}
}

func TestLeasesFollowTheirToken(t *testing.T) {
	f := newLeaseFixture(t, inmem.New())
	f.do(t, logical.UpdateOperation, "sys/policies/acl/app", f.root, map[string]any{"policy": `path "db/creds/*" { capabilities = ["read"] }
path "sys/leases/lookup/*" { capabilities = ["list"] }`})
	tok := f.do(t, logical.UpdateOperation, "auth/token/create", f.root, map[string]any{"policies": []string{"app"}}).Auth.ClientToken
	_, user := f.creds(t, tok)
	if _, err := f.try(logical.ListOperation, "sys/leases/lookup/db/", tok, nil); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("listing leases without sudo: %v", err)
	}
	f.do(t, logical.UpdateOperation, "auth/token/revoke", f.root, map[string]any{"token": tok})
	f.waitRevoked(t, user)
}

func TestLeaseRevocationRetriedAndSurvivesRestart(t *testing.T) {
	phys := inmem.New()
	f := newLeaseFixture(t, phys)
	id, user := f.creds(t, f.root)
	f.eng.setDown(true)
	if _, err := f.try(logical.UpdateOperation, "sys/leases/revoke/"+id, f.root, nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("revoke with the engine down: %v", err)
	}
	// sealed and unsealed again: the pending revocation is still there
	if err := f.c.Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.unseal(t)
	look := f.do(t, logical.UpdateOperation, "sys/leases/lookup", f.root, map[string]any{"lease_id": id})
	if look.Data["revoke_attempts"].(int) < 1 || look.Data["ttl"].(int64) != 0 {
		t.Fatalf("pending revocation lost: %v", look.Data)
	}
	f.eng.setDown(false)
	f.waitRevoked(t, user)
}

func TestUnmountRevokesLeases(t *testing.T) {
	f := newLeaseFixture(t, inmem.New())
	_, user := f.creds(t, f.root)
	f.eng.setDown(true)
	if _, err := f.try(logical.DeleteOperation, "sys/mounts/db", f.root, nil); err == nil || !strings.Contains(err.Error(), "revoke-force") {
		t.Fatalf("unmount with unrevocable leases: %v", err)
	}
	f.eng.setDown(false)
	f.do(t, logical.DeleteOperation, "sys/mounts/db", f.root, nil)
	if !f.eng.isRevoked(user) {
		t.Fatal("unmount did not revoke the lease")
	}
	if n := f.do(t, logical.ReadOperation, "sys/leases/count", f.root, nil).Data["lease_count"]; n != 0 {
		t.Fatalf("leases left after unmount: %v", n)
	}
}

func TestRevokeForceAndPrefix(t *testing.T) {
	f := newLeaseFixture(t, inmem.New())
	_, u1 := f.creds(t, f.root)
	_, u2 := f.creds(t, f.root)
	f.do(t, logical.UpdateOperation, "sys/leases/revoke-prefix/db/creds", f.root, nil)
	if !f.eng.isRevoked(u1) || !f.eng.isRevoked(u2) {
		t.Fatal("revoke-prefix missed a lease")
	}
	_, u3 := f.creds(t, f.root)
	f.do(t, logical.UpdateOperation, "sys/leases/revoke-force/db/", f.root, nil)
	if f.eng.isRevoked(u3) {
		t.Fatal("revoke-force asked the engine")
	}
	if n := f.do(t, logical.ReadOperation, "sys/leases/count", f.root, nil).Data["lease_count"]; n != 0 {
		t.Fatalf("leases left: %v", n)
	}
}

// TestLeasesDieWithTheirTokensExpiry: when a token holding leases
// expires, its leases are revoked then, not at the next token tidy.
func TestLeasesDieWithTheirTokensExpiry(t *testing.T) {
	f := newLeaseFixture(t, inmem.New())
	f.do(t, logical.UpdateOperation, "sys/policies/acl/app", f.root, map[string]any{"policy": `path "db/creds/*" { capabilities = ["read"] }`})
	short := f.do(t, logical.UpdateOperation, "auth/token/create", f.root, map[string]any{"policies": []string{"app"}, "ttl": "1s"}).Auth.ClientToken
	renewed := f.do(t, logical.UpdateOperation, "auth/token/create", f.root, map[string]any{"policies": []string{"app"}, "ttl": "2s"}).Auth.ClientToken
	_, user := f.creds(t, short)
	_, kept := f.creds(t, renewed)
	f.do(t, logical.UpdateOperation, "auth/token/renew", f.root, map[string]any{"token": renewed, "increment": "1h"})
	start := time.Now()
	f.waitRevoked(t, user) // tidyInterval is a minute: this is the watch
	if waited := time.Since(start); waited > 30*time.Second {
		t.Fatalf("revoked only after %s", waited)
	}
	// the renewed token is looked at when its first expiry passes and
	// watched again at its new one; its lease stays
	w := f.c.state.Load().tokenWatch
	deadline := time.Now().Add(20 * time.Second)
	for {
		w.mu.Lock()
		_, at, ok := w.q.Peek()
		w.mu.Unlock()
		if ok && at.After(time.Now().Add(30*time.Minute)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renewed token is not watched at its new expiry (next %v %v)", at, ok)
		}
		time.Sleep(20 * time.Millisecond) // polling the watch
	}
	if f.eng.isRevoked(kept) {
		t.Fatal("a renewed token's lease was revoked at its first expiry")
	}
}
