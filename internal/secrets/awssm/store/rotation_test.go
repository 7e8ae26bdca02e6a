package store

import (
	"maps"
	"slices"
	"testing"
	"time"
)

func TestRotationCycle(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	e.put(t, "s", 1, "v1")

	_, err := e.s.RotateSecret(ctx, RotateSecretInput{SecretId: "s"})
	wantCode(t, err, CodeInvalidRequest) // no hook configured
	_, err = e.s.CancelRotateSecret(ctx, CancelRotateSecretInput{SecretId: "s"})
	wantCode(t, err, CodeInvalidRequest) // never configured

	r, err := e.s.RotateSecret(ctx, RotateSecretInput{SecretId: "s", ClientRequestToken: tok(2), RotationLambdaARN: "hook:db",
		RotationRules: &RotationRules{AutomaticallyAfterDays: i64(30)}})
	if err != nil || r.VersionId != tok(2) {
		t.Fatalf("rotate %+v, %v", r, err)
	}
	d, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	if d.RotationEnabled == nil || !*d.RotationEnabled || d.RotationLambdaARN != "hook:db" ||
		d.NextRotationDate == nil || !d.NextRotationDate.Equal(t0.Add(30*24*time.Hour).Truncate(24*time.Hour)) {
		t.Fatalf("after RotateSecret %+v", d)
	}

	e.clock.Advance(time.Minute)
	p, err := e.s.CreatePendingVersion(ctx, CreatePendingVersionInput{SecretId: "s", ClientRequestToken: r.VersionId, SecretString: str("v2")})
	if err != nil || p.VersionId != tok(2) {
		t.Fatalf("pending %+v, %v", p, err)
	}
	if _, err := e.s.CreatePendingVersion(ctx, CreatePendingVersionInput{SecretId: "s", ClientRequestToken: r.VersionId, SecretString: str("v2")}); err != nil {
		t.Fatalf("retried createSecret step: %v", err)
	}
	want := map[string][]string{tok(0): {StagePrevious}, tok(1): {StageCurrent}, tok(2): {StagePending}}
	if got := e.stages(t, "s"); !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("during rotation %v", got)
	}
	if got := e.value(t, GetSecretValueInput{SecretId: "s", VersionStage: StagePending, VersionId: tok(2)}); got != "v2" {
		t.Fatalf("pending value %q", got)
	}
	_, err = e.s.RotateSecret(ctx, RotateSecretInput{SecretId: "s"})
	wantCode(t, err, CodeInvalidRequest) // rotation in progress

	finishRotation(t, e)
}

// finishRotation finishes the rotation to tok(2) begun by TestRotationCycle.
func finishRotation(t *testing.T, e *env) {
	_, err := e.s.FinishRotation(ctx, FinishRotationInput{SecretId: "s", VersionId: tok(0)})
	wantCode(t, err, CodeInvalidRequest)
	_, err = e.s.FinishRotation(ctx, FinishRotationInput{SecretId: "s", VersionId: tok(9)})
	wantCode(t, err, CodeResourceNotFound)
	e.clock.Advance(time.Minute)
	for range 2 { // the second call is a no-op
		if _, err := e.s.FinishRotation(ctx, FinishRotationInput{SecretId: "s", VersionId: tok(2)}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{tok(1): {StagePrevious}, tok(2): {StageCurrent}}
	if got := e.stages(t, "s"); !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("after rotation %v", got)
	}
	d, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	done := t0.Add(2 * time.Minute)
	if d.LastRotatedDate == nil || !d.LastRotatedDate.Equal(done) || !d.NextRotationDate.Equal(done.Add(30*24*time.Hour).Truncate(24*time.Hour)) {
		t.Fatalf("dates after rotation: %v %v", d.LastRotatedDate, d.NextRotationDate)
	}
	// a new rotation may start: AWSPENDING is gone
	if _, err := e.s.RotateSecret(ctx, RotateSecretInput{SecretId: "s", RotationRules: &RotationRules{ScheduleExpression: "rate(12 hours)"}}); err != nil {
		t.Fatal(err)
	}
	d, _ = e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	if d.RotationLambdaARN != "hook:db" || !d.NextRotationDate.Equal(done.Add(12*time.Hour).Truncate(time.Hour)) {
		t.Fatalf("kept hook, new rules: %+v", d)
	}
}

func TestCancelRotateSecret(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	if _, err := e.s.RotateSecret(ctx, RotateSecretInput{SecretId: "s", RotationLambdaARN: "hook"}); err != nil {
		t.Fatal(err)
	}
	e.s.CreatePendingVersion(ctx, CreatePendingVersionInput{SecretId: "s", ClientRequestToken: tok(1), SecretString: str("half")})
	out, err := e.s.CancelRotateSecret(ctx, CancelRotateSecretInput{SecretId: "s"})
	if err != nil || out.VersionId != tok(1) {
		t.Fatalf("cancel %+v, %v", out, err)
	}
	want := map[string][]string{tok(0): {StageCurrent}}
	if got := e.stages(t, "s"); !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("after cancel %v", got)
	}
	d, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	if d.RotationEnabled == nil || *d.RotationEnabled || d.NextRotationDate != nil || d.RotationLambdaARN != "hook" {
		t.Fatalf("after cancel %+v", d)
	}
	out, err = e.s.CancelRotateSecret(ctx, CancelRotateSecretInput{SecretId: "s"})
	if err != nil || out.VersionId != "" {
		t.Fatalf("second cancel %+v, %v", out, err)
	}
	// AWSPENDING on the current version does not block a rotation
	e.s.UpdateSecretVersionStage(ctx, UpdateSecretVersionStageInput{SecretId: "s", VersionStage: StagePending, MoveToVersionId: tok(0)})
	if _, err := e.s.RotateSecret(ctx, RotateSecretInput{SecretId: "s"}); err != nil {
		t.Fatal(err)
	}
}

func TestRotationRulesValidation(t *testing.T) {
	cases := []struct {
		r  RotationRules
		ok bool
	}{
		{RotationRules{AutomaticallyAfterDays: i64(1)}, true},
		{RotationRules{AutomaticallyAfterDays: i64(1000)}, true},
		{RotationRules{AutomaticallyAfterDays: i64(0)}, false},
		{RotationRules{AutomaticallyAfterDays: i64(1001)}, false},
		{RotationRules{AutomaticallyAfterDays: i64(5), ScheduleExpression: "rate(5 days)"}, false},
		{RotationRules{ScheduleExpression: "rate(4 hours)"}, true},
		{RotationRules{ScheduleExpression: "rate(3 hours)"}, false},
		{RotationRules{ScheduleExpression: "rate(1 day)"}, true},
		{RotationRules{ScheduleExpression: "rate(1 days)"}, false},
		{RotationRules{ScheduleExpression: "rate(2 day)"}, false},
		{RotationRules{ScheduleExpression: "rate(1001 days)"}, false},
		{RotationRules{ScheduleExpression: "cron(0 16 1,15 * ? *)"}, true},
		{RotationRules{ScheduleExpression: "cron(0 16 * *)"}, false},
		{RotationRules{ScheduleExpression: "every day"}, false},
		{RotationRules{ScheduleExpression: "rate(5 days)", Duration: "3h"}, true},
		{RotationRules{ScheduleExpression: "rate(5 days)", Duration: "0h"}, false},
		{RotationRules{ScheduleExpression: "rate(5 days)", Duration: "25h"}, false},
		{RotationRules{ScheduleExpression: "rate(5 days)", Duration: "3"}, false},
	}
	e := newEnv(t)
	e.create(t, "s", "v")
	for _, c := range cases {
		_, err := e.s.RotateSecret(ctx, RotateSecretInput{SecretId: "s", RotationLambdaARN: "hook", RotationRules: &c.r})
		if c.ok {
			wantCode(t, err, "")
		} else {
			wantCode(t, err, CodeInvalidParameter)
		}
	}
	_, err := e.s.CreatePendingVersion(ctx, CreatePendingVersionInput{SecretId: "s", SecretString: str("x")})
	wantCode(t, err, CodeInvalidParameter)
}
