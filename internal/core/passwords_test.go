package core

import (
	"context"
	"errors"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func TestPasswordPoliciesThroughSys(t *testing.T) {
	f := newLeaseFixture(t, inmem.New())
	f.do(t, logical.UpdateOperation, "sys/policies/password/digits", f.root, map[string]any{"policy": `length = 8
rule "charset" { charset = "0123456789" min-chars = 1 }`})
	resp := f.do(t, logical.ReadOperation, "sys/policies/password/digits/generate", f.root, nil)
	if pw := resp.Data["password"].(string); len(pw) != 8 {
		t.Fatalf("generated %q", pw)
	}
	sv := sysView{c: f.c, m: &MountEntry{}}
	if pw, err := sv.GeneratePassword(context.Background(), "digits"); err != nil || len(pw) != 8 {
		t.Fatalf("GeneratePassword = %q, %v", pw, err)
	}
	if _, err := sv.GeneratePassword(context.Background(), "nope"); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("unknown policy: %v", err)
	}
	// a policy survives a seal
	if err := f.c.Seal(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.unseal(t)
	if pw, err := sv.GeneratePassword(context.Background(), "digits"); err != nil || len(pw) != 8 {
		t.Fatalf("after unseal = %q, %v", pw, err)
	}
}
