package kv

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// readState returns "ok", "deleted", "destroyed" or "missing" for a version.
func (e *env) readState(path string, version int) string {
	e.t.Helper()
	resp, err := e.do(logical.ReadOperation, "data/"+path, map[string]any{"version": version})
	switch {
	case err == nil && resp == nil:
		return "missing"
	case err == nil:
		return "ok"
	}
	md := resp.Data["metadata"].(map[string]any)
	if resp.Data["data"] != nil {
		e.t.Fatalf("a %v response carries data", err)
	}
	if md["destroyed"] == true {
		return "destroyed"
	}
	if md["deletion_time"] == "" {
		e.t.Fatalf("deleted version without deletion_time: %v", md)
	}
	return "deleted"
}

func TestSoftDeleteLatest(t *testing.T) {
	e := newV2(t)
	e.put("s", map[string]any{"v": "1"})
	e.put("s", map[string]any{"v": "2"})
	if resp := e.ok(logical.DeleteOperation, "data/s", nil); resp != nil {
		t.Fatalf("delete returned %v", resp)
	}
	resp, err := e.do(logical.ReadOperation, "data/s", nil)
	if err != errNotFound {
		t.Fatalf("read of deleted: err %v", err)
	}
	jsonEq(t, resp.Data, map[string]any{"data": nil, "metadata": map[string]any{
		"created_time":    e.clock.Now().Format(time.RFC3339Nano),
		"custom_metadata": nil,
		"deletion_time":   e.clock.Now().Format(time.RFC3339Nano),
		"destroyed":       false,
		"version":         2,
	}})
	if got := e.readState("s", 1); got != "ok" {
		t.Fatalf("version 1 is %s", got)
	}
	e.ok(logical.DeleteOperation, "data/s", nil)       // already deleted: no-op
	e.ok(logical.DeleteOperation, "data/missing", nil) // absent: no-op
	e.ok(logical.UpdateOperation, "undelete/s", map[string]any{"versions": []any{2}})
	if got := e.readData("s", 0)["v"]; got != "2" {
		t.Fatalf("after undelete got %v", got)
	}
}

func TestDeleteUndeleteDestroyVersions(t *testing.T) {
	e := newV2(t)
	for i := 0; i < 4; i++ {
		e.put("s", map[string]any{"i": i})
	}
	steps := []struct {
		op       string
		versions any
		want     []string // state of versions 1..4 afterwards
	}{
		{"delete", []any{1, "2"}, []string{"deleted", "deleted", "ok", "ok"}},
		{"undelete", "1", []string{"ok", "deleted", "ok", "ok"}},
		{"destroy", []any{2, 3}, []string{"ok", "destroyed", "destroyed", "ok"}},
		{"undelete", []any{2, 3}, []string{"ok", "destroyed", "destroyed", "ok"}},
		{"delete", "4,99,-1", []string{"ok", "destroyed", "destroyed", "deleted"}},
		{"destroy", 4, []string{"ok", "destroyed", "destroyed", "destroyed"}},
		{"delete", []any{4}, []string{"ok", "destroyed", "destroyed", "destroyed"}},
	}
	for _, st := range steps {
		e.ok(logical.UpdateOperation, st.op+"/s", map[string]any{"versions": st.versions})
		var got []string
		for v := 1; v <= 4; v++ {
			got = append(got, e.readState("s", v))
		}
		if !slices.Equal(got, st.want) {
			t.Fatalf("after %s %v: states %v, want %v", st.op, st.versions, got, st.want)
		}
	}
	// Destroyed data is gone from storage: only version 1 and the record remain.
	want := []string{"meta/s", "versions/s/1"}
	if got := e.storageKeys(); !slices.Equal(got, want) {
		t.Fatalf("storage keys %v, want %v", got, want)
	}
	// A new write after a destroyed current version still works.
	if v := e.put("s", map[string]any{"i": 5}); v != 5 {
		t.Fatalf("write after destroy: version %d", v)
	}
}

func TestVersionsOpErrors(t *testing.T) {
	e := newV2(t)
	for _, tc := range []struct{ op, msg string }{
		{"delete", "No version number provided"},
		{"undelete", "No version number provided"},
		{"destroy", "no version number provided"},
	} {
		e.fail(logical.UpdateOperation, tc.op+"/s", map[string]any{}, logical.ErrInvalidRequest, tc.msg)
		e.fail(logical.UpdateOperation, tc.op+"/s", map[string]any{"versions": []any{"x"}}, logical.ErrInvalidRequest, "versions")
		// Absent secret: nothing to do, no error.
		e.ok(logical.UpdateOperation, tc.op+"/s", map[string]any{"versions": []any{1}})
	}
}

func TestMaxVersionsPruning(t *testing.T) {
	tests := []struct {
		name       string
		engine     int // config max_versions
		key        int // metadata max_versions
		writes     int
		wantOldest uint64
		wantKept   []int
	}{
		{"default keeps 10", 0, 0, 12, 3, []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"ten writes", 0, 0, 10, 1, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"key setting", 0, 2, 5, 4, []int{4, 5}},
		{"engine setting", 3, 0, 5, 3, []int{3, 4, 5}},
		{"larger of both", 3, 1, 5, 3, []int{3, 4, 5}},
		{"one version", 0, 1, 3, 3, []int{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newV2(t)
			if tc.engine > 0 {
				e.ok(logical.UpdateOperation, "config", map[string]any{"max_versions": tc.engine})
			}
			if tc.key > 0 {
				e.ok(logical.UpdateOperation, "metadata/p", map[string]any{"max_versions": tc.key})
			}
			for i := 1; i <= tc.writes; i++ {
				e.put("p", map[string]any{"i": i})
			}
			md := e.ok(logical.ReadOperation, "metadata/p", nil).Data
			if md["oldest_version"] != tc.wantOldest {
				t.Fatalf("oldest_version %v, want %d", md["oldest_version"], tc.wantOldest)
			}
			var kept []int
			for v := 1; v <= tc.writes; v++ {
				if e.readState("p", v) == "ok" {
					kept = append(kept, v)
				}
			}
			if !slices.Equal(kept, tc.wantKept) {
				t.Fatalf("readable versions %v, want %v", kept, tc.wantKept)
			}
			if n := len(md["versions"].(map[string]any)); n != len(tc.wantKept) {
				t.Fatalf("metadata lists %d versions, want %d", n, len(tc.wantKept))
			}
			// Pruned data is gone: one versions/ key per kept non-current version.
			var vkeys int
			for _, k := range e.storageKeys() {
				if strings.HasPrefix(k, versionPrefix) {
					vkeys++
				}
			}
			if vkeys != len(tc.wantKept)-1 {
				t.Fatalf("%d version keys in storage, want %d", vkeys, len(tc.wantKept)-1)
			}
		})
	}
}

func TestDeleteVersionAfter(t *testing.T) {
	e := newV2(t)
	e.ok(logical.UpdateOperation, "config", map[string]any{"delete_version_after": "1h"})
	e.put("a", map[string]any{"k": "v"})
	start := e.clock.Now()
	md := e.ok(logical.ReadOperation, "data/a", nil).Data["metadata"].(map[string]any)
	if want := start.Add(time.Hour).Format(time.RFC3339Nano); md["deletion_time"] != want {
		t.Fatalf("deletion_time %v, want %s", md["deletion_time"], want)
	}
	// The key's smaller setting wins.
	e.ok(logical.UpdateOperation, "metadata/b", map[string]any{"delete_version_after": "10m"})
	e.put("b", map[string]any{"k": "v"})

	e.clock.Advance(30 * time.Minute)
	if e.readState("a", 1) != "ok" || e.readState("b", 1) != "deleted" {
		t.Fatalf("after 30m: a=%s b=%s", e.readState("a", 1), e.readState("b", 1))
	}
	e.clock.Advance(time.Hour)
	if got := e.readState("a", 1); got != "deleted" {
		t.Fatalf("after 90m: a=%s", got)
	}
	// Undelete restarts the clock.
	e.ok(logical.UpdateOperation, "undelete/a", map[string]any{"versions": "1"})
	if got := e.readState("a", 1); got != "ok" {
		t.Fatalf("after undelete: %s", got)
	}
	// A negative engine setting disables it for every key.
	e.ok(logical.UpdateOperation, "config", map[string]any{"delete_version_after": "-1"})
	e.put("b", map[string]any{"k": "v2"})
	e.clock.Advance(24 * time.Hour)
	if got := e.readState("b", 2); got != "ok" {
		t.Fatalf("disabled delete_version_after: %s", got)
	}
	cfg := e.ok(logical.ReadOperation, "config", nil).Data
	if cfg["delete_version_after"] != "-1s" {
		t.Fatalf("config read %v", cfg)
	}
}

// TestSequentialStorage reruns the tests that commit several operations at
// once on a storage without transactions, covering commit's fallback.
func TestSequentialStorage(t *testing.T) {
	saved := v2Storage
	v2Storage = func() logical.Storage { return plainStorage{inmem.New()} }
	defer func() { v2Storage = saved }()
	for name, fn := range map[string]func(*testing.T){
		"pruning":     TestMaxVersionsPruning,
		"versionsOps": TestDeleteUndeleteDestroyVersions,
		"metaDelete":  TestMetadataDelete,
		"patch":       TestDataPatch,
	} {
		t.Run(name, fn)
	}
}
