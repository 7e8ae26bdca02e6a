package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kinko-dev/kinko/api"
)

// setup prepares a server for a run through the Vault-style API and
// returns an access key of a token that may only read aws-sm/secrets/*
// (so the run pays for a real policy check, not the root shortcut).
func setup(ctx context.Context, hc *http.Client, o *options) (akid, secret string, err error) {
	admin, err := api.NewClient(&api.Config{Address: o.addr, Token: o.setupToken, HTTPClient: hc})
	if err != nil {
		return "", "", err
	}
	mounts, err := admin.Mounts(ctx)
	if err != nil {
		return "", "", fmt.Errorf("list mounts: %w", err)
	}
	if m, ok := mounts["aws-sm/"]; !ok {
		if err := admin.Mount(ctx, "aws-sm", &api.MountInput{Type: "aws-sm"}); err != nil {
			return "", "", fmt.Errorf("mount aws-sm/: %w", err)
		}
	} else if m.Type != "aws-sm" {
		return "", "", fmt.Errorf("aws-sm/ is a %q mount", m.Type)
	}
	pol := `path "aws-sm/secrets/*" { capabilities = ["read"] }
path "sys/aws/access-keys" { capabilities = ["update"] }
`
	if err := admin.PutPolicy(ctx, "awsload", pol); err != nil {
		return "", "", fmt.Errorf("policy: %w", err)
	}
	tok, err := admin.Write(ctx, "auth/token/create", map[string]any{"policies": []string{"awsload"}, "display_name": "awsload"})
	if err != nil {
		return "", "", fmt.Errorf("token: %w", err)
	}
	if tok.TokenID() == "" {
		return "", "", errors.New("token: no client_token in the answer")
	}
	key, err := admin.WithToken(tok.TokenID()).Write(ctx, "sys/aws/access-keys", nil)
	if err != nil {
		return "", "", fmt.Errorf("access key: %w", err)
	}
	akid, _ = key.Data["access_key_id"].(string)
	secret, _ = key.Data["secret_access_key"].(string)
	if !strings.HasPrefix(akid, "KNKO") || secret == "" {
		return "", "", errors.New("access key: unexpected answer")
	}
	if _, err := admin.Write(ctx, "aws-sm/secrets/"+o.secret, map[string]any{"SecretString": o.value}); err != nil {
		return "", "", fmt.Errorf("write secret: %w", err)
	}
	return akid, secret, nil
}
