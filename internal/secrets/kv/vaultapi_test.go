package kv

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/logical"
)

// vaultShim is a minimal stand-in for the HTTP layer, just enough of Vault's
// request decoding and response envelope to drive the engine with the
// official Go client and check that the shapes it parses are the ones the
// engine produces. It follows the conventions of the package doc: a nil
// read or list response is a 404, a response with an ErrNotFound error is a
// 404 that still carries its envelope.
func vaultShim(t testing.TB, mounts map[string]*env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mount, path, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
		e := mounts[mount]
		if e == nil {
			http.NotFound(w, r)
			return
		}
		op, data := shimDecode(t, r)
		if op == logical.ListOperation && path != "" && !strings.HasSuffix(path, "/") {
			path += "/"
		}
		req := &logical.Request{Operation: op, Path: path, Data: data, Storage: e.s}
		if op == logical.UpdateOperation {
			if found, exists, err := e.b.(logical.ExistenceChecker).HandleExistenceCheck(r.Context(), req); err == nil && found && !exists {
				req.Operation = logical.CreateOperation
			}
		}
		resp, err := e.b.HandleRequest(r.Context(), req)
		shimRespond(w, op, resp, err)
	})
}

func shimDecode(t testing.TB, r *http.Request) (logical.Operation, map[string]any) {
	data := map[string]any{}
	op := map[string]logical.Operation{
		http.MethodGet: logical.ReadOperation, http.MethodPost: logical.UpdateOperation,
		http.MethodPut: logical.UpdateOperation, http.MethodPatch: logical.PatchOperation,
		http.MethodDelete: logical.DeleteOperation, "LIST": logical.ListOperation,
	}[r.Method]
	for k, v := range r.URL.Query() {
		if k == "list" && v[0] == "true" {
			op = logical.ListOperation
			continue
		}
		data[k] = v[0]
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Error(err)
	}
	if len(body) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&data); err != nil {
			t.Errorf("request body: %v", err)
		}
	}
	return op, data
}

func shimRespond(w http.ResponseWriter, op logical.Operation, resp *logical.Response, err error) {
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusOK
	switch {
	case errors.Is(err, logical.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, logical.ErrInvalidRequest):
		status = http.StatusBadRequest
	case err != nil:
		status = http.StatusInternalServerError
	case resp == nil && (op == logical.ReadOperation || op == logical.ListOperation):
		status = http.StatusNotFound
	case resp == nil:
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if resp == nil {
		msgs := []string{}
		if err != nil {
			msgs = append(msgs, err.Error())
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": msgs})
		return
	}
	var ttl int
	if resp.Secret != nil {
		ttl = int(resp.Secret.TTL / time.Second)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"request_id": "test", "lease_id": "", "renewable": false, "lease_duration": ttl,
		"data": resp.Data, "warnings": resp.Warnings, "wrap_info": nil, "auth": nil,
	})
}

func newVaultClient(t *testing.T, mounts map[string]*env) *vault.Client {
	srv := httptest.NewServer(vaultShim(t, mounts))
	t.Cleanup(srv.Close)
	cfg := vault.DefaultConfig()
	cfg.Address = srv.URL
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken("test")
	return c
}

// TestOfficialClientKVv2 drives a v2 mount with client.KVv2.
func TestOfficialClientKVv2(t *testing.T) {
	ctx := context.Background()
	e := newV2(t)
	kv := newVaultClient(t, map[string]*env{"secret": e}).KVv2("secret")
	must := func(s *vault.KVSecret, err error) *vault.KVSecret {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := must(kv.Put(ctx, "app", map[string]any{"user": "a", "pass": "1"}))
	if s.VersionMetadata.Version != 1 || !s.VersionMetadata.CreatedTime.Equal(e.clock.Now()) {
		t.Fatalf("put metadata %+v", s.VersionMetadata)
	}
	must(kv.Put(ctx, "app", map[string]any{"user": "b"}, vault.WithCheckAndSet(1)))
	if _, err := kv.Put(ctx, "app", map[string]any{"x": "y"}, vault.WithCheckAndSet(1)); err == nil ||
		!strings.Contains(err.Error(), "check-and-set parameter did not match") {
		t.Fatalf("stale cas: %v", err)
	}
	s = must(kv.Patch(ctx, "app", map[string]any{"pass": "2"}))
	if s.VersionMetadata.Version != 3 {
		t.Fatalf("patch version %d", s.VersionMetadata.Version)
	}
	jsonEq(t, must(kv.Get(ctx, "app")).Data, map[string]any{"pass": "2", "user": "b"})
	jsonEq(t, must(kv.GetVersion(ctx, "app", 1)).Data, map[string]any{"pass": "1", "user": "a"})

	if err := kv.Delete(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	s = must(kv.Get(ctx, "app"))
	if s.Data != nil || s.VersionMetadata.DeletionTime.IsZero() {
		t.Fatalf("deleted latest: %+v", s)
	}
	if err := kv.Undelete(ctx, "app", []int{3}); err != nil {
		t.Fatal(err)
	}
	if err := kv.Destroy(ctx, "app", []int{1}); err != nil {
		t.Fatal(err)
	}
	if s = must(kv.GetVersion(ctx, "app", 1)); s.Data != nil || !s.VersionMetadata.Destroyed {
		t.Fatalf("destroyed version: %+v", s.VersionMetadata)
	}
	if s = must(kv.Rollback(ctx, "app", 2)); s.VersionMetadata.Version != 4 {
		t.Fatalf("rollback made version %d", s.VersionMetadata.Version)
	}
	jsonEq(t, must(kv.Get(ctx, "app")).Data, map[string]any{"user": "b"})
	checkClientMetadata(t, kv)
	if err := kv.DeleteMetadata(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "app"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("after metadata delete: %v", err)
	}
}

func checkClientMetadata(t *testing.T, kv *vault.KVv2) {
	ctx := context.Background()
	err := kv.PutMetadata(ctx, "app", vault.KVMetadataPutInput{
		MaxVersions: 5, DeleteVersionAfter: time.Hour, CustomMetadata: map[string]any{"team": "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	md, err := kv.GetMetadata(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if md.MaxVersions != 5 || md.DeleteVersionAfter != time.Hour || md.CurrentVersion != 4 ||
		len(md.Versions) != 4 || md.CustomMetadata["team"] != "x" || !md.Versions["1"].Destroyed {
		t.Fatalf("metadata %+v", md)
	}
	if vs, err := kv.GetVersionsAsList(ctx, "app"); err != nil || len(vs) != 4 || vs[3].Version != 4 {
		t.Fatalf("versions list %+v %v", vs, err)
	}
	cas := true
	if err := kv.PatchMetadata(ctx, "app", vault.KVMetadataPatchInput{
		CASRequired: &cas, CustomMetadata: map[string]any{},
	}); err != nil {
		t.Fatal(err)
	}
	if md, err = kv.GetMetadata(ctx, "app"); err != nil || !md.CASRequired || len(md.CustomMetadata) != 0 || md.MaxVersions != 5 {
		t.Fatalf("patched metadata %+v %v", md, err)
	}
}

// TestOfficialClientKVv1 drives a v1 mount with client.KVv1.
func TestOfficialClientKVv1(t *testing.T) {
	ctx := context.Background()
	c := newVaultClient(t, map[string]*env{"kv": newEnv(t, nil)})
	kv := c.KVv1("kv")
	if err := kv.Put(ctx, "db", map[string]any{"user": "u", "ttl": "1h"}); err != nil {
		t.Fatal(err)
	}
	s, err := kv.Get(ctx, "db")
	if err != nil || s.Data["user"] != "u" {
		t.Fatalf("get %+v %v", s, err)
	}
	list, err := c.Logical().List("kv")
	if err != nil || list == nil {
		t.Fatalf("list %v %v", list, err)
	}
	jsonEq(t, list.Data["keys"], []string{"db"})
	if err := kv.Delete(ctx, "db"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "db"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
