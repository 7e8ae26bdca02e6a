package approle

import (
	"bytes"
	"context"
	"encoding/base64"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestSecretIDGenerate(t *testing.T) {
	e := newEnv(t)
	e.role("web", map[string]any{"secret_id_num_uses": 10, "secret_id_ttl": "1h"})
	resp := e.ok(logical.UpdateOperation, "role/web/secret-id", nil)
	d := resp.Data
	if len(d) != 4 || d["secret_id_num_uses"] != 10 || d["secret_id_ttl"] != int64(3600) {
		t.Errorf("data = %v", d)
	}
	sid, acc := d["secret_id"].(string), d["secret_id_accessor"].(string)
	if len(sid) != 36 || len(acc) != 36 || sid == acc {
		t.Errorf("secret_id %q accessor %q are not distinct UUIDs", sid, acc)
	}
	look := e.ok(logical.UpdateOperation, "role/web/secret-id/lookup", map[string]any{"secret_id": sid}).Data
	now := e.clock.Now().UTC()
	want := map[string]any{
		"secret_id_accessor": acc, "secret_id_num_uses": 10, "secret_id_ttl": int64(3600),
		"creation_time": now, "last_updated_time": now, "expiration_time": now.Add(time.Hour),
		"metadata": map[string]string{}, "cidr_list": []string{}, "token_bound_cidrs": []string{},
	}
	if !reflect.DeepEqual(look, want) {
		t.Errorf("lookup = %#v\nwant %#v", look, want)
	}
	byAcc := e.ok(logical.UpdateOperation, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": acc}).Data
	if !reflect.DeepEqual(byAcc, want) {
		t.Errorf("accessor lookup = %#v", byAcc)
	}
}

func TestSecretIDTTLCappedByMount(t *testing.T) {
	e := newEnv(t)
	e.role("web", map[string]any{"secret_id_ttl": "1000h"})
	resp := e.ok(logical.UpdateOperation, "role/web/secret-id", nil)
	if resp.Data["secret_id_ttl"] != int64(768*3600) {
		t.Errorf("secret_id_ttl = %v, want the mount max", resp.Data["secret_id_ttl"])
	}
	req := &logical.Request{Operation: logical.UpdateOperation, Path: "role/web/secret-id", Storage: e.s,
		MountConfig: logical.MountConfig{MaxLeaseTTL: time.Hour}}
	resp, err := e.b.HandleRequest(t.Context(), req)
	if err != nil || resp.Data["secret_id_ttl"] != int64(3600) {
		t.Errorf("tuned mount: %v %v", resp, err)
	}
}

func TestSecretIDSettingsErrors(t *testing.T) {
	e := newEnv(t)
	e.role("web", map[string]any{"secret_id_num_uses": 5, "secret_id_ttl": "1h",
		"secret_id_bound_cidrs": "10.0.0.0/8", "token_bound_cidrs": "10.0.0.0/8"})
	tests := []struct {
		name string
		data map[string]any
		msg  string
	}{
		{"negative num_uses", map[string]any{"num_uses": -1}, "num_uses cannot be negative"},
		{"num_uses above role", map[string]any{"num_uses": 6}, "num_uses cannot be higher than the role's secret_id_num_uses"},
		{"unlimited num_uses on limited role", map[string]any{"num_uses": 0}, "num_uses cannot be higher than the role's secret_id_num_uses"},
		{"ttl above role", map[string]any{"ttl": "2h"}, "ttl cannot be longer than the role's secret_id_ttl"},
		{"no ttl on limited role", map[string]any{"ttl": 0}, "ttl cannot be longer than the role's secret_id_ttl"},
		{"cidr outside role", map[string]any{"cidr_list": "192.0.2.0/24"}, ""},
		{"cidr wider than role", map[string]any{"cidr_list": "10.0.0.0/7"}, ""},
		{"invalid cidr", map[string]any{"cidr_list": "x"}, ""},
		{"token cidr outside role", map[string]any{"token_bound_cidrs": "192.0.2.1"}, ""},
		{"bad metadata", map[string]any{"metadata": `{"a": 1}`}, ""},
		{"bad metadata pairs", map[string]any{"metadata": "novalue"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.fail(logical.UpdateOperation, "role/web/secret-id", tc.data, logical.ErrInvalidRequest, tc.msg)
		})
	}
	e.t = t
	e.fail(logical.UpdateOperation, "role/nope/secret-id", nil, logical.ErrUnsupportedPath, `role "nope" does not exist`)
	if n := e.countKeys(secretIDPrefix); n != 0 {
		t.Errorf("%d secret IDs stored by failed requests", n)
	}
	// Within the limits it works, with a subset of the role's CIDRs.
	e.secret("web", map[string]any{"num_uses": 5, "ttl": "30m", "cidr_list": "10.1.0.0/16,10.2.3.4", "token_bound_cidrs": "10.9.0.0/16"})
}

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		ok   bool
	}{
		{"", map[string]string{}, true},
		{`{"env":"prod","team":"a"}`, map[string]string{"env": "prod", "team": "a"}, true},
		{base64.StdEncoding.EncodeToString([]byte(`{"k":"v"}`)), map[string]string{"k": "v"}, true},
		{"a=b, c = d", map[string]string{"a": "b", "c": "d"}, true},
		{`{"a":1}`, nil, false},
		{`{"a":`, nil, false},
		{"a", nil, false},
		{"=b", nil, false},
	}
	for _, tc := range tests {
		got, err := parseMetadata(tc.in)
		if (err == nil) != tc.ok || (tc.ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("parseMetadata(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestSecretIDCustom(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", nil)
	resp := e.ok(logical.UpdateOperation, "role/web/custom-secret-id", map[string]any{"secret_id": "my-secret", "metadata": "a=b"})
	if resp.Data["secret_id"] != "my-secret" || resp.Data["secret_id_accessor"] == "" {
		t.Errorf("data = %v", resp.Data)
	}
	if a := e.mustLogin(roleID, "my-secret"); a.Metadata["a"] != "b" {
		t.Errorf("metadata = %v", a.Metadata)
	}
	e.fail(logical.UpdateOperation, "role/web/custom-secret-id", map[string]any{"secret_id": "my-secret"},
		logical.ErrInvalidRequest, "secret_id is already registered")
	e.fail(logical.UpdateOperation, "role/web/custom-secret-id", nil, logical.ErrInvalidRequest, "missing secret_id")
	e.fail(logical.UpdateOperation, "role/web/custom-secret-id", map[string]any{"secret_id": " padded"},
		logical.ErrInvalidRequest, "secret_id must not begin or end with whitespace")
	e.fail(logical.UpdateOperation, "role/web/custom-secret-id", map[string]any{"secret_id": strings.Repeat("x", maxInputLength+1)},
		logical.ErrInvalidRequest, "")
}

func TestSecretIDListLookupDestroy(t *testing.T) {
	e := newEnv(t)
	e.role("web", nil)
	e.role("other", nil)
	s1, a1 := e.secret("web", nil)
	s2, a2 := e.secret("web", nil)
	_, aOther := e.secret("other", nil)
	keys := e.ok(logical.ListOperation, "role/web/secret-id/", nil).Data["keys"].([]string)
	sort.Strings(keys)
	want := []string{a1, a2}
	sort.Strings(want)
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("list = %v, want %v", keys, want)
	}
	e.fail(logical.ListOperation, "role/nope/secret-id/", nil, logical.ErrInvalidRequest, `role "nope" does not exist`)

	// Lookups are scoped to the role.
	e.fail(logical.UpdateOperation, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": aOther}, logical.ErrNotFound, "")
	if resp := e.ok(logical.UpdateOperation, "role/web/secret-id/lookup", map[string]any{"secret_id": "unknown"}); resp != nil {
		t.Errorf("lookup of unknown secret = %+v", resp)
	}
	e.fail(logical.UpdateOperation, "role/web/secret-id/lookup", nil, logical.ErrInvalidRequest, "missing secret_id")
	e.fail(logical.UpdateOperation, "role/nope/secret-id/lookup", map[string]any{"secret_id": s1}, logical.ErrInvalidRequest, "")
	e.fail(logical.UpdateOperation, "role/web/secret-id-accessor/destroy", map[string]any{"secret_id_accessor": aOther}, logical.ErrNotFound, "")

	e.ok(logical.UpdateOperation, "role/web/secret-id/destroy", map[string]any{"secret_id": s1})
	e.ok(logical.DeleteOperation, "role/web/secret-id-accessor/destroy", map[string]any{"secret_id_accessor": a2})
	e.ok(logical.UpdateOperation, "role/web/secret-id/destroy", map[string]any{"secret_id": s1}) // already gone
	if resp := e.ok(logical.UpdateOperation, "role/web/secret-id/lookup", map[string]any{"secret_id": s2}); resp != nil {
		t.Errorf("lookup after destroy = %+v", resp)
	}
	if resp, err := e.do(logical.ListOperation, "role/web/secret-id/", nil); err != nil || len(resp.Data["keys"].([]string)) != 0 {
		t.Errorf("list after destroy = %v %v", resp, err)
	}
	if n := e.countKeys(secretIDPrefix) + e.countKeys(accessorPrefix); n != 2 {
		t.Errorf("%d secret/accessor keys, want only the other role's 2", n)
	}
}

func TestSecretIDLookupExpired(t *testing.T) {
	e := newEnv(t)
	e.role("web", nil)
	sid, acc := e.secret("web", map[string]any{"ttl": 60})
	e.clock.Advance(time.Minute)
	if resp := e.ok(logical.UpdateOperation, "role/web/secret-id/lookup", map[string]any{"secret_id": sid}); resp != nil {
		t.Errorf("lookup of expired secret ID = %+v", resp)
	}
	e.fail(logical.UpdateOperation, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": acc}, logical.ErrNotFound, "")
}

func TestLocalSecretIDs(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", map[string]any{"local_secret_ids": true})
	sid, acc := e.secret("web", nil)
	if e.countKeys(secretIDLocalPrefix) != 1 || e.countKeys(accessorLocalPrefix) != 1 || e.countKeys(secretIDPrefix) != 0 {
		t.Errorf("keys = %v", e.keys())
	}
	e.mustLogin(roleID, sid)
	e.ok(logical.UpdateOperation, "role/web/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": acc})
}

// TestStorageHoldsNoPlaintext checks no key or value contains a secret ID,
// a role ID or an accessor in the clear (role IDs only inside the role
// record, as Vault).
func TestStorageHoldsNoPlaintext(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", map[string]any{"role_id": "custom-role-id-123"})
	secrets := []string{"custom-secret-id-456"}
	e.ok(logical.UpdateOperation, "role/web/custom-secret-id", map[string]any{"secret_id": secrets[0]})
	sid, acc := e.secret("web", map[string]any{"num_uses": 3})
	secrets = append(secrets, sid)
	e.mustLogin(roleID, sid)
	for _, k := range e.keys() {
		entry, err := e.s.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(k, s) || bytes.Contains(entry.Value, []byte(s)) {
				t.Errorf("secret ID in clear at %q", k)
			}
		}
		if strings.Contains(k, roleID) || strings.Contains(k, acc) {
			t.Errorf("role ID or accessor in key %q", k)
		}
	}
}

func TestTidy(t *testing.T) {
	e := newEnv(t)
	roleID := e.role("web", nil)
	keep, _ := e.secret("web", nil)
	e.secret("web", map[string]any{"ttl": 60})
	e.secret("web", map[string]any{"ttl": 60})
	// An orphan accessor (as a crash without transactions could leave).
	orphanKey, _ := e.b.saltedKey(context.Background(), e.s, accessorPrefix, "orphan")
	if err := logical.PutJSON(context.Background(), e.s, orphanKey, accessorEntry{SecretIDHMAC: "x", SecretKey: secretIDPrefix + "r/x"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	resp := e.ok(logical.UpdateOperation, "tidy/secret-id", nil)
	if resp.Data["secret_ids_deleted"] != 2 || resp.Data["accessors_deleted"] != 3 {
		t.Errorf("tidy = %v", resp.Data)
	}
	if e.countKeys(secretIDPrefix) != 1 || e.countKeys(accessorPrefix) != 1 {
		t.Errorf("keys after tidy = %v", e.keys())
	}
	e.mustLogin(roleID, keep)
	resp = e.ok(logical.UpdateOperation, "tidy/secret-id", nil)
	if resp.Data["secret_ids_deleted"] != 0 || resp.Data["accessors_deleted"] != 0 {
		t.Errorf("second tidy = %v", resp.Data)
	}
	e.b.tidying.Store(true)
	if resp := e.ok(logical.UpdateOperation, "tidy/secret-id", nil); len(resp.Warnings) != 1 {
		t.Errorf("concurrent tidy = %+v, want a warning", resp)
	}
}

func TestCIDRSubset(t *testing.T) {
	tests := []struct {
		inner, outer []string
		want         bool
	}{
		{[]string{"10.1.0.0/16"}, []string{"10.0.0.0/8"}, true},
		{[]string{"10.1.2.3"}, []string{"10.0.0.0/8"}, true},
		{[]string{"10.0.0.0/8"}, []string{"10.0.0.0/8"}, true},
		{[]string{"10.0.0.0/7"}, []string{"10.0.0.0/8"}, false},
		{[]string{"10.1.0.0/16", "192.0.2.0/24"}, []string{"10.0.0.0/8"}, false},
		{[]string{"10.1.0.0/16", "192.0.2.0/24"}, []string{"10.0.0.0/8", "192.0.0.0/16"}, true},
		{[]string{"2001:db8::/48"}, []string{"2001:db8::/32"}, true},
		{[]string{"::ffff:10.1.0.0/112"}, []string{"10.0.0.0/8"}, true},
		{[]string{"bad"}, []string{"10.0.0.0/8"}, false},
	}
	for _, tc := range tests {
		if got := cidrSubset(tc.inner, tc.outer); got != tc.want {
			t.Errorf("cidrSubset(%v, %v) = %v, want %v", tc.inner, tc.outer, got, tc.want)
		}
	}
}
