package database

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// snapshot is every key and value of a storage.
func snapshot(t *testing.T, s logical.Storage) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(prefix string)
	walk = func(prefix string) {
		keys, err := s.List(context.Background(), prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if strings.HasSuffix(k, "/") {
				walk(prefix + k)
				continue
			}
			e, err := s.Get(context.Background(), prefix+k)
			if err != nil || e == nil {
				t.Fatalf("get %s: %v", prefix+k, err)
			}
			out[prefix+k] = string(e.Value)
		}
	}
	walk("")
	return out
}

func sameSnapshot(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// FuzzRequestBodies sends arbitrary JSON bodies (decoded as the HTTP API
// does) to the config, role and static role paths of an engine that has a
// fake connection "f" allowing every role: no request panics, a refused
// one leaves storage exactly as it was, an accepted one reads back, and a
// config read never shows the password.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"plugin_name":"fake-database-plugin","connection_url":"x","password":"pw-secret","allowed_roles":"*"}`,
		`{"plugin_name":"fake-database-plugin","verify_connection":"nope"}`,
		`{"db_name":"f","creation_statements":["CREATE {{name}}"],"default_ttl":"1h","max_ttl":7200}`,
		`{"db_name":"f","creation_statements":"SELEKT 1"}`,
		`{"db_name":"f","username":"u","rotation_period":"5s"}`,
		`{"db_name":"f","username":"u","rotation_schedule":"0 3 * * *","rotation_window":"2h"}`,
		`{"db_name":"f","username":"u","rotation_schedule":"61 * * * *"}`,
		`{"allowed_roles":[1,2],"root_rotation_statements":{"a":1},"default_ttl":-5}`,
	} {
		for _, path := range []string{"config/f", "roles/r", "static-roles/s"} {
			f.Add(path, seed)
		}
	}
	f.Fuzz(func(t *testing.T, path, body string) {
		if path != "config/f" && path != "roles/r" && path != "static-roles/s" {
			return
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(body)))
		dec.UseNumber()
		var data map[string]any
		if dec.Decode(&data) != nil {
			return
		}
		store, b := fuzzEngine(t)
		defer b.Cleanup(context.Background())
		before := snapshot(t, store)
		resp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.UpdateOperation, Path: path, Data: data, Storage: store})
		if err != nil {
			if _, known := logical.UserMessage(err); !known {
				t.Fatalf("%s %s: an internal error for caller input: %v", path, body, err)
			}
			if !sameSnapshot(before, snapshot(t, store)) {
				t.Fatalf("%s %s: refused (%v) but storage changed", path, body, err)
			}
			return
		}
		_ = resp
		read, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: path, Storage: store})
		if err != nil || read == nil {
			t.Fatalf("%s %s: accepted but not readable: %v", path, body, err)
		}
		if path == "config/f" {
			if pw, _ := data["password"].(string); len(pw) > 3 && strings.Contains(flatten(read.Data), pw) {
				t.Fatalf("config read shows the password: %v", read.Data)
			}
		}
	})
}

// fuzzEngine is an engine on fresh storage with a fake connection "f".
func fuzzEngine(t *testing.T) (logical.Storage, *Backend) {
	t.Helper()
	store := inmem.New()
	be, err := Factory(context.Background(), &logical.BackendConfig{StorageView: store, System: sysView{}})
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*Backend)
	_, err = b.HandleRequest(context.Background(), &logical.Request{Operation: logical.UpdateOperation, Path: "config/f", Storage: store,
		Data: map[string]any{"plugin_name": fakePluginName, "connection_url": "fake://", "username": "root", "password": "root-secret", "allowed_roles": "*"}})
	if err != nil {
		t.Fatal(err)
	}
	return store, b
}
