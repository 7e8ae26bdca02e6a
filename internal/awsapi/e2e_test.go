package awsapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/testserver"
)

type awsEnv struct {
	srv          *testserver.Server
	admin        *vault.Client
	akid, secret string
	sm           *sm.Client
}

// newAWSEnv starts a server with aws-sm mounted and an access key for a
// token whose policy allows everything under aws-sm/ except secrets
// named private/*.
func newAWSEnv(t testing.TB) *awsEnv {
	t.Helper()
	e := &awsEnv{srv: testserver.Start(t)}
	e.admin = testserver.VaultClient(t, e.srv.Addr, e.srv.RootToken)
	if err := e.admin.Sys().Mount("aws-sm", &vault.MountInput{Type: "aws-sm"}); err != nil {
		t.Fatal(err)
	}
	pol := `path "aws-sm/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "aws-sm/secrets/private/*" { capabilities = ["deny"] }
path "sys/aws/access-keys" { capabilities = ["update"] }`
	if err := e.admin.Sys().PutPolicy("app", pol); err != nil {
		t.Fatal(err)
	}
	tok, err := e.admin.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	app := testserver.VaultClient(t, e.srv.Addr, tok.Auth.ClientToken)
	e.akid, e.secret = testserver.AccessKey(t, app)
	e.sm = e.client(t, e.akid, e.secret)
	return e
}

func (e *awsEnv) client(t testing.TB, akid, secret string) *sm.Client {
	return testserver.SecretsManager(t, e.srv.Addr, akid, secret)
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprintf("not an API error: %v", err)
}

func TestSDKSecretLifecycle(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	tok1 := strings.Repeat("1", 32)
	created, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("prod/db"), SecretString: aws.String(`{"password":"one"}`),
		ClientRequestToken: aws.String(tok1), Description: aws.String("database"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("pay")}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(created.ARN), "arn:kinko:secretsmanager:") || aws.ToString(created.VersionId) != tok1 {
		t.Fatalf("create: %+v", created)
	}
	if _, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("prod/db"), SecretString: aws.String("x")}); code(err) != "ResourceExistsException" {
		t.Fatalf("second create: %v", err)
	}
	tok2 := strings.Repeat("2", 32)
	for i := 0; i < 2; i++ { // idempotent
		put, err := e.sm.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: created.ARN, SecretString: aws.String(`{"password":"two"}`), ClientRequestToken: aws.String(tok2)})
		if err != nil || aws.ToString(put.VersionId) != tok2 {
			t.Fatalf("put %d: %+v %v", i, put, err)
		}
	}
	if _, err := e.sm.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("prod/db"), SecretString: aws.String("other"), ClientRequestToken: aws.String(tok2)}); code(err) != "ResourceExistsException" && code(err) != "InvalidRequestException" {
		t.Fatalf("same token, other value: %v", err)
	}
	got, err := e.sm.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("prod/db")})
	if err != nil || aws.ToString(got.SecretString) != `{"password":"two"}` || got.CreatedDate == nil || time.Since(*got.CreatedDate) > time.Minute {
		t.Fatalf("get current: %+v %v", got, err)
	}
	prev, err := e.sm.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("prod/db"), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil || aws.ToString(prev.SecretString) != `{"password":"one"}` {
		t.Fatalf("get previous: %v", err)
	}
	// move AWSCURRENT back: AWSPREVIOUS follows
	if _, err := e.sm.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("prod/db"),
		VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tok1), RemoveFromVersionId: aws.String(tok2)}); err != nil {
		t.Fatal(err)
	}
	desc, err := e.sm.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("prod/db")})
	if err != nil || desc.VersionIdsToStages[tok1][0] != "AWSCURRENT" || desc.VersionIdsToStages[tok2][0] != "AWSPREVIOUS" || aws.ToString(desc.Description) != "database" {
		t.Fatalf("describe: %+v %v", desc, err)
	}
	if _, err := e.sm.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("prod/db"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.UntagResource(ctx, &sm.UntagResourceInput{SecretId: aws.String("prod/db"), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	del, err := e.sm.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("prod/db"), RecoveryWindowInDays: aws.Int64(7)})
	if err != nil || del.DeletionDate == nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := e.sm.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("prod/db")}); code(err) != "InvalidRequestException" {
		t.Fatalf("get while scheduled for deletion: %v", err)
	}
	if _, err := e.sm.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: aws.String("prod/db")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("nope")}); code(err) != "ResourceNotFoundException" {
		t.Fatalf("missing: %v", err)
	}
	pw, err := e.sm.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(24), ExcludePunctuation: aws.Bool(true)})
	if err != nil || len(aws.ToString(pw.RandomPassword)) != 24 {
		t.Fatalf("random password: %v", err)
	}
}

func TestSDKListPaginationAndBatch(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	for i := 0; i < 25; i++ {
		if _, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(fmt.Sprintf("app/s%02d", i)), SecretString: aws.String("v")}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := sm.NewListSecretsPaginator(e.sm, &sm.ListSecretsInput{MaxResults: aws.Int32(10)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range out.SecretList {
			names = append(names, aws.ToString(s.Name))
		}
	}
	if len(names) != 25 || pages != 3 {
		t.Fatalf("listed %d in %d pages", len(names), pages)
	}
	filtered, err := e.sm.ListSecrets(ctx, &sm.ListSecretsInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"app/s1"}}}})
	if err != nil || len(filtered.SecretList) != 10 {
		t.Fatalf("filter: %d %v", len(filtered.SecretList), err)
	}
	batch, err := e.sm.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"app/s01", "app/s02", "missing"}})
	if err != nil || len(batch.SecretValues) != 2 || len(batch.Errors) != 1 || aws.ToString(batch.Errors[0].ErrorCode) != "ResourceNotFoundException" {
		t.Fatalf("batch: %+v %v", batch, err)
	}
	got := 0
	bp := sm.NewBatchGetSecretValuePaginator(e.sm, &sm.BatchGetSecretValueInput{MaxResults: aws.Int32(4),
		Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"app/s1"}}}})
	for bp.HasMorePages() {
		page, err := bp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got += len(page.SecretValues)
	}
	if got != 10 {
		t.Fatalf("batch by filter: %d secrets", got)
	}
}

func TestSDKRefusals(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	if _, err := e.admin.Logical().Write("aws-sm/secrets/private/key", map[string]any{"SecretString": "s"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("private/key")}); code(err) != "AccessDeniedException" {
		t.Fatalf("outside the policy: %v", err)
	}
	wrong := e.client(t, e.akid, strings.Repeat("x", 40))
	if _, err := wrong.ListSecrets(ctx, &sm.ListSecretsInput{}); code(err) != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v", err)
	}
	unknown := e.client(t, "KNKOAAAAAAAAAAAAAAAA", e.secret)
	if _, err := unknown.ListSecrets(ctx, &sm.ListSecretsInput{}); code(err) != "UnrecognizedClientException" {
		t.Fatalf("unknown key: %v", err)
	}
	// a request signed 6 minutes ago
	status, body := e.signedAt(t, time.Now().Add(-6*time.Minute))
	if status != http.StatusForbidden || !strings.Contains(body, "Signature expired") {
		t.Fatalf("old signature: %d %s", status, body)
	}
	if status, body = e.signedAt(t, time.Now()); status != http.StatusOK {
		t.Fatalf("fresh signature: %d %s", status, body)
	}
	// a body changed after signing
	req := e.signedRequest(t, time.Now(), `{}`)
	req.Body = io.NopCloser(strings.NewReader(`{"MaxResults":1}`))
	req.ContentLength, req.GetBody = int64(len(`{"MaxResults":1}`)), nil
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("tampered body: %d", resp.StatusCode)
	}
}

func (e *awsEnv) signedRequest(t testing.TB, at time.Time, body string) *http.Request {
	return e.signedOp(t, at, "ListSecrets", body)
}

func (e *awsEnv) signedOp(t testing.TB, at time.Time, op, body string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, e.srv.Addr+"/", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager."+op)
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: e.akid, SecretAccessKey: e.secret},
		req, hex.EncodeToString(sum[:]), "secretsmanager", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func (e *awsEnv) signedAt(t *testing.T, at time.Time) (int, string) {
	resp, err := http.DefaultClient.Do(e.signedRequest(t, at, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
