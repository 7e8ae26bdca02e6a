package core

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func newTestCore(t *testing.T) *Core {
	t.Helper()
	c, err := New(Config{Physical: inmem.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown(context.Background()) })
	return c
}

func TestInitValidation(t *testing.T) {
	cases := []struct {
		shares, threshold int
		ok                bool
	}{
		{5, 3, true}, {1, 1, true}, {0, 0, false}, {256, 3, false}, {3, 4, false}, {3, 1, false}, {3, 0, false},
	}
	for _, tc := range cases {
		c := newTestCore(t)
		_, err := c.Init(context.Background(), SealConfig{SecretShares: tc.shares, SecretThreshold: tc.threshold}, "")
		if (err == nil) != tc.ok {
			t.Errorf("init %d/%d: err = %v", tc.shares, tc.threshold, err)
		}
		if err != nil && !errors.Is(err, logical.ErrInvalidRequest) {
			t.Errorf("init %d/%d: not a user error: %v", tc.shares, tc.threshold, err)
		}
	}
}

func TestUnsealProgress(t *testing.T) {
	ctx := context.Background()
	c := newTestCore(t)
	if _, err := c.Unseal(ctx, make([]byte, 33)); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("unseal before init: %v", err)
	}
	res, err := c.Init(ctx, SealConfig{SecretShares: 3, SecretThreshold: 2}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sealed() {
		t.Fatal("init must leave the core sealed")
	}
	st, err := c.Unseal(ctx, res.Keys[0])
	if err != nil || st.Progress != 1 || !st.Sealed {
		t.Fatalf("first share: %+v %v", st, err)
	}
	if st, _ = c.Unseal(ctx, res.Keys[0]); st.Progress != 1 {
		t.Fatalf("a repeated share counted twice: %+v", st)
	}
	bogus := append([]byte(nil), res.Keys[1]...)
	bogus[0] ^= 0xff
	if _, err := c.Unseal(ctx, bogus); !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("wrong share: %v", err)
	}
	if st, _ := c.SealStatus(ctx); st.Progress != 0 || !st.Sealed {
		t.Fatalf("progress not reset after a failed unseal: %+v", st)
	}
	c.Unseal(ctx, res.Keys[2])
	if st, err := c.Unseal(ctx, res.Keys[1]); err != nil || st.Sealed {
		t.Fatalf("unseal with two good shares: %+v %v", st, err)
	}
	if _, err := c.HandleRequest(ctx, &logical.Request{Operation: logical.ReadOperation, Path: "sys/mounts", ClientToken: res.RootToken}); err != nil {
		t.Fatalf("root token after unseal: %v", err)
	}
	if err := c.Seal(ctx); err != nil || !c.Sealed() {
		t.Fatalf("seal: %v", err)
	}
	if _, err := c.HandleRequest(ctx, &logical.Request{Operation: logical.ReadOperation, Path: "sys/mounts", ClientToken: res.RootToken}); !errors.Is(err, logical.ErrSealed) {
		t.Fatalf("request while sealed: %v", err)
	}
}

func TestRouterMatch(t *testing.T) {
	r := newRouter()
	for _, p := range []string{"secret/", "secret/team/", "auth/token/", "sys/"} {
		r.byPrefix[p] = &routeEntry{prefix: p}
	}
	cases := []struct{ path, prefix, rel string }{
		{"secret/data/a", "secret/", "data/a"},
		{"secret/team/x", "secret/team/", "x"},
		{"secret/team", "secret/team/", ""},
		{"secret", "secret/", ""},
		{"auth/token/lookup-self", "auth/token/", "lookup-self"},
		{"nothing/here", "", ""},
		{"secretive/x", "", ""},
	}
	for _, tc := range cases {
		e, rel := r.match(tc.path)
		got := ""
		if e != nil {
			got = e.prefix
		}
		if got != tc.prefix || rel != tc.rel {
			t.Errorf("match(%q) = %q, %q; want %q, %q", tc.path, got, rel, tc.prefix, tc.rel)
		}
	}
	if c := r.conflict("secret/team/deep/"); c != "secret/" && c != "secret/team/" {
		t.Errorf("conflict not found: %q", c)
	}
}
