package awssm_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/hooksig"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// rotEnv is a server with aws-sm mounted, driven through the Vault client
// (root) and the AWS SDK (an access key of the root token).
type rotEnv struct {
	t     *testing.T
	srv   *testserver.Server
	admin *vault.Client
	sm    *sm.Client
	akid  string
	skey  string
}

func newRotEnv(t *testing.T) *rotEnv {
	t.Helper()
	e := &rotEnv{t: t, srv: testserver.Start(t)}
	e.admin = testserver.VaultClient(t, e.srv.Addr, e.srv.RootToken)
	if err := e.admin.Sys().Mount("aws-sm", &vault.MountInput{Type: "aws-sm"}); err != nil {
		t.Fatal(err)
	}
	e.akid, e.skey = testserver.AccessKey(t, e.admin)
	e.sm = testserver.SecretsManager(t, e.srv.Addr, e.akid, e.skey)
	return e
}

func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprintf("not an API error: %v", err)
}

// status reads aws-sm/rotation/<name>.
func (e *rotEnv) status(name string) map[string]any {
	e.t.Helper()
	s, err := e.admin.Logical().Read("aws-sm/rotation/" + name)
	if err != nil || s == nil {
		e.t.Fatalf("rotation status of %s: %v %v", name, s, err)
	}
	return s.Data
}

// waitRotation polls the rotation status until cond holds.
func (e *rotEnv) waitRotation(name string, cond func(map[string]any) bool) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := e.status(name)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("rotation of %s: condition not reached; last status %v", name, st)
		}
		time.Sleep(20 * time.Millisecond) // polling the server's state
	}
}

func rotatedSince(t0 time.Time) func(map[string]any) bool {
	return func(st map[string]any) bool {
		last, _ := time.Parse(time.RFC3339, fmt.Sprint(st["LastRotatedDate"]))
		return st["Status"] == "idle" && !last.Before(t0.Truncate(time.Second))
	}
}

func failedAt(step string) func(map[string]any) bool {
	return func(st map[string]any) bool { return st["Status"] == "failed" && st["FailedStep"] == step }
}

// lambda is a rotation function written as AWS's templates are, over the
// AWS SDK: createSecret puts "rotated-<token>" as AWSPENDING, finishSecret
// moves AWSCURRENT; failAt makes a step fail.
type lambda struct {
	sm *sm.Client
	// newValue and set, when not nil, make the pending value and carry
	// out setSecret (a database rotation); by default the value is
	// "rotated-<token>" and setSecret does nothing.
	newValue func(ctx context.Context, ev event) (string, error)
	set      func(ctx context.Context, ev event) error

	mu     sync.Mutex
	steps  []string
	failAt string
}

func (l *lambda) setFail(step string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failAt = step
}

func (l *lambda) calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.steps)
}

type event struct{ SecretId, ClientRequestToken, Step string }

func (l *lambda) handle(ctx context.Context, ev event) error {
	l.mu.Lock()
	l.steps = append(l.steps, ev.Step)
	fail := l.failAt == ev.Step
	l.mu.Unlock()
	if fail {
		return fmt.Errorf("the database refused the new password at %s", ev.Step)
	}
	switch ev.Step {
	case "createSecret":
		_, err := l.sm.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: &ev.SecretId, VersionId: &ev.ClientRequestToken, VersionStage: aws.String("AWSPENDING")})
		if err == nil {
			return nil
		}
		value := "rotated-" + ev.ClientRequestToken
		if l.newValue != nil {
			if value, err = l.newValue(ctx, ev); err != nil {
				return err
			}
		}
		_, err = l.sm.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: &ev.SecretId, ClientRequestToken: &ev.ClientRequestToken,
			SecretString: &value, VersionStages: []string{"AWSPENDING"}})
		return err
	case "setSecret":
		if l.set != nil {
			return l.set(ctx, ev)
		}
		return nil
	case "testSecret":
		return nil
	case "finishSecret":
		desc, err := l.sm.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: &ev.SecretId})
		if err != nil {
			return err
		}
		for id, stages := range desc.VersionIdsToStages {
			if slices.Contains(stages, "AWSCURRENT") {
				if id == ev.ClientRequestToken {
					return nil
				}
				_, err = l.sm.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: &ev.SecretId,
					VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: &ev.ClientRequestToken, RemoveFromVersionId: aws.String(id)})
				return err
			}
		}
		return errors.New("no AWSCURRENT version")
	}
	return fmt.Errorf("unknown step %q", ev.Step)
}

// httpHook serves l as an HTTP rotation hook that checks kinko's
// signature with the key of hook name, read after registration.
func (e *rotEnv) httpHook(name string, l *lambda) {
	e.t.Helper()
	var key []byte
	var keyMu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		keyMu.Lock()
		k := key
		keyMu.Unlock()
		ts := r.Header.Get(hooksig.TimestampHeader)
		if err := hooksig.VerifySignature(k, ts, body, r.Header.Get(hooksig.SignatureHeader)); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if err := hooksig.CheckTimestamp(ts, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "stale", http.StatusUnauthorized)
			return
		}
		var ev event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		if err := l.handle(r.Context(), ev); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	e.t.Cleanup(srv.Close)
	h, err := e.admin.Logical().Write("aws-sm/hooks/"+name, map[string]any{"type": "http", "url": srv.URL, "timeout": "10s"})
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := base64.StdEncoding.DecodeString(h.Data["signing_key"].(string))
	if err != nil || len(k) != 32 {
		e.t.Fatalf("signing key: %v %v", h.Data, err)
	}
	keyMu.Lock()
	key = k
	keyMu.Unlock()
}

func (e *rotEnv) value(name, stage string) string {
	e.t.Helper()
	out, err := e.sm.GetSecretValue(context.Background(), &sm.GetSecretValueInput{SecretId: &name, VersionStage: &stage})
	if err != nil {
		e.t.Fatalf("get %s %s: %v", name, stage, err)
	}
	return aws.ToString(out.SecretString)
}

func TestRotationThroughHTTPHook(t *testing.T) {
	e := newRotEnv(t)
	ctx := context.Background()
	l := &lambda{sm: e.sm}
	e.httpHook("rotator", l)
	name := "app/api-key"
	if _, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: &name, SecretString: aws.String("v0")}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	rot, err := e.sm.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: &name,
		RotationLambdaARN: aws.String("arn:aws:lambda:eu-central-1:123456789012:function:rotator"),
		RotationRules:     &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}})
	if err != nil {
		t.Fatal(err)
	}
	token := aws.ToString(rot.VersionId)
	e.waitRotation(name, rotatedSince(t0))
	if got := e.value(name, "AWSCURRENT"); got != "rotated-"+token {
		t.Fatalf("AWSCURRENT = %q, want the rotated value of version %s", got, token)
	}
	if got := e.value(name, "AWSPREVIOUS"); got != "v0" {
		t.Fatalf("AWSPREVIOUS = %q", got)
	}
	if got, want := l.calls(), []string{"createSecret", "setSecret", "testSecret", "finishSecret"}; !slices.Equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	desc, err := e.sm.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: &name})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(desc.RotationEnabled) || desc.LastRotatedDate == nil || desc.NextRotationDate == nil ||
		desc.NextRotationDate.Sub(*desc.LastRotatedDate) < 29*24*time.Hour || desc.NextRotationDate.Sub(*desc.LastRotatedDate) > 31*24*time.Hour {
		t.Fatalf("rotation dates: enabled %v last %v next %v", desc.RotationEnabled, desc.LastRotatedDate, desc.NextRotationDate)
	}
	for id, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, "AWSPENDING") {
			t.Fatalf("AWSPENDING left on %s after a finished rotation: %v", id, desc.VersionIdsToStages)
		}
	}

	// a failing testSecret: AWSCURRENT stays, AWSPENDING stays for the
	// retry, the failure is reported
	l.setFail("testSecret")
	rot2, err := e.sm.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: &name})
	if err != nil {
		t.Fatal(err)
	}
	token2 := aws.ToString(rot2.VersionId)
	st := e.waitRotation(name, failedAt("testSecret"))
	if !strings.Contains(fmt.Sprint(st["LastError"]), "the database refused the new password at testSecret") ||
		st["ClientRequestToken"] != token2 || st["NextAttempt"] == nil {
		t.Fatalf("failure report: %v", st)
	}
	if got := e.value(name, "AWSCURRENT"); got != "rotated-"+token {
		t.Fatalf("AWSCURRENT moved by a failed rotation: %q", got)
	}
	if got := e.value(name, "AWSPENDING"); got != "rotated-"+token2 {
		t.Fatalf("AWSPENDING = %q, want the failed rotation's version", got)
	}
	// RotateSecret while a rotation is unfinished: refused, and the
	// rotation is retried at once with its token
	l.setFail("")
	t1 := time.Now()
	if _, err := e.sm.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: &name}); awsCode(err) != "InvalidRequestException" {
		t.Fatalf("rotate during a failed rotation: %v", err)
	}
	e.waitRotation(name, rotatedSince(t1))
	if got := e.value(name, "AWSCURRENT"); got != "rotated-"+token2 {
		t.Fatalf("retried rotation: AWSCURRENT = %q, want version %s", got, token2)
	}
}

// TestMain makes the test binary a rotation hook when run by kinko as
// one (exec hooks): it reads the event on stdin and rotates with the AWS
// SDK, with the address and key it finds in its environment.
func TestMain(m *testing.M) {
	if os.Getenv("KINKO_TEST_EXEC_HOOK") == "1" {
		os.Exit(runExecHook())
	}
	os.Exit(m.Run())
}

func runExecHook() int {
	var ev event
	if err := json.NewDecoder(os.Stdin).Decode(&ev); err != nil {
		fmt.Fprintln(os.Stderr, "bad event:", err)
		return 2
	}
	if ev.Step != os.Getenv("KINKO_ROTATION_STEP") || ev.ClientRequestToken != os.Getenv("KINKO_ROTATION_CLIENT_REQUEST_TOKEN") {
		fmt.Fprintln(os.Stderr, "environment and stdin disagree")
		return 2
	}
	if ev.Step == os.Getenv("KINKO_TEST_FAIL_AT") {
		fmt.Fprintln(os.Stderr, "hook refuses", ev.Step)
		return 1
	}
	c, err := testserver.NewSecretsManager(os.Getenv("KINKO_TEST_ADDR"), os.Getenv("KINKO_TEST_AKID"), os.Getenv("KINKO_TEST_SKEY"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l := &lambda{sm: c}
	if err := l.handle(context.Background(), ev); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestRotationThroughExecHook(t *testing.T) {
	e := newRotEnv(t)
	ctx := context.Background()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KINKO_TEST_EXEC_HOOK", "1")
	t.Setenv("KINKO_TEST_ADDR", e.srv.Addr)
	t.Setenv("KINKO_TEST_AKID", e.akid)
	t.Setenv("KINKO_TEST_SKEY", e.skey)
	t.Setenv("KINKO_TEST_FAIL_AT", "setSecret")
	if _, err := e.admin.Logical().Write("aws-sm/hooks/local", map[string]any{"type": "exec", "command": []string{exe, "-test.run=^$"}}); err != nil {
		t.Fatal(err)
	}
	name := "batch/token"
	if _, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: &name, SecretString: aws.String("v0")}); err != nil {
		t.Fatal(err)
	}
	rot, err := e.sm.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: &name, RotationLambdaARN: aws.String("local"),
		RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)")}})
	if err != nil {
		t.Fatal(err)
	}
	st := e.waitRotation(name, failedAt("setSecret"))
	if !strings.Contains(fmt.Sprint(st["LastError"]), "hook refuses setSecret") {
		t.Fatalf("exec hook failure report: %v", st)
	}
	if got := e.value(name, "AWSCURRENT"); got != "v0" {
		t.Fatalf("AWSCURRENT after a failed setSecret: %q", got)
	}
	t.Setenv("KINKO_TEST_FAIL_AT", "")
	t1 := time.Now()
	if _, err := e.sm.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: &name}); awsCode(err) != "InvalidRequestException" {
		t.Fatalf("rotate during a failed rotation: %v", err)
	}
	e.waitRotation(name, rotatedSince(t1))
	if got := e.value(name, "AWSCURRENT"); got != "rotated-"+aws.ToString(rot.VersionId) {
		t.Fatalf("AWSCURRENT = %q", got)
	}
	// CancelRotateSecret turns rotation off
	if _, err := e.sm.CancelRotateSecret(ctx, &sm.CancelRotateSecretInput{SecretId: &name}); err != nil {
		t.Fatal(err)
	}
	if st := e.status(name); st["RotationEnabled"] != false || st["Status"] != "idle" {
		t.Fatalf("after cancel: %v", st)
	}
}

func TestRotationHookValidation(t *testing.T) {
	e := newRotEnv(t)
	ctx := context.Background()
	name := "x"
	if _, err := e.sm.CreateSecret(ctx, &sm.CreateSecretInput{Name: &name, SecretString: aws.String("v0")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		arn, code string
	}{
		{"missing-hook", "InvalidParameterException"},
		{"arn:aws:lambda:eu-central-1:1:function:missing", "InvalidParameterException"},
		{"arn:aws:s3:::bucket", "InvalidParameterException"},
		{"bad name!", "InvalidParameterException"},
	} {
		if _, err := e.sm.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: &name, RotationLambdaARN: &tc.arn}); awsCode(err) != tc.code {
			t.Errorf("RotationLambdaARN %q: %v, want %s", tc.arn, err, tc.code)
		}
	}
	for _, tc := range []struct {
		data map[string]any
		want string
	}{
		{map[string]any{"type": "exec", "command": []string{"relative/prog"}}, "absolute path"},
		{map[string]any{"type": "http", "url": "ftp://example.com/"}, "http or https"},
		{map[string]any{"type": "http", "url": "https://user:pw@example.com/"}, "credentials"},
		{map[string]any{"type": "smtp"}, `"http" or "exec"`},
		{map[string]any{"type": "http", "url": "https://example.com/", "timeout": "1h"}, "timeout"},
	} {
		if _, err := e.admin.Logical().Write("aws-sm/hooks/h", tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("hook %v: %v, want an error about %q", tc.data, err, tc.want)
		}
	}
	// registering a hook needs sudo
	if err := e.admin.Sys().PutPolicy("all-aws-sm", `path "aws-sm/*" { capabilities = ["create", "read", "update", "delete", "list"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := e.admin.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"all-aws-sm"}})
	if err != nil {
		t.Fatal(err)
	}
	user := testserver.VaultClient(t, e.srv.Addr, tok.Auth.ClientToken)
	if _, err := user.Logical().Write("aws-sm/hooks/mine", map[string]any{"type": "exec", "command": []string{"/bin/sh", "-c", "id"}}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("hook registered without sudo: %v", err)
	}
}
