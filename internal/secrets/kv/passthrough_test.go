package kv

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

type fixedSystem struct{ ttl time.Duration }

func (s fixedSystem) DefaultLeaseTTL() time.Duration { return s.ttl }
func (s fixedSystem) MaxLeaseTTL() time.Duration     { return s.ttl }

func TestPassthroughCRUD(t *testing.T) {
	e := newEnv(t, nil)
	if resp := e.ok(logical.UpdateOperation, "app/db", map[string]any{"user": "u", "n": 1}); resp != nil {
		t.Fatalf("write returned %v", resp)
	}
	resp := e.ok(logical.ReadOperation, "app/db", nil)
	jsonEq(t, resp.Data, map[string]any{"n": 1, "user": "u"})
	if resp.Secret == nil || resp.Secret.TTL != fallbackLeaseTTL || resp.Secret.Renewable {
		t.Fatalf("lease hint %+v", resp.Secret)
	}
	// A write replaces the whole secret.
	e.ok(logical.UpdateOperation, "app/db", map[string]any{"other": "x"})
	jsonEq(t, e.ok(logical.ReadOperation, "app/db", nil).Data, map[string]any{"other": "x"})

	e.ok(logical.UpdateOperation, "app/web", map[string]any{"k": "v"})
	e.ok(logical.UpdateOperation, "top", map[string]any{"k": "v"})
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"", []string{"app/", "top"}},
		{"app/", []string{"db", "web"}},
		{"app", []string{"db", "web"}},
		{"none/", nil},
	} {
		resp := e.ok(logical.ListOperation, tc.path, nil)
		var got []string
		if resp != nil {
			got = resp.Data["keys"].([]string)
		}
		if !slices.Equal(got, tc.want) {
			t.Fatalf("list %q: %v, want %v", tc.path, got, tc.want)
		}
	}
	e.ok(logical.DeleteOperation, "app/db", nil)
	if resp := e.ok(logical.ReadOperation, "app/db", nil); resp != nil {
		t.Fatal("deleted secret still readable")
	}
	e.ok(logical.DeleteOperation, "app/db", nil)
}

func TestPassthroughTTL(t *testing.T) {
	b, err := Factory(context.Background(), &logical.BackendConfig{System: fixedSystem{time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, b: b, s: newEnv(t, nil).s}
	e.ok(logical.UpdateOperation, "a", map[string]any{"v": 1})
	e.ok(logical.UpdateOperation, "b", map[string]any{"v": 1, "ttl": "90s"})
	e.ok(logical.UpdateOperation, "c", map[string]any{"v": 1, "lease": 30})
	for path, want := range map[string]time.Duration{"a": time.Hour, "b": 90 * time.Second, "c": 30 * time.Second} {
		if got := e.ok(logical.ReadOperation, path, nil).Secret.TTL; got != want {
			t.Errorf("%s: ttl %v, want %v", path, got, want)
		}
	}
	resp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: "a",
		Storage: e.s, MountConfig: logical.MountConfig{DefaultLeaseTTL: time.Minute}})
	if err != nil || resp.Secret.TTL != time.Minute {
		t.Fatalf("mount default TTL: %v %v", resp, err)
	}
}

func TestPassthroughErrors(t *testing.T) {
	e := newEnv(t, map[string]string{"max_value_size": "32"})
	e.fail(logical.UpdateOperation, "a", map[string]any{}, logical.ErrInvalidRequest, "missing data fields")
	e.fail(logical.UpdateOperation, "", map[string]any{"k": "v"}, logical.ErrInvalidRequest, "missing path")
	e.fail(logical.UpdateOperation, "a/../b", map[string]any{"k": "v"}, logical.ErrInvalidRequest, "invalid secret path")
	e.fail(logical.UpdateOperation, "big", map[string]any{"k": strings.Repeat("x", 32)}, logical.ErrTooLarge, "max_value_size")
	if resp := e.ok(logical.ReadOperation, "", nil); resp != nil {
		t.Fatal("read of the mount root returned data")
	}
	// Any field is accepted without warnings.
	if resp := e.ok(logical.UpdateOperation, "w", map[string]any{"anything": "x"}); resp != nil {
		t.Fatalf("write warned: %v", resp.Warnings)
	}
}

func TestPassthroughExistence(t *testing.T) {
	e := newEnv(t, nil)
	e.ok(logical.UpdateOperation, "x", map[string]any{"k": "v"})
	ec := e.b.(logical.ExistenceChecker)
	for path, want := range map[string]bool{"x": true, "y": false} {
		found, exists, err := ec.HandleExistenceCheck(context.Background(),
			&logical.Request{Operation: logical.CreateOperation, Path: path, Storage: e.s})
		if err != nil || !found || exists != want {
			t.Errorf("%s: found=%v exists=%v err=%v", path, found, exists, err)
		}
	}
}
