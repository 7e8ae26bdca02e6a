package core

import (
	"context"
	"errors"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func TestAccessKeysStandForTheirToken(t *testing.T) {
	f := newLeaseFixture(t, inmem.New())
	ctx := context.Background()
	f.do(t, logical.UpdateOperation, "sys/policies/acl/app", f.root, map[string]any{"policy": `path "db/creds/app" { capabilities = ["read"] }
path "sys/aws/access-keys" { capabilities = ["update"] }`})
	tok := f.do(t, logical.UpdateOperation, "auth/token/create", f.root, map[string]any{"policies": []string{"app"}}).Auth.ClientToken
	created := f.do(t, logical.UpdateOperation, "sys/aws/access-keys", tok, nil).Data
	id, secret := created["access_key_id"].(string), created["secret_access_key"].(string)
	if len(id) != 20 || id[:4] != "KNKO" || len(secret) != 40 {
		t.Fatalf("key %q secret length %d", id, len(secret))
	}
	got, ok, err := f.c.AccessKeySecret(ctx, id)
	if err != nil || !ok || got != secret {
		t.Fatalf("AccessKeySecret = %v %v", ok, err)
	}
	as := func(path string) (*logical.Response, error) {
		f.n++
		return f.c.HandleRequest(ctx, &logical.Request{ID: "ak" + path, Operation: logical.ReadOperation, Path: path, AccessKeyID: id})
	}
	resp, err := as("db/creds/app")
	if err != nil || resp.Secret == nil {
		t.Fatalf("permitted read with the key: %v", err)
	}
	if _, err := as("db/creds/other"); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("read outside the token's policy: %v", err)
	}
	read := f.do(t, logical.ReadOperation, "sys/aws/access-keys/"+id, f.root, nil).Data
	if read["secret_access_key"] != nil || read["valid"] != true {
		t.Fatalf("read shows %v", read)
	}
	if _, err := f.try(logical.ListOperation, "sys/aws/access-keys/", tok, nil); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("list without sudo: %v", err)
	}
	if keys := f.do(t, logical.ListOperation, "sys/aws/access-keys/", f.root, nil).Data["keys"].([]string); len(keys) != 1 || keys[0] != id {
		t.Fatalf("list %v", keys)
	}
	// the key dies with its token
	f.do(t, logical.UpdateOperation, "auth/token/revoke", f.root, map[string]any{"token": tok})
	if _, ok, _ := f.c.AccessKeySecret(ctx, id); ok {
		t.Fatal("the key outlived its token")
	}
	if _, err := as("db/creds/app"); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("request with a dead key: %v", err)
	}
	for _, bad := range []string{"", "KNKOAAAAAAAAAAAAAAAA", "short"} {
		if _, ok, err := f.c.AccessKeySecret(ctx, bad); ok || err != nil {
			t.Fatalf("unknown key %q: %v %v", bad, ok, err)
		}
	}
	f.do(t, logical.DeleteOperation, "sys/aws/access-keys/"+id, f.root, nil)
	if r, _ := f.try(logical.ReadOperation, "sys/aws/access-keys/"+id, f.root, nil); r != nil {
		t.Fatal("deleted key still readable")
	}
}
