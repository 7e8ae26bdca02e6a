package token

import (
	"slices"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

const (
	update = logical.UpdateOperation
	read   = logical.ReadOperation
	list   = logical.ListOperation
)

func TestCreateResponseAndLookup(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.root, map[string]any{
		"policies": []any{"Web", "stage"}, "meta": map[string]any{"user": "armon"}, "ttl": "1h",
		"display_name": "my app!", "num_uses": 0,
	})
	if a.Accessor == "" || a.TTL != time.Hour || !a.Renewable || a.Orphan || a.TokenType != "service" {
		t.Fatalf("auth = %+v", a)
	}
	if want := []string{"default", "stage", "web"}; !slices.Equal(a.Policies, want) || !slices.Equal(a.TokenPolicies, want) {
		t.Fatalf("policies = %v / %v", a.Policies, a.TokenPolicies)
	}
	if a.Metadata["user"] != "armon" {
		t.Fatalf("metadata = %v", a.Metadata)
	}
	e.clk.Advance(10 * time.Minute)
	d := e.mustCall(update, "lookup", e.root, false, map[string]any{"token": a.ClientToken}).Data
	created := e.clk.Now().Add(-10 * time.Minute)
	want := map[string]any{
		"accessor": a.Accessor, "creation_time": created.Unix(), "creation_ttl": int64(3600),
		"display_name": "token-my-app", "entity_id": "", "expire_time": created.Add(time.Hour),
		"explicit_max_ttl": int64(0), "id": a.ClientToken, "issue_time": created, "num_uses": 0,
		"orphan": false, "path": "auth/token/create", "renewable": true, "ttl": int64(3000), "type": "service",
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("lookup %s = %#v, want %#v", k, d[k], v)
		}
	}
	if !slices.Equal(d["policies"].([]string), a.Policies) || d["meta"].(map[string]string)["user"] != "armon" {
		t.Errorf("lookup policies/meta = %v / %v", d["policies"], d["meta"])
	}
	self := e.mustCall(read, "lookup-self", a.ClientToken, false, nil).Data
	if self["id"] != a.ClientToken || self["accessor"] != a.Accessor {
		t.Errorf("lookup-self = %v", self)
	}
	byAcc := e.mustCall(update, "lookup-accessor", e.root, false, map[string]any{"accessor": a.Accessor}).Data
	if byAcc["id"] != "" || byAcc["accessor"] != a.Accessor || byAcc["display_name"] != "token-my-app" {
		t.Errorf("lookup-accessor = %v", byAcc)
	}
	rootData := e.mustCall(update, "lookup", e.root, false, nil).Data
	if rootData["expire_time"] != nil || rootData["ttl"] != int64(0) || rootData["path"] != "auth/token/root" || rootData["orphan"] != true {
		t.Errorf("root lookup = %v", rootData)
	}
}

func TestLookupErrors(t *testing.T) {
	e := newEnv(t)
	_, err := e.call(update, "lookup", e.root, false, map[string]any{"token": "hvs.unknown"})
	wantErr(t, err, logical.ErrPermissionDenied, "bad token")
	_, err = e.call(update, "lookup-accessor", e.root, false, map[string]any{"accessor": "nope"})
	wantErr(t, err, logical.ErrInvalidRequest, "invalid accessor")
	_, err = e.call(update, "lookup-accessor", e.root, false, nil)
	wantErr(t, err, logical.ErrInvalidRequest, "accessor")
}

func TestCreatePolicyRules(t *testing.T) {
	cases := []struct {
		name     string
		parent   []string // nil: the root token
		sudo     bool
		data     map[string]any
		want     []string
		wantErr  string
		wantKind error
	}{
		{name: "root default is root", data: nil, want: []string{"root"}},
		{name: "root picks any", data: map[string]any{"policies": "a,b"}, want: []string{"a", "b", "default"}},
		{name: "inherit parent", parent: []string{"a", "b"}, want: []string{"a", "b", "default"}},
		{name: "subset ok", parent: []string{"a", "b"}, data: map[string]any{"policies": "a"}, want: []string{"a", "default"}},
		{name: "not subset", parent: []string{"a"}, data: map[string]any{"policies": "a,c"}, wantErr: "child policies must be subset of parent"},
		{name: "sudo escapes subset", parent: []string{"a"}, sudo: true, data: map[string]any{"policies": "c"}, want: []string{"c", "default"}},
		{name: "no default", parent: []string{"a"}, data: map[string]any{"no_default_policy": true}, want: []string{"a"}},
		{name: "only default left", parent: []string{"default"}, data: map[string]any{"no_default_policy": true}, wantErr: "at least one policy"},
		{name: "root needs root parent", parent: []string{"a"}, sudo: true, data: map[string]any{"policies": "root"}, wantErr: "root tokens may not be created"},
		{name: "batch refused", data: map[string]any{"type": "batch"}, wantErr: "batch tokens are not supported"},
		{name: "bad type", data: map[string]any{"type": "weird"}, wantErr: "invalid token type"},
		{name: "negative uses", data: map[string]any{"num_uses": -1}, wantErr: "cannot be negative"},
		{name: "id needs sudo", parent: []string{"a"}, data: map[string]any{"id": "custom"}, wantErr: "root or sudo privileges required to specify token id"},
		{name: "id without dot", data: map[string]any{"id": "a.b"}, wantErr: "can not contain"},
		{name: "period needs sudo", parent: []string{"a"}, data: map[string]any{"period": "1h"}, wantErr: "periodic"},
		{name: "bad ttl", data: map[string]any{"ttl": "soon"}, wantErr: "invalid value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			parent := e.root
			if tc.parent != nil {
				parent = e.create(e.root, map[string]any{"policies": tc.parent}).ClientToken
			}
			resp, err := e.call(update, "create", parent, tc.sudo, tc.data)
			if tc.wantErr != "" {
				wantErr(t, err, logical.ErrInvalidRequest, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.Auth.Policies, tc.want) {
				t.Fatalf("policies = %v, want %v", resp.Auth.Policies, tc.want)
			}
		})
	}
}

func TestCreateOptions(t *testing.T) {
	e := newEnv(t)
	custom := e.create(e.root, map[string]any{"id": "my-token", "policies": "p"})
	if custom.ClientToken != "my-token" || !e.alive("my-token") {
		t.Fatalf("custom id = %+v", custom)
	}
	_, err := e.call(update, "create", e.root, false, map[string]any{"id": "my-token"})
	wantErr(t, err, logical.ErrInvalidRequest, "duplicate")

	orphan := e.create(e.root, map[string]any{"no_parent": true, "policies": "p"})
	if !orphan.Orphan {
		t.Error("no_parent by root must create an orphan")
	}
	user := e.create(e.root, map[string]any{"policies": "p"})
	ignored := e.create(user.ClientToken, map[string]any{"no_parent": true})
	if ignored.Orphan {
		t.Error("no_parent without sudo must be ignored")
	}
	resp := e.mustCall(update, "create-orphan", user.ClientToken, false, nil)
	if !resp.Auth.Orphan || e.lookup(resp.Auth.ClientToken).Parent != "" {
		t.Error("create-orphan must create an orphan without sudo")
	}
	nr := e.create(e.root, map[string]any{"renewable": false, "policies": "p"})
	if nr.Renewable {
		t.Error("renewable=false ignored")
	}
	limited := e.create(e.root, map[string]any{"num_uses": 3, "policies": "p"})
	_, err = e.call(update, "create", limited.ClientToken, false, nil)
	wantErr(t, err, logical.ErrInvalidRequest, "restricted use token")
	_, err = e.call(update, "create", "hvs.nobody", false, nil)
	wantErr(t, err, logical.ErrInvalidRequest, "no parent found")
	withLease := e.create(e.root, map[string]any{"lease": "2h", "policies": "p"})
	if withLease.TTL != 2*time.Hour {
		t.Errorf("deprecated lease ignored: ttl %v", withLease.TTL)
	}
	resp = e.mustCall(update, "create", e.root, false, map[string]any{"ttl": "48h", "policies": "p"})
	if resp.Auth.TTL != 24*time.Hour || len(resp.Warnings) == 0 {
		t.Errorf("ttl above max: ttl %v warnings %v", resp.Auth.TTL, resp.Warnings)
	}
}

func TestMountTuneLimits(t *testing.T) {
	e := newEnv(t)
	req := &logical.Request{
		Operation: update, Path: "create", ClientToken: e.root, Data: map[string]any{"policies": "p"},
		MountConfig: logical.MountConfig{DefaultLeaseTTL: 5 * time.Minute, MaxLeaseTTL: 10 * time.Minute},
	}
	resp, err := e.s.Backend().HandleRequest(ctx(), req)
	if err != nil || resp.Auth.TTL != 5*time.Minute {
		t.Fatalf("tuned default TTL: %v, %+v", err, resp)
	}
}

func TestRenewEndpoints(t *testing.T) {
	e := newEnv(t)
	a := e.create(e.root, map[string]any{"ttl": "1h", "policies": "p"})
	e.clk.Advance(30 * time.Minute)
	resp := e.mustCall(update, "renew-self", a.ClientToken, false, map[string]any{"increment": "2h"})
	if resp.Auth.TTL != 2*time.Hour || resp.Auth.ClientToken != a.ClientToken || resp.Auth.Accessor != a.Accessor {
		t.Fatalf("renew-self auth = %+v", resp.Auth)
	}
	d := e.mustCall(read, "lookup-self", a.ClientToken, false, nil).Data
	if d["ttl"] != int64(7200) || d["creation_ttl"] != int64(3600) || d["last_renewal_time"] != e.clk.Now().Unix() {
		t.Fatalf("after renew: %v", d)
	}
	resp = e.mustCall(update, "renew", e.root, false, map[string]any{"token": a.ClientToken})
	if resp.Auth.TTL != time.Hour {
		t.Fatalf("renew without increment uses the creation TTL, got %v", resp.Auth.TTL)
	}
	resp = e.mustCall(update, "renew/"+a.ClientToken, e.root, false, map[string]any{"increment": 60})
	if resp.Auth.TTL != time.Minute {
		t.Fatalf("renew by URL: %v", resp.Auth.TTL)
	}
	resp = e.mustCall(update, "renew-accessor", e.root, false, map[string]any{"accessor": a.Accessor, "increment": "3h"})
	if resp.Auth.TTL != 3*time.Hour || resp.Auth.ClientToken != "" {
		t.Fatalf("renew-accessor auth = %+v", resp.Auth)
	}
	nr := e.create(e.root, map[string]any{"renewable": false, "policies": "p"})
	_, err := e.call(update, "renew-self", nr.ClientToken, false, nil)
	wantErr(t, err, logical.ErrInvalidRequest, "lease is not renewable")
	_, err = e.call(update, "renew-self", e.root, false, nil)
	wantErr(t, err, logical.ErrInvalidRequest, "lease is not renewable")
	_, err = e.call(update, "renew", e.root, false, nil)
	wantErr(t, err, logical.ErrInvalidRequest, "missing token ID")
	_, err = e.call(update, "renew", e.root, false, map[string]any{"token": "hvs.gone"})
	wantErr(t, err, logical.ErrInvalidRequest, "token not found")
	_, err = e.call(update, "renew-accessor", e.root, false, map[string]any{"accessor": "gone"})
	wantErr(t, err, logical.ErrInvalidRequest, "invalid accessor")
}

func TestRenewUpToMaxTTL(t *testing.T) {
	e := newEnv(t) // max TTL 24h
	a := e.create(e.root, map[string]any{"ttl": "10h", "policies": "p"})
	for i := 0; i < 2; i++ {
		e.clk.Advance(9 * time.Hour)
		e.mustCall(update, "renew-self", a.ClientToken, false, nil)
	}
	// 18h after creation: only 6h left under the 24h max.
	resp := e.mustCall(update, "renew-self", a.ClientToken, false, map[string]any{"increment": "10h"})
	if resp.Auth.TTL != 6*time.Hour || len(resp.Warnings) != 1 {
		t.Fatalf("capped renew: ttl %v warnings %v", resp.Auth.TTL, resp.Warnings)
	}
	e.clk.Advance(6 * time.Hour)
	if e.alive(a.ClientToken) {
		t.Fatal("token outlived its max TTL")
	}
}

func TestPeriodicToken(t *testing.T) {
	e := newEnv(t) // max TTL 24h
	a := e.create(e.root, map[string]any{"period": "2h", "ttl": "10h", "policies": "p"})
	if a.TTL != 2*time.Hour || a.Period != 2*time.Hour {
		t.Fatalf("periodic create: %+v", a)
	}
	for i := 0; i < 30; i++ { // 45h in all: well past the max TTL
		e.clk.Advance(90 * time.Minute)
		resp := e.mustCall(update, "renew-self", a.ClientToken, false, map[string]any{"increment": "10h"})
		if resp.Auth.TTL != 2*time.Hour {
			t.Fatalf("renewal %d: ttl %v, want the period", i, resp.Auth.TTL)
		}
	}
	if d := e.mustCall(read, "lookup-self", a.ClientToken, false, nil).Data; d["period"] != int64(7200) {
		t.Fatalf("lookup period = %v", d["period"])
	}
	b := e.create(e.root, map[string]any{"period": "2h", "explicit_max_ttl": "3h", "policies": "p"})
	e.clk.Advance(90 * time.Minute)
	resp := e.mustCall(update, "renew-self", b.ClientToken, false, nil)
	if resp.Auth.TTL != 90*time.Minute {
		t.Fatalf("explicit max bounds a periodic token: ttl %v", resp.Auth.TTL)
	}
	e.clk.Advance(90 * time.Minute)
	if e.alive(b.ClientToken) {
		t.Fatal("periodic token outlived its explicit max TTL")
	}
}

func TestRevokeEndpoints(t *testing.T) {
	e := newEnv(t)
	parent := e.create(e.root, map[string]any{"policies": "p"})
	child := e.create(parent.ClientToken, nil)
	grand := e.create(child.ClientToken, nil)
	other := e.create(e.root, map[string]any{"policies": "p"})

	resp, err := e.call(update, "revoke", e.root, false, map[string]any{"token": parent.ClientToken})
	if err != nil || resp != nil {
		t.Fatalf("revoke = %+v, %v; want nil response (204)", resp, err)
	}
	for _, raw := range []string{parent.ClientToken, child.ClientToken, grand.ClientToken} {
		if e.alive(raw) {
			t.Fatal("subtree survived revoke")
		}
	}
	if !e.alive(other.ClientToken) || !e.alive(e.root) {
		t.Fatal("revoke touched unrelated tokens")
	}
	_, err = e.call(update, "revoke", e.root, false, nil)
	wantErr(t, err, logical.ErrInvalidRequest, "missing token ID")
	if _, err := e.call(update, "revoke", e.root, false, map[string]any{"token": "hvs.unknown"}); err != nil {
		t.Fatalf("revoking an unknown token: %v", err)
	}

	self := e.create(e.root, map[string]any{"policies": "p"})
	selfKid := e.create(self.ClientToken, nil)
	e.mustCall(update, "revoke-self", self.ClientToken, false, nil)
	if e.alive(self.ClientToken) || e.alive(selfKid.ClientToken) {
		t.Fatal("revoke-self must revoke the caller and its children")
	}

	byAcc := e.create(e.root, map[string]any{"policies": "p"})
	accKid := e.create(byAcc.ClientToken, nil)
	e.mustCall(update, "revoke-accessor", e.root, false, map[string]any{"accessor": byAcc.Accessor})
	if e.alive(byAcc.ClientToken) || e.alive(accKid.ClientToken) {
		t.Fatal("revoke-accessor must revoke the tree")
	}
	_, err = e.call(update, "revoke-accessor", e.root, false, map[string]any{"accessor": byAcc.Accessor})
	wantErr(t, err, logical.ErrInvalidRequest, "invalid accessor")
}

func TestRevokeOrphanEndpoint(t *testing.T) {
	e := newEnv(t)
	parent := e.create(e.root, map[string]any{"policies": "p"})
	kid := e.create(parent.ClientToken, nil)
	grand := e.create(kid.ClientToken, nil)
	user := e.create(e.root, map[string]any{"policies": "p"})

	_, err := e.call(update, "revoke-orphan", user.ClientToken, false, map[string]any{"token": parent.ClientToken})
	wantErr(t, err, logical.ErrPermissionDenied, "sudo")
	e.mustCall(update, "revoke-orphan", user.ClientToken, true, map[string]any{"token": parent.ClientToken})
	if e.alive(parent.ClientToken) {
		t.Fatal("revoke-orphan left the token alive")
	}
	k := e.lookup(kid.ClientToken)
	if k == nil || !k.Orphan || k.Parent != "" {
		t.Fatalf("child must survive as an orphan: %+v", k)
	}
	if g := e.lookup(grand.ClientToken); g == nil || g.Parent != k.Hash {
		t.Fatal("grandchild must keep its parent")
	}
	if d := e.mustCall(read, "lookup-self", kid.ClientToken, false, nil).Data; d["orphan"] != true {
		t.Fatal("lookup must show the orphan")
	}
	// The orphaned child still owns its subtree.
	e.mustCall(update, "revoke-orphan/"+kid.ClientToken, e.root, false, nil)
	if !e.alive(grand.ClientToken) {
		t.Fatal("revoke-orphan by URL revoked the grandchild")
	}
}

func TestAccessorsList(t *testing.T) {
	e := newEnv(t)
	var want []string
	want = append(want, e.lookup(e.root).Accessor)
	for i := 0; i < 3; i++ {
		want = append(want, e.create(e.root, map[string]any{"policies": "p"}).Accessor)
	}
	slices.Sort(want)
	got := e.mustCall(list, "accessors/", e.root, true, nil).Data["keys"].([]string)
	if !slices.Equal(got, want) {
		t.Fatalf("accessors = %v, want %v", got, want)
	}
	special := e.s.Backend().(logical.SpecialPathsProvider).SpecialPaths()
	if !slices.Contains(special.Root, "accessors") || !slices.Contains(special.Root, "revoke-orphan") {
		t.Fatalf("sudo paths = %v", special.Root)
	}
}

func TestTidyEndpoint(t *testing.T) {
	e := newEnv(t)
	e.create(e.root, map[string]any{"ttl": "1h", "policies": "p"})
	e.clk.Advance(2 * time.Hour)
	resp := e.mustCall(update, "tidy", e.root, true, nil)
	if resp == nil || len(resp.Warnings) != 1 {
		t.Fatalf("tidy response = %+v", resp)
	}
	if ks := e.keys("id/"); len(ks) != 1 {
		t.Fatalf("entries after tidy: %v", ks)
	}
}
