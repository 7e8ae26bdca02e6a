package kv

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestMetadataRead(t *testing.T) {
	e := newV2(t)
	t0 := e.clock.Now().Format(time.RFC3339Nano)
	e.put("m", map[string]any{"a": "1"})
	e.clock.Advance(time.Second)
	t1 := e.clock.Now().Format(time.RFC3339Nano)
	e.put("m", map[string]any{"a": "2"})
	e.ok(logical.UpdateOperation, "metadata/m", map[string]any{
		"max_versions": 5, "cas_required": true, "delete_version_after": "1h30m",
		"custom_metadata": map[string]any{"owner": "team-a", "n": 3},
	})
	got := e.ok(logical.ReadOperation, "metadata/m", nil)
	jsonEq(t, got.Data, map[string]any{
		"cas_required":         true,
		"created_time":         t0,
		"current_version":      2,
		"custom_metadata":      map[string]string{"n": "3", "owner": "team-a"},
		"delete_version_after": "1h30m0s",
		"max_versions":         5,
		"oldest_version":       0,
		"updated_time":         t1,
		"versions": map[string]any{
			"1": map[string]any{"created_time": t0, "deletion_time": "", "destroyed": false},
			"2": map[string]any{"created_time": t1, "deletion_time": "", "destroyed": false},
		},
	})
	// Data reads carry the custom metadata too.
	md := e.ok(logical.ReadOperation, "data/m", nil).Data["metadata"].(map[string]any)
	jsonEq(t, md["custom_metadata"], map[string]string{"n": "3", "owner": "team-a"})
	if resp := e.ok(logical.ReadOperation, "metadata/none", nil); resp != nil {
		t.Fatalf("absent metadata: %v", resp.Data)
	}
}

func TestMetadataWriteCreatesKey(t *testing.T) {
	e := newV2(t)
	// No settings sent: nothing happens, nothing is created (as Vault).
	e.ok(logical.UpdateOperation, "metadata/k", map[string]any{})
	if resp := e.ok(logical.ReadOperation, "metadata/k", nil); resp != nil {
		t.Fatal("empty metadata write created the key")
	}
	e.ok(logical.UpdateOperation, "metadata/k", map[string]any{"max_versions": 0})
	md := e.ok(logical.ReadOperation, "metadata/k", nil).Data
	if md["current_version"] != uint64(0) || md["created_time"] == "" || len(md["versions"].(map[string]any)) != 0 {
		t.Fatalf("metadata of a key without versions: %v", md)
	}
	if resp := e.ok(logical.ReadOperation, "data/k", nil); resp != nil {
		t.Fatal("key without versions has data")
	}
	if v := e.put("k", map[string]any{"a": 1}); v != 1 {
		t.Fatalf("first write of a metadata-only key: version %d", v)
	}
	for _, tc := range []struct {
		data map[string]any
		msg  string
	}{
		{map[string]any{"max_versions": -1}, "max_versions"},
		{map[string]any{"delete_version_after": -5}, "delete_version_after"},
		{map[string]any{"delete_version_after": "soon"}, "delete_version_after"},
	} {
		e.fail(logical.UpdateOperation, "metadata/k", tc.data, logical.ErrInvalidRequest, tc.msg)
	}
	e.fail(logical.UpdateOperation, "metadata/", map[string]any{"max_versions": 1}, logical.ErrInvalidRequest, "missing path")
	e.fail(logical.UpdateOperation, "metadata/dir/", map[string]any{"max_versions": 1}, logical.ErrInvalidRequest, "must not end")
}

func TestCustomMetadataValidation(t *testing.T) {
	many := map[string]any{}
	for i := 0; i <= maxCustomMetadataKeys; i++ {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	tests := []struct {
		name string
		cm   map[string]any
		msg  string // "" = valid
	}{
		{"valid", map[string]any{"a": "b", "num": 1.5, "flag": true}, ""},
		{"too many keys", many, "payload must contain at most 64 keys, provided 65"},
		{"long key", map[string]any{strings.Repeat("k", 129): "v"}, "length of key"},
		{"max key", map[string]any{strings.Repeat("k", 128): "v"}, ""},
		{"long value", map[string]any{"k": strings.Repeat("v", 513)}, "length of value for key \"k\" is 513"},
		{"max value", map[string]any{"k": strings.Repeat("v", 512)}, ""},
		{"empty value", map[string]any{"k": ""}, "length of value"},
		{"unprintable key", map[string]any{"k\x01": "v"}, "contains unprintable characters"},
		{"unprintable value", map[string]any{"k": "v\n"}, "contains unprintable characters"},
		{"object value", map[string]any{"k": map[string]any{}}, "custom_metadata validation failed"},
		{"two problems", map[string]any{"a": "", "b": ""}, "2 errors occurred"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newV2(t)
			in := map[string]any{"custom_metadata": tc.cm}
			if tc.msg == "" {
				e.ok(logical.UpdateOperation, "metadata/c", in)
				e.ok(logical.PatchOperation, "metadata/c", in)
				return
			}
			e.fail(logical.UpdateOperation, "metadata/c", in, logical.ErrInvalidRequest, tc.msg)
			e.ok(logical.UpdateOperation, "metadata/c", map[string]any{"max_versions": 1})
			e.fail(logical.PatchOperation, "metadata/c", in, logical.ErrInvalidRequest, tc.msg)
		})
	}
}

func TestMetadataPatch(t *testing.T) {
	e := newV2(t)
	e.fail(logical.PatchOperation, "metadata/p", map[string]any{"max_versions": 2}, logical.ErrNotFound, "")
	e.put("p", map[string]any{"a": 1})
	e.ok(logical.UpdateOperation, "metadata/p", map[string]any{
		"max_versions": 4, "custom_metadata": map[string]any{"keep": "1", "drop": "2", "change": "3"},
	})
	e.ok(logical.PatchOperation, "metadata/p", map[string]any{
		"cas_required": true, "custom_metadata": map[string]any{"drop": nil, "change": "x", "add": "y"},
	})
	md := e.ok(logical.ReadOperation, "metadata/p", nil).Data
	jsonEq(t, md["custom_metadata"], map[string]string{"add": "y", "change": "x", "keep": "1"})
	if md["max_versions"] != uint32(4) || md["cas_required"] != true || md["current_version"] != uint64(1) {
		t.Fatalf("patch changed unsent settings or missed sent ones: %v", md)
	}
	// A full write replaces custom_metadata wholesale.
	e.ok(logical.UpdateOperation, "metadata/p", map[string]any{"custom_metadata": map[string]any{}})
	if md := e.ok(logical.ReadOperation, "metadata/p", nil).Data; md["custom_metadata"] != nil &&
		len(md["custom_metadata"].(map[string]string)) != 0 {
		t.Fatalf("custom_metadata not cleared: %v", md["custom_metadata"])
	}
	// Patching past the key limit fails as a whole.
	grow := map[string]any{}
	for i := range maxCustomMetadataKeys {
		grow[fmt.Sprint(i)] = "v"
	}
	e.ok(logical.PatchOperation, "metadata/p", map[string]any{"custom_metadata": grow})
	e.fail(logical.PatchOperation, "metadata/p", map[string]any{"custom_metadata": map[string]any{"one-more": "v"}},
		logical.ErrInvalidRequest, "at most 64 keys")
}

func TestMetadataDelete(t *testing.T) {
	e := newV2(t)
	for i := 0; i < 3; i++ {
		e.put("d", map[string]any{"i": i})
	}
	e.put("other", map[string]any{"i": 0})
	e.ok(logical.UpdateOperation, "destroy/d", map[string]any{"versions": []any{1}})
	e.ok(logical.DeleteOperation, "metadata/d", nil)
	e.ok(logical.DeleteOperation, "metadata/d", nil) // absent: no-op
	if got, want := e.storageKeys(), []string{"meta/other"}; !slices.Equal(got, want) {
		t.Fatalf("storage after metadata delete: %v, want %v", got, want)
	}
	if v := e.put("d", map[string]any{"i": "new"}); v != 1 {
		t.Fatalf("re-created secret starts at version %d", v)
	}
}

func TestMetadataList(t *testing.T) {
	e := newV2(t)
	for _, p := range []string{"a", "b/c", "b/d/e", "gone", "b/x"} {
		e.put(p, map[string]any{"k": "v"})
	}
	e.ok(logical.DeleteOperation, "data/gone", nil)
	e.ok(logical.DeleteOperation, "data/b/x", nil)
	tests := []struct {
		path    string
		exclude bool
		want    []string
	}{
		{"metadata/", false, []string{"a", "b/", "gone"}},
		{"metadata", false, []string{"a", "b/", "gone"}},
		{"metadata/b/", false, []string{"c", "d/", "x"}},
		{"metadata/b", false, []string{"c", "d/", "x"}},
		{"metadata/", true, []string{"a", "b/"}},
		{"metadata/b/", true, []string{"c", "d/"}},
		{"metadata/nothing/", false, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%v", tc.path, tc.exclude), func(t *testing.T) {
			resp := e.ok(logical.ListOperation, tc.path, map[string]any{"exclude_deleted": tc.exclude})
			if tc.want == nil {
				if resp != nil {
					t.Fatalf("empty list: want nil (404), got %v", resp.Data)
				}
				return
			}
			if got := resp.Data["keys"].([]string); !slices.Equal(got, tc.want) {
				t.Fatalf("keys %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	e := newV2(t)
	jsonEq(t, e.ok(logical.ReadOperation, "config", nil).Data,
		map[string]any{"cas_required": false, "delete_version_after": "0s", "max_versions": 0})
	e.ok(logical.UpdateOperation, "config", map[string]any{"max_versions": 7, "delete_version_after": "3h25m19s"})
	e.ok(logical.UpdateOperation, "config", map[string]any{"cas_required": true}) // others kept
	jsonEq(t, e.ok(logical.ReadOperation, "config", nil).Data,
		map[string]any{"cas_required": true, "delete_version_after": "3h25m19s", "max_versions": 7})
	e.ok(logical.UpdateOperation, "config", map[string]any{"delete_version_after": 0})
	if got := e.ok(logical.ReadOperation, "config", nil).Data["delete_version_after"]; got != "0s" {
		t.Fatalf("cleared delete_version_after reads %v", got)
	}
	e.fail(logical.UpdateOperation, "config", map[string]any{"max_versions": -1}, logical.ErrInvalidRequest, "max_versions")
	e.fail(logical.UpdateOperation, "config", map[string]any{"delete_version_after": "later"}, logical.ErrInvalidRequest,
		"delete_version_after")
	e.fail(logical.DeleteOperation, "config", nil, logical.ErrUnsupportedOp, "")
}

func TestSubkeys(t *testing.T) {
	e := newV2(t)
	e.put("s", decodeJSON(t, `{"foo":"abc","bar":{"baz":"def","qux":{"q":1}},"quux":{},"list":[1,2]}`))
	tests := []struct {
		depth any
		want  string
	}{
		{nil, `{"bar":{"baz":null,"qux":{"q":null}},"foo":null,"list":null,"quux":null}`},
		{0, `{"bar":{"baz":null,"qux":{"q":null}},"foo":null,"list":null,"quux":null}`},
		{1, `{"bar":null,"foo":null,"list":null,"quux":null}`},
		{"2", `{"bar":{"baz":null,"qux":null},"foo":null,"list":null,"quux":null}`},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.depth), func(t *testing.T) {
			resp := e.ok(logical.ReadOperation, "subkeys/s", map[string]any{"depth": tc.depth})
			jsonEq(t, resp.Data["subkeys"], decodeJSON(t, tc.want))
			if resp.Data["metadata"].(map[string]any)["version"] != uint64(1) {
				t.Fatalf("metadata %v", resp.Data["metadata"])
			}
		})
	}
	if resp := e.ok(logical.ReadOperation, "subkeys/none", nil); resp != nil {
		t.Fatal("subkeys of an absent secret")
	}
	e.put("s", map[string]any{"v2": "x"})
	jsonEq(t, e.ok(logical.ReadOperation, "subkeys/s", map[string]any{"version": 1}).Data["subkeys"].(map[string]any)["foo"], nil)
	e.ok(logical.DeleteOperation, "data/s", nil)
	resp := e.fail(logical.ReadOperation, "subkeys/s", nil, logical.ErrNotFound, "")
	if resp == nil || resp.Data["subkeys"] != nil || resp.Data["metadata"] == nil {
		t.Fatalf("deleted subkeys body: %+v", resp)
	}
}

func TestInvalidPaths(t *testing.T) {
	e := newV2(t)
	tests := []struct {
		op   logical.Operation
		path string
		warn string
	}{
		{logical.ReadOperation, "data", "Non-listing operations on the root"},
		{logical.UpdateOperation, "metadata", "Non-listing operations on the root"},
		{logical.ReadOperation, "foo", "use 'vault kv get'"},
		{logical.UpdateOperation, "foo/bar", "use 'vault kv put'"},
		{logical.CreateOperation, "foo/bar", "use 'vault kv put'"},
		{logical.PatchOperation, "foo", "use 'vault kv patch'"},
		{logical.DeleteOperation, "foo", "use 'vault kv delete'"},
		{logical.ListOperation, "foo/", "use 'vault kv list'"},
		{logical.ListOperation, "data/foo/", "use 'vault kv list'"},
		{logical.ReadOperation, "data/trailing/", "use 'vault kv get'"},
	}
	for _, tc := range tests {
		t.Run(string(tc.op)+" "+tc.path, func(t *testing.T) {
			resp := e.fail(tc.op, tc.path, nil, logical.ErrNotFound, "")
			if resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], tc.warn) {
				t.Fatalf("response %+v, want warning %q", resp, tc.warn)
			}
		})
	}
}
