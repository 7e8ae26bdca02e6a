package cubbyhole

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func TestCubbyholeIsolation(t *testing.T) {
	ctx := context.Background()
	b, _ := Factory(ctx, &logical.BackendConfig{})
	st := inmem.New()
	do := func(acc string, op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
		var a *logical.Auth
		if acc != "" {
			a = &logical.Auth{Accessor: acc}
		}
		return b.HandleRequest(ctx, &logical.Request{Operation: op, Path: path, Data: data, Storage: st, Auth: a})
	}
	if _, err := do("alice", logical.UpdateOperation, "app/key", map[string]any{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	if r, err := do("alice", logical.ReadOperation, "app/key", nil); err != nil || r.Data["v"] != "1" {
		t.Fatalf("owner read: %+v %v", r, err)
	}
	if r, err := do("bob", logical.ReadOperation, "app/key", nil); err != nil || r != nil {
		t.Fatalf("other token sees data: %+v %v", r, err)
	}
	if r, err := do("alice", logical.ListOperation, "app/", nil); err != nil || len(r.Data["keys"].([]string)) != 1 {
		t.Fatalf("list: %+v %v", r, err)
	}
	cases := []struct {
		acc, path string
		data      map[string]any
		kind      error
	}{
		{"", "x", map[string]any{"a": 1}, logical.ErrPermissionDenied},
		{"alice", "../bob/app/key", map[string]any{"a": 1}, logical.ErrInvalidRequest},
		{"alice", "empty", nil, logical.ErrInvalidRequest},
		{"alice", "big", map[string]any{"v": strings.Repeat("x", MaxValueSize)}, logical.ErrTooLarge},
	}
	for _, tc := range cases {
		if _, err := do(tc.acc, logical.UpdateOperation, tc.path, tc.data); !errors.Is(err, tc.kind) {
			t.Errorf("write %q as %q: %v, want %v", tc.path, tc.acc, err, tc.kind)
		}
	}
	if _, err := do("alice", logical.DeleteOperation, "app/key", nil); err != nil {
		t.Fatal(err)
	}
	if r, _ := do("alice", logical.ReadOperation, "app/key", nil); r != nil {
		t.Fatal("deleted secret still readable")
	}
}
