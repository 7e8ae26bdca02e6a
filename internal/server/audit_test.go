package server_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/audit"
	"github.com/kinko-dev/kinko/internal/server"
	"github.com/kinko-dev/kinko/internal/testserver"
)

func auditServer(t *testing.T) (*testserver.Server, *vault.Client, string) {
	t.Helper()
	dir := t.TempDir()
	ts := testserver.StartWith(t, server.DevOptions{AuditDir: dir})
	c := testserver.VaultClient(t, ts.Addr, ts.RootToken)
	logPath := filepath.Join(dir, "audit.log")
	if err := c.Sys().EnableAuditWithOptions("file", &vault.EnableAuditOptions{
		Type: "file", Description: "test log", Options: map[string]string{"file_path": logPath},
	}); err != nil {
		t.Fatal(err)
	}
	return ts, c, logPath
}

// TestAuditNoPlaintext runs a KV and auth workflow and checks that no value
// written, no password and no token appears in the audit log, that the log
// can be searched with sys/audit-hash, and that its chain verifies.
func TestAuditNoPlaintext(t *testing.T) {
	ts, c, logPath := auditServer(t)
	ctx := context.Background()
	secrets := []string{ts.RootToken, "correct-horse-battery", "wrong-password-attempt", "db-pass-5f2a9", "api-key-77c1", "271828182"}
	must(t, c.Sys().EnableAuthWithOptions("userpass", &vault.EnableAuthOptions{Type: "userpass"}))
	_, err := c.Logical().Write("auth/userpass/users/alice", map[string]any{"password": secrets[1], "token_policies": "default"})
	must(t, err)
	login, err := c.Logical().Write("auth/userpass/login/alice", map[string]any{"password": secrets[1]})
	must(t, err)
	secrets = append(secrets, login.Auth.ClientToken, login.Auth.Accessor)
	if _, err := c.Logical().Write("auth/userpass/login/alice", map[string]any{"password": secrets[2]}); err == nil {
		t.Fatal("wrong password accepted")
	}
	_, err = c.KVv2("secret").Put(ctx, "app", map[string]any{"db_password": secrets[3], "api_key": secrets[4], "pin": 271828182})
	must(t, err)
	got, err := c.KVv2("secret").Get(ctx, "app")
	must(t, err)
	if got.Data["db_password"] != secrets[3] {
		t.Fatalf("read back %v", got.Data)
	}
	child, err := c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"default"}})
	must(t, err)
	secrets = append(secrets, child.Auth.ClientToken, child.Auth.Accessor)
	limited := testserver.VaultClient(t, ts.Addr, ts.RootToken)
	limited.SetToken(child.Auth.ClientToken)
	if _, err := limited.Logical().Read("secret/data/app"); err == nil {
		t.Fatal("default policy read a secret")
	}
	log, err := os.ReadFile(logPath)
	must(t, err)
	for _, s := range secrets {
		if bytes.Contains(log, []byte(s)) {
			t.Errorf("audit log contains the plaintext %q", s)
		}
	}
	for _, s := range []string{secrets[1], secrets[3], secrets[4], "271828182", ts.RootToken} {
		h, err := c.Sys().AuditHash("file", s)
		must(t, err)
		if !strings.HasPrefix(h, audit.HashPrefix) || !bytes.Contains(log, []byte(h)) {
			t.Errorf("audit-hash of a logged value (%s) not found in the log", h)
		}
	}
	for _, want := range []string{`"path":"secret/data/app"`, `"path":"auth/userpass/login/alice"`, `"error":"permission denied"`,
		`"mount_type":"kv"`, `"remote_address":"127.0.0.1"`, `"error":"invalid username or password"`} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	verifyLog(t, c, "file", logPath)
}

// verifyLog checks the log's hash chain against the device's key and head.
func verifyLog(t *testing.T, c *vault.Client, device, path string) {
	t.Helper()
	chain, err := c.Logical().Read("sys/audit-chain/" + device)
	must(t, err)
	key, _ := hex.DecodeString(chain.Data["chain_key"].(string))
	log, err := os.ReadFile(path)
	must(t, err)
	rep, err := audit.Verify(bytes.NewReader(log), key, nil)
	must(t, err)
	if rep.Broken != 0 || rep.FirstSeq != 1 {
		t.Fatalf("verify: %+v", rep)
	}
	// The head was taken while serving the chain read, whose request and
	// response entries (a read's are written together) follow it.
	seq, _ := chain.Data["seq"].(json.Number).Int64()
	lines := bytes.SplitAfter(log, []byte("\n"))
	upTo, err := audit.Verify(bytes.NewReader(bytes.Join(lines[:seq], nil)), key, nil)
	must(t, err)
	if rep.Lines != int(seq)+2 || upTo.Last.HMAC != chain.Data["head_hmac"] {
		t.Fatalf("%d lines, device head %v, verified head %+v", rep.Lines, chain.Data, upTo.Last)
	}
}

func TestAuditDevicesAPI(t *testing.T) {
	ts, c, logPath := auditServer(t)
	list, err := c.Sys().ListAudit()
	must(t, err)
	if d := list["file/"]; d == nil || d.Type != "file" || d.Options["file_path"] != logPath || d.Description != "test log" {
		t.Fatalf("list = %+v", list)
	}
	for _, tc := range []struct {
		name string
		opts *vault.EnableAuditOptions
		want string
	}{
		{"outside audit_dir", &vault.EnableAuditOptions{Type: "file", Options: map[string]string{"file_path": "/etc/kinko-audit.log"}}, "below the audit directory"},
		{"no type", &vault.EnableAuditOptions{Options: map[string]string{"file_path": logPath}}, "type is required"},
		{"bad type", &vault.EnableAuditOptions{Type: "carrier-pigeon"}, "unknown device type"},
		{"used path", &vault.EnableAuditOptions{Type: "file", Options: map[string]string{"file_path": logPath + "2"}}, "already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "other"
			if tc.name == "used path" {
				path = "file"
			}
			err := c.Sys().EnableAuditWithOptions(path, tc.opts)
			var re *vault.ResponseError
			if !errors.As(err, &re) || re.StatusCode != 400 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want 400 %q", err, tc.want)
			}
		})
	}
	// sys/audit needs sudo: a default-policy token is refused.
	tok, err := c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"default"}})
	must(t, err)
	limited := testserver.VaultClient(t, ts.Addr, ts.RootToken)
	limited.SetToken(tok.Auth.ClientToken)
	if _, err := limited.Sys().ListAudit(); err == nil {
		t.Fatal("default token listed audit devices")
	}
	must(t, c.Sys().DisableAudit("file"))
	before, _ := os.ReadFile(logPath)
	_, _ = c.Logical().Read("secret/data/nothing")
	after, _ := os.ReadFile(logPath)
	if len(after) != len(before) {
		t.Fatal("a disabled device still writes")
	}
}

// TestAuditFailClosed makes the only audit device unable to write: every
// request is then refused with 500 and none is served, until it recovers.
func TestAuditFailClosed(t *testing.T) {
	ts, c, logPath := auditServer(t)
	ctx := context.Background()
	_, err := c.KVv2("secret").Put(ctx, "app", map[string]any{"v": "1"})
	must(t, err)
	must(t, os.Remove(logPath))
	must(t, os.Mkdir(logPath, 0o700)) // unwritable even for root
	if err := ts.Core.ReopenAudit(); err == nil {
		t.Fatal("reopen succeeded")
	}
	_, err = c.KVv2("secret").Put(ctx, "app", map[string]any{"v": "2"})
	var re *vault.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 500 {
		t.Fatalf("write with a broken audit device: %v, want 500", err)
	}
	must(t, os.Remove(logPath))
	got, err := c.KVv2("secret").Get(ctx, "app")
	must(t, err)
	if got.Data["v"] != "1" || got.VersionMetadata.Version != 1 {
		t.Fatalf("the refused write happened: %+v", got.Data)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuditAWSRequests: requests through the AWS front end are audited
// like any other, with the access key that signed them and no secret.
func TestAuditAWSRequests(t *testing.T) {
	ts, c, logPath := auditServer(t)
	if err := c.Sys().Mount("aws-sm", &vault.MountInput{Type: "aws-sm"}); err != nil {
		t.Fatal(err)
	}
	akid, secret := testserver.AccessKey(t, c)
	client := testserver.SecretsManager(t, ts.Addr, akid, secret)
	ctx := context.Background()
	value := "aws-value-8c1f2e"
	if _, err := client.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("audited"), SecretString: aws.String(value)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("audited")}); err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(logPath)
	must(t, err)
	if bytes.Contains(log, []byte(value)) || bytes.Contains(log, []byte(secret)) {
		t.Fatal("the audit log holds a secret value or the access key's secret")
	}
	var found bool
	for _, line := range bytes.Split(log, []byte("\n")) {
		if bytes.Contains(line, []byte(`"path":"aws-sm/secrets/audited"`)) && bytes.Contains(line, []byte(`"operation":"read"`)) &&
			bytes.Contains(line, []byte(`"access_key_id":"`+akid+`"`)) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit entry of the GetSecretValue with access_key_id %s:\n%s", akid, log)
	}
}
