package httpapi_test

import (
	"context"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

func TestResponseWrapping(t *testing.T) {
	s := testserver.Start(t)
	cfg := vault.DefaultConfig()
	cfg.Address = s.Addr
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(s.RootToken)
	ctx := context.Background()
	if _, err := c.KVv2("secret").Put(ctx, "wrapped", map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}

	// wrap a read, look the token up, unwrap once, refuse a second unwrap
	wc, _ := c.Clone()
	wc.SetToken(s.RootToken)
	wc.SetWrappingLookupFunc(func(op, path string) string { return "5m" })
	sec, err := wc.Logical().Read("secret/data/wrapped")
	if err != nil || sec.WrapInfo == nil || sec.WrapInfo.Token == "" || sec.Data != nil {
		t.Fatalf("wrapped read: %+v, %v", sec, err)
	}
	if sec.WrapInfo.TTL != 300 || sec.WrapInfo.CreationPath != "secret/data/wrapped" {
		t.Fatalf("wrap info: %+v", sec.WrapInfo)
	}
	look, err := c.Logical().Write("sys/wrapping/lookup", map[string]any{"token": sec.WrapInfo.Token})
	if err != nil || look.Data["creation_path"] != "secret/data/wrapped" {
		t.Fatalf("lookup: %+v, %v", look, err)
	}
	// the wrapping token grants nothing else
	other, _ := c.Clone()
	other.SetToken(sec.WrapInfo.Token)
	if _, err := other.Logical().Read("secret/data/wrapped"); err == nil {
		t.Fatal("wrapping token read a secret directly")
	}
	un, err := c.Logical().Unwrap(sec.WrapInfo.Token)
	if err != nil {
		t.Fatalf("unwrap: %v", err)
	}
	if inner, _ := un.Data["data"].(map[string]any); inner["k"] != "v" {
		t.Fatalf("unwrapped data: %+v", un.Data)
	}
	if _, err := c.Logical().Unwrap(sec.WrapInfo.Token); err == nil {
		t.Fatal("second unwrap succeeded")
	}

	// sys/wrapping/wrap + rewrap; a wrapped token creation (as for secret IDs)
	w2, err := wc.Logical().Write("sys/wrapping/wrap", map[string]any{"hello": "world"})
	if err != nil || w2.WrapInfo == nil {
		t.Fatalf("wrap: %+v, %v", w2, err)
	}
	re, err := c.Logical().Write("sys/wrapping/rewrap", map[string]any{"token": w2.WrapInfo.Token})
	if err != nil || re.WrapInfo == nil || re.WrapInfo.Token == w2.WrapInfo.Token {
		t.Fatalf("rewrap: %+v, %v", re, err)
	}
	if _, err := c.Logical().Unwrap(w2.WrapInfo.Token); err == nil {
		t.Fatal("old token still unwraps after rewrap")
	}
	un2, err := c.Logical().Unwrap(re.WrapInfo.Token)
	if err != nil || un2.Data["hello"] != "world" {
		t.Fatalf("unwrap after rewrap: %+v, %v", un2, err)
	}
	tok, err := wc.Logical().Write("auth/token/create", map[string]any{"policies": []string{"default"}})
	if err != nil || tok.WrapInfo == nil || tok.WrapInfo.WrappedAccessor == "" {
		t.Fatalf("wrapped token create: %+v, %v", tok, err)
	}
	unTok, err := c.Logical().Unwrap(tok.WrapInfo.Token)
	if err != nil || unTok.Auth == nil || unTok.Auth.ClientToken == "" || unTok.Auth.Accessor != tok.WrapInfo.WrappedAccessor {
		t.Fatalf("unwrapped token: %+v, %v", unTok, err)
	}
	if r := call(t, s, "GET", "/v1/secret/data/wrapped", s.RootToken, "", "X-Vault-Wrap-TTL", "soon"); r.status != 400 {
		t.Fatalf("bad wrap ttl: %d %s", r.status, r.raw)
	}
}
