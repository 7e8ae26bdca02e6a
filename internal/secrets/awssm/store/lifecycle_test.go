package store

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDeleteRestorePurge(t *testing.T) {
	e := newEnv(t)
	a := e.create(t, "a", "v")
	e.create(t, "b", "v")
	e.create(t, "c", "v")

	out, err := e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: a.ARN, RecoveryWindowInDays: i64(7)})
	if err != nil || out.ARN != a.ARN || out.Name != "a" || !out.DeletionDate.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("delete %+v, %v", out, err)
	}
	out, err = e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "b"})
	if err != nil || !out.DeletionDate.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("default window %+v, %v", out, err)
	}
	d, err := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "a"})
	if err != nil || d.DeletedDate == nil || !d.DeletedDate.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("describe a deleted secret: %+v, %v", d, err)
	}
	_, err = e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "a"})
	wantCode(t, err, CodeInvalidRequest)
	for _, op := range blockedWhileDeleted(e.s, "a") {
		wantCode(t, op(), CodeInvalidRequest)
	}
	if _, err := e.s.GetResourcePolicy(ctx, GetResourcePolicyInput{SecretId: "a"}); err != nil {
		t.Fatalf("GetResourcePolicy of a deleted secret: %v", err)
	}
	if _, err := e.s.ListSecretVersionIds(ctx, ListSecretVersionIdsInput{SecretId: "a"}); err != nil {
		t.Fatalf("ListSecretVersionIds of a deleted secret: %v", err)
	}

	// restore b; restoring c (not deleted) is a no-op
	if _, err := e.s.RestoreSecret(ctx, RestoreSecretInput{SecretId: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RestoreSecret(ctx, RestoreSecretInput{SecretId: "c"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.RestoreSecret(ctx, RestoreSecretInput{SecretId: "nope"})
	wantCode(t, err, CodeResourceNotFound)
	e.value(t, GetSecretValueInput{SecretId: "b"})

	if n, err := e.s.Purge(ctx, t0.Add(7*24*time.Hour-time.Second)); n != 0 || err != nil {
		t.Fatalf("early purge removed %d, %v", n, err)
	}
	if n, err := e.s.Purge(ctx, t0.Add(7*24*time.Hour)); n != 1 || err != nil {
		t.Fatalf("purge removed %d, %v", n, err)
	}
	_, err = e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "a"})
	wantCode(t, err, CodeResourceNotFound)
	if e.create(t, "a", "new").ARN == a.ARN {
		t.Fatal("re-created secret got the old ARN")
	}
}

func blockedWhileDeleted(s *Store, id string) []func() error {
	e1 := func(_ any, err error) error { return err }
	return []func() error{
		func() error { return e1(s.GetSecretValue(ctx, GetSecretValueInput{SecretId: id})) },
		func() error {
			return e1(s.PutSecretValue(ctx, PutSecretValueInput{SecretId: id, SecretString: str("x")}))
		},
		func() error { return e1(s.UpdateSecret(ctx, UpdateSecretInput{SecretId: id, Description: str("x")})) },
		func() error {
			return e1(s.UpdateSecretVersionStage(ctx, UpdateSecretVersionStageInput{SecretId: id, VersionStage: "X", MoveToVersionId: tok(0)}))
		},
		func() error { return s.TagResource(ctx, TagResourceInput{SecretId: id, Tags: []Tag{{Key: "k"}}}) },
		func() error { return s.UntagResource(ctx, UntagResourceInput{SecretId: id, TagKeys: []string{"k"}}) },
		func() error {
			return e1(s.PutResourcePolicy(ctx, PutResourcePolicyInput{SecretId: id, ResourcePolicy: "{}"}))
		},
		func() error { return e1(s.DeleteResourcePolicy(ctx, DeleteResourcePolicyInput{SecretId: id})) },
		func() error {
			return e1(s.RotateSecret(ctx, RotateSecretInput{SecretId: id, RotationLambdaARN: "hook"}))
		},
		func() error { return e1(s.CancelRotateSecret(ctx, CancelRotateSecretInput{SecretId: id})) },
		func() error { return e1(s.FinishRotation(ctx, FinishRotationInput{SecretId: id, VersionId: tok(0)})) },
	}
}

func TestDeleteSecretParameters(t *testing.T) {
	e := newEnv(t)
	a := e.create(t, "a", "v")
	cases := []struct {
		name string
		in   DeleteSecretInput
		code string
	}{
		{"window 6", DeleteSecretInput{SecretId: "a", RecoveryWindowInDays: i64(6)}, CodeInvalidParameter},
		{"window 31", DeleteSecretInput{SecretId: "a", RecoveryWindowInDays: i64(31)}, CodeInvalidParameter},
		{"both", DeleteSecretInput{SecretId: "a", RecoveryWindowInDays: i64(7), ForceDeleteWithoutRecovery: true}, CodeInvalidParameter},
		{"missing", DeleteSecretInput{SecretId: "nope"}, CodeResourceNotFound},
		{"empty id", DeleteSecretInput{}, CodeInvalidParameter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.DeleteSecret(ctx, c.in)
			wantCode(t, err, c.code)
		})
	}
	// force: immediate, also on a scheduled secret and on a missing one
	e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "a", RecoveryWindowInDays: i64(30)})
	out, err := e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "a", ForceDeleteWithoutRecovery: true})
	if err != nil || out.ARN != a.ARN || !out.DeletionDate.Equal(t0) {
		t.Fatalf("force %+v, %v", out, err)
	}
	_, err = e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: a.ARN})
	wantCode(t, err, CodeResourceNotFound)
	out, err = e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "a", ForceDeleteWithoutRecovery: true})
	if err != nil || out.Name != "a" || !strings.HasSuffix(out.ARN, ":secret:a") {
		t.Fatalf("force on a missing secret %+v, %v", out, err)
	}
	out, err = e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: a.ARN, ForceDeleteWithoutRecovery: true})
	if err != nil || out.ARN != a.ARN || out.Name != a.ARN[strings.LastIndex(a.ARN, ":")+1:] {
		t.Fatalf("force on a missing ARN %+v, %v", out, err)
	}
	if e.st.deletes.Load() != 1 {
		t.Fatalf("%d storage deletes, want 1", e.st.deletes.Load())
	}
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	e.s.CreateSecret(ctx, CreateSecretInput{Name: "s", Tags: []Tag{{"a", "1"}, {"b", "2"}}})
	steps := []struct {
		op   func() error
		code string
		want []Tag
	}{
		{func() error {
			return e.s.TagResource(ctx, TagResourceInput{SecretId: "s", Tags: []Tag{{"c", "3"}, {"a", "9"}}})
		}, "",
			[]Tag{{"a", "9"}, {"b", "2"}, {"c", "3"}}},
		{func() error {
			return e.s.UntagResource(ctx, UntagResourceInput{SecretId: "s", TagKeys: []string{"b", "zz"}})
		}, "",
			[]Tag{{"a", "9"}, {"c", "3"}}},
		{func() error { return e.s.UntagResource(ctx, UntagResourceInput{SecretId: "s", TagKeys: []string{"b"}}) }, "",
			[]Tag{{"a", "9"}, {"c", "3"}}},
		{func() error {
			return e.s.TagResource(ctx, TagResourceInput{SecretId: "s", Tags: []Tag{{"aws:x", "1"}}})
		}, CodeInvalidParameter,
			[]Tag{{"a", "9"}, {"c", "3"}}},
		{func() error {
			return e.s.TagResource(ctx, TagResourceInput{SecretId: "s", Tags: []Tag{{"d", "1"}, {"d", "2"}}})
		}, CodeInvalidParameter,
			[]Tag{{"a", "9"}, {"c", "3"}}},
		{func() error { return e.s.TagResource(ctx, TagResourceInput{SecretId: "nope", Tags: []Tag{{"d", "1"}}}) }, CodeResourceNotFound,
			[]Tag{{"a", "9"}, {"c", "3"}}},
		{func() error { return e.s.UntagResource(ctx, UntagResourceInput{SecretId: "nope"}) }, CodeResourceNotFound,
			[]Tag{{"a", "9"}, {"c", "3"}}},
	}
	for i, st := range steps {
		wantCode(t, st.op(), st.code)
		d, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
		if !slices.Equal(d.Tags, st.want) {
			t.Fatalf("step %d: tags %v, want %v", i, d.Tags, st.want)
		}
	}
	many := make([]Tag, 48)
	for i := range many {
		many[i] = Tag{Key: tok(i)}
	}
	wantCode(t, e.s.TagResource(ctx, TagResourceInput{SecretId: "s", Tags: many}), "")
	wantCode(t, e.s.TagResource(ctx, TagResourceInput{SecretId: "s", Tags: []Tag{{"one-too-many", ""}}}), CodeInvalidParameter)
	wantCode(t, e.s.TagResource(ctx, TagResourceInput{SecretId: "s", Tags: []Tag{{"a", "replace"}}}), "")
}

func TestResourcePolicy(t *testing.T) {
	e := newEnv(t)
	a := e.create(t, "s", "v")
	get := func() *string {
		out, err := e.s.GetResourcePolicy(ctx, GetResourcePolicyInput{SecretId: "s"})
		if err != nil || out.ARN != a.ARN {
			t.Fatalf("get %+v, %v", out, err)
		}
		return out.ResourcePolicy
	}
	if get() != nil {
		t.Fatal("policy before any put")
	}
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	private := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"*"}}`
	cases := []struct {
		name   string
		policy string
		block  bool
		code   string
	}{
		{"private", private, true, ""},
		{"public allowed", public, false, ""},
		{"public blocked", public, true, CodePublicPolicy},
		{"star principal blocked", `{"Statement":[{"Effect":"Allow","Principal":"*"}]}`, true, CodePublicPolicy},
		{"deny star is fine", `{"Statement":[{"Effect":"Deny","Principal":"*"}]}`, true, ""},
		{"not json", `{"Statement":`, false, CodeMalformedPolicy},
		{"not an object", `[1]`, false, CodeMalformedPolicy},
		{"empty", ``, false, CodeInvalidParameter},
		{"too long", `{"a":"` + strings.Repeat("x", MaxPolicyLen) + `"}`, false, CodeInvalidParameter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.PutResourcePolicy(ctx, PutResourcePolicyInput{SecretId: "s", ResourcePolicy: c.policy, BlockPublicPolicy: c.block})
			wantCode(t, err, c.code)
			if err == nil && *get() != c.policy {
				t.Fatal("policy not stored")
			}
		})
	}
	if _, err := e.s.DeleteResourcePolicy(ctx, DeleteResourcePolicyInput{SecretId: "s"}); err != nil || get() != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := e.s.DeleteResourcePolicy(ctx, DeleteResourcePolicyInput{SecretId: "s"}); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	_, err := e.s.GetResourcePolicy(ctx, GetResourcePolicyInput{SecretId: "nope"})
	wantCode(t, err, CodeResourceNotFound)
}

func TestDescribeSecret(t *testing.T) {
	e := newEnv(t)
	e.s.CreateSecret(ctx, CreateSecretInput{Name: "s", ClientRequestToken: tok(0), SecretString: str("v"), Description: "d", KmsKeyId: "alias/k", Tags: []Tag{{"k", "v"}}})
	e.put(t, "s", 1, "v1")
	e.put(t, "s", 2, "v2")
	d, err := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "s" || d.Description != "d" || d.KmsKeyId != "alias/k" || d.RotationEnabled != nil || d.DeletedDate != nil ||
		d.LastAccessedDate != nil || len(d.VersionIdsToStages) != 2 || !slices.Equal(d.Tags, []Tag{{"k", "v"}}) {
		t.Fatalf("describe %+v", d)
	}
	d.Tags[0].Key = "changed" // outputs are copies
	d.VersionIdsToStages[tok(2)][0] = "changed"
	if d2, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"}); d2.Tags[0].Key != "k" || d2.VersionIdsToStages[tok(2)][0] != StageCurrent {
		t.Fatal("caller changed the cached record")
	}
	for _, id := range []string{"", "nope"} {
		_, err := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: id})
		if id == "" {
			wantCode(t, err, CodeInvalidParameter)
		} else {
			wantCode(t, err, CodeResourceNotFound)
		}
	}
}

// TestRestartKeepsState: a new Store over the same storage sees everything
// (nothing lives only in the cache).
func TestRestartKeepsState(t *testing.T) {
	e := newEnv(t)
	e.create(t, "a/b", "v0")
	e.put(t, "a/b", 1, "v1", "BLUE")
	e.s.TagResource(ctx, TagResourceInput{SecretId: "a/b", Tags: []Tag{{"k", "v"}}})
	s2, _ := New(Options{Storage: e.st, Region: "us-east-1", AccountID: "123456789012", Now: e.clock.Now, CacheSize: -1})
	d1, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "a/b"})
	d2, err := s2.DescribeSecret(ctx, DescribeSecretInput{SecretId: d1.ARN})
	if err != nil || d2.ARN != d1.ARN || !slices.Equal(d2.Tags, d1.Tags) || len(d2.VersionIdsToStages) != 2 {
		t.Fatalf("after restart %+v, %v", d2, err)
	}
	e.put(t, "a/b", 2, "v2")
	s2.Invalidate()
	got, err := s2.GetSecretValue(ctx, GetSecretValueInput{SecretId: "a/b"})
	if err != nil || *got.SecretString != "v2" {
		t.Fatalf("second store reads %v, %v", got, err)
	}
}
