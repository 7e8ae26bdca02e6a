package testserver

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	vault "github.com/hashicorp/vault/api"
)

// AccessKey issues a kinko access key (sys/aws/access-keys) for the
// token c uses and returns its ID and secret.
func AccessKey(t testing.TB, c *vault.Client) (id, secret string) {
	t.Helper()
	key, err := c.Logical().Write("sys/aws/access-keys", nil)
	if err != nil {
		t.Fatal(err)
	}
	return key.Data["access_key_id"].(string), key.Data["secret_access_key"].(string)
}

// SecretsManager returns the official AWS SDK client for kinko's
// Secrets Manager-compatible API at addr, signing with the given access
// key and never retrying (tests want the first answer).
func SecretsManager(t testing.TB, addr, akid, secret string) *sm.Client {
	t.Helper()
	c, err := NewSecretsManager(addr, akid, secret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewSecretsManager is SecretsManager for code outside a test (a hook
// program a test runs).
func NewSecretsManager(addr, akid, secret string) (*sm.Client, error) {
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("eu-central-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(akid, secret, "")),
		config.WithRetryMaxAttempts(1))
	if err != nil {
		return nil, err
	}
	return sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = aws.String(addr) }), nil
}
