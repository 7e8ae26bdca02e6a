package api

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSealLifecycle(t *testing.T) {
	ws := newWireServer(t)
	var shares []string
	ws.reply("GET /v1/sys/seal-status", 200, map[string]any{"type": "shamir", "initialized": true,
		"sealed": true, "t": 2, "n": 3, "progress": 0, "nonce": "", "version": "0.1.0"})
	ws.reply("GET /v1/sys/init", 200, map[string]any{"initialized": false})
	ws.handle("PUT /v1/sys/init", func(w http.ResponseWriter, _ *http.Request, body map[string]any) {
		if body["secret_shares"] != 3.0 || body["secret_threshold"] != 2.0 {
			writeJSON(w, 400, map[string]any{"errors": []string{"bad shares"}})
			return
		}
		writeJSON(w, 200, map[string]any{"keys": []string{"aa", "bb", "cc"},
			"keys_base64": []string{"qg==", "uw==", "zA=="}, "root_token": "root"})
	})
	ws.handle("PUT /v1/sys/unseal", func(w http.ResponseWriter, _ *http.Request, body map[string]any) {
		if body["reset"] == true {
			shares = nil
		} else {
			shares = append(shares, body["key"].(string))
		}
		writeJSON(w, 200, map[string]any{"sealed": len(shares) < 2, "progress": len(shares) % 2, "t": 2, "n": 3})
	})
	ws.reply("PUT /v1/sys/seal", 204, nil)
	ctx := context.Background()
	c := ws.client(t, "root")

	st, err := c.SealStatus(ctx)
	if err != nil || !st.Sealed || st.T != 2 || st.N != 3 || st.Type != "shamir" {
		t.Fatalf("SealStatus = %+v, %v", st, err)
	}
	if inited, err := c.InitStatus(ctx); err != nil || inited {
		t.Errorf("InitStatus = %v, %v", inited, err)
	}
	init, err := c.Init(ctx, &InitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil || len(init.Keys) != 3 || init.KeysB64[0] != "qg==" || init.RootToken != "root" {
		t.Fatalf("Init = %+v, %v", init, err)
	}
	if st, err = c.Unseal(ctx, "qg=="); err != nil || !st.Sealed || st.Progress != 1 {
		t.Errorf("first share: %+v, %v", st, err)
	}
	if st, err = c.UnsealReset(ctx); err != nil || st.Progress != 0 {
		t.Errorf("reset: %+v, %v", st, err)
	}
	_, _ = c.Unseal(ctx, "qg==")
	if st, err = c.Unseal(ctx, "uw=="); err != nil || st.Sealed {
		t.Errorf("threshold reached: %+v, %v", st, err)
	}
	if err := c.Seal(ctx); err != nil {
		t.Errorf("Seal: %v", err)
	}
}

func TestHealthAsksForSuccessCodes(t *testing.T) {
	ws := newWireServer(t)
	ws.handle("GET /v1/sys/health", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		status := 503 // sealed, unless the client overrides the code
		if c := r.URL.Query().Get("sealedcode"); c == "299" {
			status = 299
		}
		writeJSON(w, status, map[string]any{"initialized": true, "sealed": true, "version": "0.1.0"})
	})
	h, err := ws.client(t, "").Health(context.Background())
	if err != nil || !h.Sealed || h.Version != "0.1.0" {
		t.Errorf("Health = %+v, %v", h, err)
	}
}

func TestKeyStatusDataOrTopLevel(t *testing.T) {
	install := "2024-05-01T10:00:00Z"
	tests := []struct {
		name string
		body map[string]any
	}{
		{"in data", envelope(map[string]any{"term": 3, "install_time": install, "encryptions": 7})},
		{"top level", map[string]any{"term": 3, "install_time": install, "encryptions": 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := newWireServer(t)
			ws.reply("GET /v1/sys/key-status", 200, tt.body)
			ws.reply("POST /v1/sys/rotate", 204, nil)
			c := ws.client(t, "root")
			if err := c.Rotate(context.Background()); err != nil {
				t.Fatal(err)
			}
			ks, err := c.KeyStatus(context.Background())
			want, _ := time.Parse(time.RFC3339, install)
			if err != nil || ks.Term != 3 || !ks.InstallTime.Equal(want) || ks.Encryptions != 7 {
				t.Errorf("KeyStatus = %+v, %v", ks, err)
			}
		})
	}
}

func TestMounts(t *testing.T) {
	ws := newWireServer(t)
	secret := map[string]any{"type": "kv", "accessor": "kv_1", "description": "kv store",
		"options": map[string]any{"version": "2"}, "config": map[string]any{"default_lease_ttl": 0, "max_lease_ttl": 60}}
	top := envelope(map[string]any{"secret/": secret, "sys/": map[string]any{"type": "system"}})
	top["secret/"] = secret // Vault repeats the mounts at the top level
	ws.reply("GET /v1/sys/mounts", 200, top)
	var mounted, tuned map[string]any
	ws.handle("POST /v1/sys/mounts/apps", func(w http.ResponseWriter, _ *http.Request, body map[string]any) {
		mounted = body
		w.WriteHeader(204)
	})
	ws.handle("POST /v1/sys/mounts/apps/tune", func(w http.ResponseWriter, _ *http.Request, body map[string]any) {
		tuned = body
		w.WriteHeader(204)
	})
	ws.reply("DELETE /v1/sys/mounts/apps", 204, nil)
	ws.reply("GET /v1/sys/mounts/apps/tune", 200, envelope(map[string]any{"default_lease_ttl": 30, "max_lease_ttl": 60}))
	ws.reply("GET /v1/sys/internal/ui/mounts/secret/app", 200, envelope(map[string]any{
		"path": "secret/", "type": "kv", "options": map[string]any{"version": "2"}}))
	ctx := context.Background()
	c := ws.client(t, "root")

	mounts, err := c.Mounts(ctx)
	if err != nil || len(mounts) != 2 || mounts["secret/"].Options["version"] != "2" || mounts["secret/"].Config.MaxLeaseTTL != 60 {
		t.Fatalf("Mounts = %+v, %v", mounts, err)
	}
	in := &MountInput{Type: "kv", Description: "d", Config: MountConfigInput{DefaultLeaseTTL: "60s"},
		Options: map[string]string{"version": "2"}}
	if err := c.Mount(ctx, "/apps/", in); err != nil {
		t.Fatal(err)
	}
	wantMount := map[string]any{"type": "kv", "description": "d", "config": map[string]any{"default_lease_ttl": "60s"},
		"options": map[string]any{"version": "2"}}
	if !reflect.DeepEqual(mounted, wantMount) {
		t.Errorf("mount body = %v, want %v", mounted, wantMount)
	}
	desc := "new"
	if err := c.TuneMount(ctx, "apps/", MountConfigInput{MaxLeaseTTL: "1h", Description: &desc}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tuned, map[string]any{"max_lease_ttl": "1h", "description": "new"}) {
		t.Errorf("tune body = %v", tuned)
	}
	if cfg, err := c.MountConfig(ctx, "apps"); err != nil || cfg.DefaultLeaseTTL != 30 {
		t.Errorf("MountConfig = %+v, %v", cfg, err)
	}
	if err := c.Unmount(ctx, "apps"); err != nil {
		t.Error(err)
	}
	info, err := c.MountInfoForPath(ctx, "secret/app")
	if err != nil || info.Path != "secret/" || info.KVVersion() != 2 {
		t.Errorf("MountInfoForPath = %+v, %v", info, err)
	}
	if info, err := c.MountInfoForPath(ctx, "nowhere/x"); info != nil || err != nil {
		t.Errorf("unknown mount: %+v, %v; want nil, nil", info, err)
	}
}

// TestAuthMethods checks that the auth table sends the same requests as
// the secrets table, under sys/auth.
func TestAuthMethods(t *testing.T) {
	ws := newWireServer(t)
	up := map[string]any{"type": "userpass", "accessor": "auth_userpass_1", "description": "people",
		"config": map[string]any{"default_lease_ttl": 3600, "max_lease_ttl": 0}}
	ws.reply("GET /v1/sys/auth", 200, envelope(map[string]any{"userpass/": up,
		"token/": map[string]any{"type": "token"}}))
	bodies := map[string]map[string]any{}
	for _, route := range []string{"POST /v1/sys/auth/people", "POST /v1/sys/auth/people/tune", "DELETE /v1/sys/auth/people"} {
		ws.handle(route, func(w http.ResponseWriter, _ *http.Request, body map[string]any) {
			bodies[route] = body
			w.WriteHeader(204)
		})
	}
	ws.reply("GET /v1/sys/auth/people/tune", 200, envelope(map[string]any{"default_lease_ttl": 60, "max_lease_ttl": 120}))
	ctx := context.Background()
	auth := ws.client(t, "root").AuthMethods()

	mounts, err := auth.List(ctx)
	if err != nil || len(mounts) != 2 || mounts["userpass/"].Accessor != "auth_userpass_1" || mounts["userpass/"].Config.DefaultLeaseTTL != 3600 {
		t.Fatalf("List = %+v, %v", mounts, err)
	}
	if err := auth.Enable(ctx, "people/", &MountInput{Type: "userpass", Description: "d"}); err != nil {
		t.Fatal(err)
	}
	desc := "tuned"
	if err := auth.Tune(ctx, "/people", MountConfigInput{DefaultLeaseTTL: "1h", Description: &desc}); err != nil {
		t.Fatal(err)
	}
	if cfg, err := auth.Config(ctx, "people"); err != nil || cfg.MaxLeaseTTL != 120 {
		t.Errorf("Config = %+v, %v", cfg, err)
	}
	if err := auth.Disable(ctx, "people"); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{
		"POST /v1/sys/auth/people":      {"type": "userpass", "description": "d", "config": map[string]any{}},
		"POST /v1/sys/auth/people/tune": {"default_lease_ttl": "1h", "description": "tuned"},
		"DELETE /v1/sys/auth/people":    nil,
	}
	if !reflect.DeepEqual(bodies, want) {
		t.Errorf("request bodies = %v, want %v", bodies, want)
	}
}

func TestPolicies(t *testing.T) {
	ws := newWireServer(t)
	stored := map[string]string{"default": "# default"}
	ws.handle("LIST /v1/sys/policies/acl", func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		keys := []string{}
		for k := range stored {
			keys = append(keys, k)
		}
		writeJSON(w, 200, envelope(map[string]any{"keys": keys}))
	})
	ws.handle("PUT /v1/sys/policies/acl/app", func(w http.ResponseWriter, _ *http.Request, body map[string]any) {
		stored["app"] = body["policy"].(string)
		w.WriteHeader(204)
	})
	ws.handle("GET /v1/sys/policies/acl/app", func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		writeJSON(w, 200, envelope(map[string]any{"name": "app", "policy": stored["app"]}))
	})
	ws.reply("DELETE /v1/sys/policies/acl/app", 204, nil)
	ctx := context.Background()
	c := ws.client(t, "root")

	rules := `path "secret/*" { capabilities = ["read"] }`
	if err := c.PutPolicy(ctx, "app", rules); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetPolicy(ctx, "app"); err != nil || got != rules {
		t.Errorf("GetPolicy = %q, %v", got, err)
	}
	if got, err := c.GetPolicy(ctx, "missing"); err != nil || got != "" {
		t.Errorf("missing policy = %q, %v; want empty, nil", got, err)
	}
	if names, err := c.ListPolicies(ctx); err != nil || !reflect.DeepEqual(names, []string{"app", "default"}) {
		t.Errorf("ListPolicies = %v, %v", names, err)
	}
	if err := c.DeletePolicy(ctx, "app"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "a/b", "..", "x?y"} {
		if err := c.PutPolicy(ctx, bad, rules); err == nil {
			t.Errorf("policy name %q accepted", bad)
		}
	}
}

func TestSecretTokenHelpers(t *testing.T) {
	lookup := &Secret{Data: map[string]any{"id": "tok", "accessor": "acc", "policies": []any{"default", "app"},
		"meta": map[string]any{"team": "x"}, "ttl": jsonNumber("3600"), "renewable": true}}
	auth := &Secret{Auth: &SecretAuth{ClientToken: "tok2", Accessor: "acc2", Policies: []string{"p"},
		Metadata: map[string]string{"a": "b"}, LeaseDuration: 60, Renewable: false}}
	tests := []struct {
		s         *Secret
		id, acc   string
		policies  []string
		meta      map[string]string
		ttl       time.Duration
		renewable bool
	}{
		{lookup, "tok", "acc", []string{"default", "app"}, map[string]string{"team": "x"}, time.Hour, true},
		{auth, "tok2", "acc2", []string{"p"}, map[string]string{"a": "b"}, time.Minute, false},
		{nil, "", "", nil, nil, 0, false},
	}
	for i, tt := range tests {
		if tt.s.TokenID() != tt.id || tt.s.TokenAccessor() != tt.acc || !reflect.DeepEqual(tt.s.TokenPolicies(), tt.policies) ||
			!reflect.DeepEqual(tt.s.TokenMetadata(), tt.meta) || tt.s.TokenTTL() != tt.ttl || tt.s.TokenIsRenewable() != tt.renewable {
			t.Errorf("case %d: helpers disagree with %+v", i, tt)
		}
	}
}

func jsonNumber(s string) any {
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	_ = dec.Decode(&v)
	return v
}
