package kv

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func TestFactory(t *testing.T) {
	tests := []struct {
		name    string
		config  map[string]string
		want    string // type name, "" for an error
		wantMax int
	}{
		{"default is v1", nil, "v1", DefaultMaxValueSize},
		{"v1", map[string]string{"version": "1"}, "v1", DefaultMaxValueSize},
		{"v2", map[string]string{"version": "2", "max_value_size": "100"}, "v2", 100},
		{"unknown version", map[string]string{"version": "3"}, "", 0},
		{"bad size", map[string]string{"max_value_size": "-5"}, "", 0},
		{"size not a number", map[string]string{"max_value_size": "1MB"}, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Factory(context.Background(), &logical.BackendConfig{Config: tc.config})
			if tc.want == "" {
				if err == nil {
					t.Fatalf("expected an error, got %T", b)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch v := b.(type) {
			case *passthroughBackend:
				if tc.want != "v1" || v.maxValueSize != tc.wantMax {
					t.Fatalf("got v1 with max %d, want %s/%d", v.maxValueSize, tc.want, tc.wantMax)
				}
			case *versionedBackend:
				if tc.want != "v2" || v.maxValueSize != tc.wantMax {
					t.Fatalf("got v2 with max %d, want %s/%d", v.maxValueSize, tc.want, tc.wantMax)
				}
			default:
				t.Fatalf("unexpected backend %T", b)
			}
		})
	}
	if _, err := Factory(context.Background(), nil); err == nil {
		t.Fatal("nil config accepted")
	}
}

func TestDataWriteRead(t *testing.T) {
	e := newV2(t)
	created := e.clock.Now().Format(time.RFC3339Nano)
	resp := e.ok(logical.UpdateOperation, "data/app/db", map[string]any{
		"data": map[string]any{"user": "admin", "nested": map[string]any{"n": json.Number("12345678901234567890")}},
	})
	jsonEq(t, resp.Data, map[string]any{
		"created_time": created, "custom_metadata": nil, "deletion_time": "", "destroyed": false, "version": 1,
	})
	if len(resp.Warnings) != 0 {
		t.Fatalf("unexpected warnings %v", resp.Warnings)
	}
	got := e.ok(logical.ReadOperation, "data/app/db", nil)
	jsonEq(t, got.Data, map[string]any{
		"data": map[string]any{"nested": map[string]any{"n": json.Number("12345678901234567890")}, "user": "admin"},
		"metadata": map[string]any{
			"created_time": created, "custom_metadata": nil, "deletion_time": "", "destroyed": false, "version": 1,
		},
	})
	if got.Secret != nil {
		t.Fatal("a v2 read must not carry a lease")
	}
}

func TestDataVersions(t *testing.T) {
	e := newV2(t)
	for i := 1; i <= 3; i++ {
		if v := e.put("s", map[string]any{"i": i}); v != uint64(i) {
			t.Fatalf("write %d got version %d", i, v)
		}
	}
	tests := []struct {
		version any
		want    string // "" = not found
	}{
		{nil, "3"}, {0, "3"}, {1, "1"}, {"2", "2"}, {3, "3"}, {4, ""}, {-1, "3"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.version), func(t *testing.T) {
			resp := e.ok(logical.ReadOperation, "data/s", map[string]any{"version": tc.version})
			if tc.want == "" {
				if resp != nil {
					t.Fatalf("expected not found, got %v", resp.Data)
				}
				return
			}
			if got := fmt.Sprint(resp.Data["data"].(map[string]any)["i"]); got != tc.want {
				t.Fatalf("got i=%s want %s", got, tc.want)
			}
		})
	}
	if resp := e.ok(logical.ReadOperation, "data/missing", nil); resp != nil {
		t.Fatalf("missing secret: got %v", resp.Data)
	}
}

func TestDataWriteErrors(t *testing.T) {
	e := newV2(t)
	tests := []struct {
		name string
		path string
		data map[string]any
		msg  string
	}{
		{"no data", "data/a", map[string]any{}, "no data provided"},
		{"null data", "data/a", map[string]any{"data": nil}, "no data provided"},
		{"data not an object", "data/a", map[string]any{"data": "x"}, `invalid value for "data"`},
		{"options not an object", "data/a", map[string]any{"data": map[string]any{}, "options": 1}, `"options"`},
		{"dot-dot segment", "data/a/../b", map[string]any{"data": map[string]any{}}, "invalid secret path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.fail(logical.UpdateOperation, tc.path, tc.data, logical.ErrInvalidRequest, tc.msg)
		})
	}
	resp := e.ok(logical.UpdateOperation, "data/w", map[string]any{"data": map[string]any{}, "bogus": 1})
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "bogus") {
		t.Fatalf("unknown field: warnings %v", resp.Warnings)
	}
}

func TestDataCAS(t *testing.T) {
	cas := func(v any) map[string]any {
		return map[string]any{"data": map[string]any{"k": "v"}, "options": map[string]any{"cas": v}}
	}
	e := newV2(t)
	e.ok(logical.UpdateOperation, "data/c", cas(0)) // create only if absent
	e.fail(logical.UpdateOperation, "data/c", cas(0), logical.ErrInvalidRequest,
		"check-and-set parameter did not match the current version")
	e.ok(logical.UpdateOperation, "data/c", cas(json.Number("1")))
	e.ok(logical.UpdateOperation, "data/c", cas("2"))
	e.ok(logical.UpdateOperation, "data/c", cas(float64(3)))
	e.fail(logical.UpdateOperation, "data/c", cas(3), logical.ErrInvalidRequest, "did not match")
	e.fail(logical.UpdateOperation, "data/c", cas(-1), logical.ErrInvalidRequest, "did not match")
	e.fail(logical.UpdateOperation, "data/c", cas("x"), logical.ErrInvalidRequest, "error parsing check-and-set parameter")
	e.fail(logical.PatchOperation, "data/c", cas(1), logical.ErrInvalidRequest, "did not match")
	e.ok(logical.PatchOperation, "data/c", cas(4))

	// cas_required on the key, then on the engine.
	e.ok(logical.UpdateOperation, "metadata/c", map[string]any{"cas_required": true})
	e.fail(logical.UpdateOperation, "data/c", map[string]any{"data": map[string]any{}}, logical.ErrInvalidRequest,
		"check-and-set parameter required for this call")
	e.fail(logical.PatchOperation, "data/c", map[string]any{"data": map[string]any{}}, logical.ErrInvalidRequest,
		"check-and-set parameter required")
	e.ok(logical.UpdateOperation, "data/c", cas(5))
	e.ok(logical.UpdateOperation, "config", map[string]any{"cas_required": true})
	e.fail(logical.UpdateOperation, "data/other", map[string]any{"data": map[string]any{}}, logical.ErrInvalidRequest,
		"check-and-set parameter required")
	resp := e.ok(logical.UpdateOperation, "metadata/c", map[string]any{"cas_required": false})
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "mandated by backend config") {
		t.Fatalf("warnings %v", resp.Warnings)
	}
}

func TestDataConcurrentWrites(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  *env
	}{
		{"transactional", newV2(t)},
		{"sequential", newEnvOn(t, map[string]string{"version": "2"}, plainStorage{inmem.New()})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.env
			e.ok(logical.UpdateOperation, "config", map[string]any{"max_versions": 100})
			const n = 40
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					if _, err := e.do(logical.UpdateOperation, "data/hot", map[string]any{"data": map[string]any{"i": i}}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			meta := e.ok(logical.ReadOperation, "metadata/hot", nil)
			if cur := meta.Data["current_version"].(uint64); cur != n {
				t.Fatalf("current_version %d, want %d", cur, n)
			}
			seen := map[string]bool{}
			for v := 1; v <= n; v++ {
				seen[fmt.Sprint(e.readData("hot", v)["i"])] = true
			}
			if len(seen) != n {
				t.Fatalf("%d distinct values over %d versions: a write was lost", len(seen), n)
			}
		})
	}
}

func TestDataSizeLimit(t *testing.T) {
	e := newEnv(t, map[string]string{"version": "2", "max_value_size": "64"})
	e.put("small", map[string]any{"k": "v"})
	big := map[string]any{"data": map[string]any{"k": strings.Repeat("x", 64)}}
	e.fail(logical.UpdateOperation, "data/big", big, logical.ErrTooLarge, "max_value_size")
	e.fail(logical.PatchOperation, "data/small", big, logical.ErrTooLarge, "max_value_size")
	if resp := e.ok(logical.ReadOperation, "data/big", nil); resp != nil {
		t.Fatal("oversize write was stored")
	}
	if v := e.ok(logical.ReadOperation, "metadata/small", nil).Data["current_version"]; v != uint64(1) {
		t.Fatalf("oversize patch changed the secret: version %v", v)
	}
}

func TestDataPatch(t *testing.T) {
	tests := []struct {
		name          string
		before, patch string
		want          string
	}{
		{"add and replace", `{"a":"1","b":"2"}`, `{"b":"3","c":"4"}`, `{"a":"1","b":"3","c":"4"}`},
		{"null removes", `{"a":"1","b":"2"}`, `{"a":null}`, `{"b":"2"}`},
		{"nested merge", `{"o":{"x":1,"y":2}}`, `{"o":{"y":null,"z":3}}`, `{"o":{"x":1,"z":3}}`},
		{"object replaces scalar", `{"o":"s"}`, `{"o":{"k":"v","n":null}}`, `{"o":{"k":"v"}}`},
		{"array replaces", `{"l":[1,2,3]}`, `{"l":[4]}`, `{"l":[4]}`},
		{"empty patch", `{"a":"1"}`, `{}`, `{"a":"1"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newV2(t)
			e.put("p", decodeJSON(t, tc.before))
			resp := e.ok(logical.PatchOperation, "data/p", map[string]any{"data": decodeJSON(t, tc.patch)})
			if resp.Data["version"] != uint64(2) {
				t.Fatalf("patch made version %v", resp.Data["version"])
			}
			jsonEq(t, e.readData("p", 0), decodeJSON(t, tc.want))
		})
	}
}

func TestDataPatchMissingOrDeleted(t *testing.T) {
	e := newV2(t)
	patch := map[string]any{"data": map[string]any{"a": "b"}}
	e.fail(logical.PatchOperation, "data/none", patch, logical.ErrNotFound, "")
	e.ok(logical.UpdateOperation, "metadata/onlymeta", map[string]any{"max_versions": 3})
	e.fail(logical.PatchOperation, "data/onlymeta", patch, logical.ErrNotFound, "")
	e.fail(logical.PatchOperation, "data/none", map[string]any{}, logical.ErrInvalidRequest, "no data provided")

	e.put("gone", map[string]any{"a": "1"})
	e.ok(logical.DeleteOperation, "data/gone", nil)
	resp := e.fail(logical.PatchOperation, "data/gone", patch, logical.ErrNotFound, "")
	if resp == nil || resp.Data["version"] != uint64(1) || resp.Data["deletion_time"] == "" {
		t.Fatalf("deleted patch: want the version metadata in the 404 body, got %+v", resp)
	}
}

func decodeJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExistenceCheck(t *testing.T) {
	e := newV2(t)
	e.put("x", map[string]any{"a": 1})
	ec := e.b.(logical.ExistenceChecker)
	tests := []struct {
		path         string
		found, exist bool
	}{
		{"data/x", true, true},
		{"data/y", true, false},
		{"metadata/x", true, true},
		{"metadata/y", true, false},
		{"config", false, false},
	}
	for _, tc := range tests {
		found, exists, err := ec.HandleExistenceCheck(context.Background(),
			&logical.Request{Operation: logical.CreateOperation, Path: tc.path, Storage: e.s})
		if err != nil || found != tc.found || exists != tc.exist {
			t.Errorf("%s: found=%v exists=%v err=%v, want %v %v", tc.path, found, exists, err, tc.found, tc.exist)
		}
	}
	// Create (no existing secret) is handled like update.
	resp := e.ok(logical.CreateOperation, "data/new", map[string]any{"data": map[string]any{"a": "b"}})
	if resp.Data["version"] != uint64(1) {
		t.Fatalf("create: %v", resp.Data)
	}
}
