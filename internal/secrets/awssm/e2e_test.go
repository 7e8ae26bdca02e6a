package awssm_test

import (
	"encoding/json"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

func TestVaultAPIOverSecretsManagerSecrets(t *testing.T) {
	srv := testserver.Start(t)
	c := testserver.VaultClient(t, srv.Addr, srv.RootToken)
	if err := c.Sys().Mount("aws-sm", &vault.MountInput{Type: "aws-sm", Options: map[string]string{"region": "eu-west-1", "account_id": "123456789012"}}); err != nil {
		t.Fatal(err)
	}
	w := func(path string, data map[string]any) *vault.Secret {
		t.Helper()
		s, err := c.Logical().Write(path, data)
		if err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		return s
	}
	r := func(path string) *vault.Secret {
		t.Helper()
		s, err := c.Logical().Read(path)
		if err != nil || s == nil {
			t.Fatalf("read %s: %v %v", path, s, err)
		}
		return s
	}
	created := w("aws-sm/secrets/prod/db", map[string]any{"secret_string": `{"password":"one"}`, "Description": "the db",
		"ClientRequestToken": strings.Repeat("a", 32)})
	arn := created.Data["ARN"].(string)
	if !strings.HasPrefix(arn, "arn:kinko:secretsmanager:eu-west-1:123456789012:secret:prod/db-") || created.Data["VersionId"] != strings.Repeat("a", 32) {
		t.Fatalf("create: %v", created.Data)
	}
	// the same write again is PutSecretValue: a new version becomes AWSCURRENT
	w("aws-sm/secrets/prod/db", map[string]any{"SecretString": `{"password":"two"}`})
	cur := r("aws-sm/secrets/prod/db")
	if cur.Data["SecretString"] != `{"password":"two"}` {
		t.Fatalf("current: %v", cur.Data)
	}
	prev, err := c.Logical().ReadWithData("aws-sm/secrets/prod/db", map[string][]string{"version_stage": {"AWSPREVIOUS"}})
	if err != nil || prev.Data["SecretString"] != `{"password":"one"}` {
		t.Fatalf("previous: %v %v", prev, err)
	}
	byARN := r("aws-sm/describe/" + arn)
	stages := byARN.Data["VersionIdsToStages"].(map[string]any)
	if len(stages) != 2 || byARN.Data["Description"] != "the db" {
		t.Fatalf("describe: %v", byARN.Data)
	}
	list, err := c.Logical().List("aws-sm/secrets")
	if err != nil || len(list.Data["keys"].([]any)) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	pw := r("aws-sm/random-password")
	if len(pw.Data["RandomPassword"].(string)) != 32 {
		t.Fatalf("random password: %v", pw.Data)
	}
	// AWS errors come through with their code and the right status
	raw, err := c.Logical().ReadRaw("aws-sm/secrets/missing")
	if err == nil {
		defer raw.Body.Close()
	}
	if raw == nil || raw.StatusCode != 404 {
		t.Fatalf("missing secret: %v %v", raw, err)
	}
	var body struct{ Errors []string }
	if err := json.NewDecoder(raw.Body).Decode(&body); err != nil || len(body.Errors) != 1 || !strings.HasPrefix(body.Errors[0], "ResourceNotFoundException: ") {
		t.Fatalf("missing secret body: %v %v", body, err)
	}
	_, err = c.Logical().Write("aws-sm/secrets/prod/db", map[string]any{"SecretString": strings.Repeat("x", 70000)})
	if err == nil || !strings.Contains(err.Error(), "Code: 400") {
		t.Fatalf("too large: %v", err)
	}
	_, err = c.Logical().Write("aws-sm/secrets/prod/db", map[string]any{"VersionStages": "AWSCURRENT"})
	if err == nil || !strings.Contains(err.Error(), "Code: 400") {
		t.Fatalf("bad type: %v", err)
	}
	// delete with a recovery window, then restore
	del, err := c.Logical().DeleteWithData("aws-sm/secrets/prod/db", map[string][]string{"recovery_window_in_days": {"7"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = del
	if _, err := c.Logical().Read("aws-sm/secrets/prod/db"); err == nil || !strings.Contains(err.Error(), "InvalidRequestException") {
		t.Fatalf("read of a secret scheduled for deletion: %v", err)
	}
	w("aws-sm/restore/prod/db", nil)
	if r("aws-sm/secrets/prod/db").Data["SecretString"] != `{"password":"two"}` {
		t.Fatal("restore")
	}
	// policies apply per secret and per kind of access
	if err := c.Sys().PutPolicy("reader", `path "aws-sm/secrets/prod/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"reader"}})
	if err != nil {
		t.Fatal(err)
	}
	app := testserver.VaultClient(t, srv.Addr, tok.Auth.ClientToken)
	if s, err := app.Logical().Read("aws-sm/secrets/prod/db"); err != nil || s.Data["SecretString"] == nil {
		t.Fatalf("reader: %v", err)
	}
	if _, err := app.Logical().Write("aws-sm/secrets/prod/db", map[string]any{"SecretString": "x"}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("reader writing: %v", err)
	}
	b, _ := json.Marshal(cur.Data)
	if strings.Contains(string(b), "secret_string") {
		t.Fatal("output uses snake_case")
	}
}
