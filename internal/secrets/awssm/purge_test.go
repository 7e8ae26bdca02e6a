package awssm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func TestPurgeAfterRecoveryWindow(t *testing.T) {
	ctx := context.Background()
	st := inmem.New()
	be, err := Factory(ctx, &logical.BackendConfig{StorageView: st, Config: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*Backend)
	if err := b.Initialize(ctx, st); err != nil {
		t.Fatal(err)
	}
	defer b.Cleanup(ctx)
	do := func(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
		return b.HandleRequest(ctx, &logical.Request{Operation: op, Path: path, Data: data, Storage: st})
	}
	if _, err := do(logical.CreateOperation, "secrets/old", map[string]any{"SecretString": "v"}); err != nil {
		t.Fatal(err)
	}
	if _, err := do(logical.DeleteOperation, "secrets/old", map[string]any{"RecoveryWindowInDays": 7}); err != nil {
		t.Fatal(err)
	}
	b.purge(ctx, time.Now().Add(6*24*time.Hour))
	if _, err := do(logical.ReadOperation, "describe/old", nil); err != nil {
		t.Fatalf("purged inside the window: %v", err)
	}
	b.purge(ctx, time.Now().Add(8*24*time.Hour))
	if _, err := do(logical.ReadOperation, "describe/old", nil); !errors.Is(err, logical.ErrNotFound) {
		t.Fatalf("still there after the window: %v", err)
	}
}
