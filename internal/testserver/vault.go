package testserver

import (
	"context"
	"testing"

	vault "github.com/hashicorp/vault/api"
)

// VaultClient returns an official Vault API client for addr that uses
// token and never retries (tests want the first answer).
func VaultClient(t testing.TB, addr, token string) *vault.Client {
	t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// AuthE2E is a running server with an auth method mounted at its type
// name, a "reader" policy (read on secret/data/allowed) and two KV v2
// secrets, "allowed" and "denied", driven through the official Vault client
// with the root token (Admin).
type AuthE2E struct {
	T     testing.TB
	Srv   *Server
	Admin *vault.Client
}

// NewAuthE2E builds the fixture for auth method type methodType.
func NewAuthE2E(t testing.TB, methodType string) *AuthE2E {
	t.Helper()
	srv := Start(t)
	e := &AuthE2E{T: t, Srv: srv, Admin: VaultClient(t, srv.Addr, srv.RootToken)}
	ctx := context.Background()
	if err := e.Admin.Sys().EnableAuthWithOptionsWithContext(ctx, methodType, &vault.EnableAuthOptions{Type: methodType}); err != nil {
		t.Fatalf("enable %s: %v", methodType, err)
	}
	if err := e.Admin.Sys().PutPolicyWithContext(ctx, "reader", `path "secret/data/allowed" { capabilities = ["read"] }`); err != nil {
		t.Fatalf("put policy: %v", err)
	}
	for _, p := range []string{"allowed", "denied"} {
		if _, err := e.Admin.KVv2("secret").Put(ctx, p, map[string]any{"v": p}); err != nil {
			t.Fatalf("put %s: %v", p, err)
		}
	}
	return e
}

// Write writes with the root token, failing the test on error.
func (e *AuthE2E) Write(path string, data map[string]any) *vault.Secret {
	e.T.Helper()
	s, err := e.Admin.Logical().Write(path, data)
	if err != nil {
		e.T.Fatalf("write %s: %v", path, err)
	}
	return s
}

// Read reads with the root token, failing the test on error.
func (e *AuthE2E) Read(path string) *vault.Secret {
	e.T.Helper()
	s, err := e.Admin.Logical().Read(path)
	if err != nil {
		e.T.Fatalf("read %s: %v", path, err)
	}
	return s
}
