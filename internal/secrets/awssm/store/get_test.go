package store

import (
	"strings"
	"testing"
	"time"
)

func TestGetSecretValueSelection(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	e.put(t, "s", 1, "v1")
	e.put(t, "s", 2, "v2", "BLUE")
	e.create(t, "gone", "x")
	e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "gone"})
	cases := []struct {
		name string
		in   GetSecretValueInput
		want string
		code string
	}{
		{"default current", GetSecretValueInput{SecretId: "s"}, "v1", ""},
		{"stage", GetSecretValueInput{SecretId: "s", VersionStage: StagePrevious}, "v0", ""},
		{"custom stage", GetSecretValueInput{SecretId: "s", VersionStage: "BLUE"}, "v2", ""},
		{"id", GetSecretValueInput{SecretId: "s", VersionId: tok(0)}, "v0", ""},
		{"id and agreeing stage", GetSecretValueInput{SecretId: "s", VersionId: tok(1), VersionStage: StageCurrent}, "v1", ""},
		{"id and other stage", GetSecretValueInput{SecretId: "s", VersionId: tok(1), VersionStage: StagePrevious}, "", CodeInvalidRequest},
		{"unknown id", GetSecretValueInput{SecretId: "s", VersionId: tok(9)}, "", CodeResourceNotFound},
		{"unknown stage", GetSecretValueInput{SecretId: "s", VersionStage: "NOPE"}, "", CodeResourceNotFound},
		{"short id", GetSecretValueInput{SecretId: "s", VersionId: "short"}, "", CodeInvalidParameter},
		{"long stage", GetSecretValueInput{SecretId: "s", VersionStage: strings.Repeat("s", MaxLabelLen+1)}, "", CodeInvalidParameter},
		{"missing secret", GetSecretValueInput{SecretId: "nope"}, "", CodeResourceNotFound},
		{"empty id", GetSecretValueInput{}, "", CodeInvalidParameter},
		{"scheduled for deletion", GetSecretValueInput{SecretId: "gone"}, "", CodeInvalidRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.s.GetSecretValue(ctx, c.in)
			wantCode(t, err, c.code)
			if err == nil && *out.SecretString != c.want {
				t.Fatalf("value %q, want %q", *out.SecretString, c.want)
			}
		})
	}
}

func TestSecretIdResolution(t *testing.T) {
	e := newEnv(t)
	a := e.create(t, "app/db", "a")
	b := e.create(t, "app/db-abcdef", "b") // a name that looks like an ARN suffix
	prefix := "arn:kinko:secretsmanager:us-east-1:123456789012:secret:"
	cases := []struct {
		id   string
		want string // value, "" for not found
	}{
		{"app/db", "a"},
		{a.ARN, "a"},
		{prefix + "app/db", "a"},
		{b.ARN, "b"},
		{prefix + "app/db-abcdef", "b"},
		{"app/db-abcdef", "b"},
		{a.ARN[:len(a.ARN)-1] + "Z", ""}, // wrong suffix
		{a.ARN + "x", ""},
		{prefix, ""},
		{"arn:kinko:secretsmanager:eu-west-1:123456789012:secret:app/db", ""},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db", ""},
		{"arn:kinko:secretsmanager:us-east-1:999999999999:secret:app/db", ""},
		{"app", ""},
		{"app/db/", ""},
		{"app%2Fdb", ""},
		{"app db", ""},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			out, err := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: c.id})
			if c.want == "" {
				wantCode(t, err, CodeResourceNotFound)
				return
			}
			if err != nil || *out.SecretString != c.want {
				t.Fatalf("got %v, %v; want %q", out, err, c.want)
			}
		})
	}
	// a re-created secret is a new resource: its old ARN no longer works,
	// its name and partial ARN do
	if _, err := e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: a.ARN, ForceDeleteWithoutRecovery: true}); err != nil {
		t.Fatal(err)
	}
	c := e.create(t, "app/db", "c")
	if c.ARN == a.ARN {
		t.Fatal("re-created secret reused the ARN")
	}
	_, err := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: a.ARN})
	wantCode(t, err, CodeResourceNotFound)
	_, err = e.s.PutSecretValue(ctx, PutSecretValueInput{SecretId: a.ARN, SecretString: str("x")})
	wantCode(t, err, CodeResourceNotFound)
	for _, id := range []string{"app/db", c.ARN, prefix + "app/db"} {
		if got := e.value(t, GetSecretValueInput{SecretId: id}); got != "c" {
			t.Fatalf("%s: %q", id, got)
		}
	}
}

func TestLastAccessedDate(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	e.put(t, "s", 1, "v1")
	d, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	if d.LastAccessedDate != nil {
		t.Fatal("LastAccessedDate set before any read")
	}
	writes := e.st.puts.Load()
	for range 3 {
		e.value(t, GetSecretValueInput{SecretId: "s"})
	}
	if n := e.st.puts.Load() - writes; n != 1 {
		t.Fatalf("%d writes for three reads on one day, want 1", n)
	}
	d, _ = e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	today := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if d.LastAccessedDate == nil || !d.LastAccessedDate.Equal(today) {
		t.Fatalf("LastAccessedDate %v, want %v", d.LastAccessedDate, today)
	}
	if !d.LastChangedDate.Equal(t0) {
		t.Fatal("a read changed LastChangedDate")
	}
	e.value(t, GetSecretValueInput{SecretId: "s", VersionId: tok(0)}) // another version: one write
	e.value(t, GetSecretValueInput{SecretId: "s", VersionId: tok(0)})
	if n := e.st.puts.Load() - writes; n != 2 {
		t.Fatalf("%d writes, want 2", n)
	}
	e.clock.Advance(24 * time.Hour)
	e.value(t, GetSecretValueInput{SecretId: "s"})
	vs, _ := e.s.ListSecretVersionIds(ctx, ListSecretVersionIdsInput{SecretId: "s"})
	for _, v := range vs.Versions {
		want := today
		if v.VersionId == tok(1) {
			want = today.Add(24 * time.Hour)
		}
		if v.LastAccessedDate == nil || !v.LastAccessedDate.Equal(want) {
			t.Fatalf("version %s accessed %v, want %v", v.VersionId, v.LastAccessedDate, want)
		}
	}
}

func batchEnv(t *testing.T) *env {
	e := newEnv(t)
	for _, n := range []string{"app/a", "app/b", "app/c", "other"} {
		e.create(t, n, "v-"+n)
	}
	e.s.CreateSecret(ctx, CreateSecretInput{Name: "app/empty"})
	e.create(t, "app/gone", "x")
	e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "app/gone"})
	return e
}

func TestBatchGetSecretValueIds(t *testing.T) {
	e := batchEnv(t)
	out, err := e.s.BatchGetSecretValue(ctx, BatchGetSecretValueInput{SecretIdList: []string{"app/a", "nope", "app/gone", "other", "app/empty"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecretValues) != 2 || *out.SecretValues[0].SecretString != "v-app/a" || out.SecretValues[1].Name != "other" {
		t.Fatalf("values %+v", out.SecretValues)
	}
	wantErrs := []APIError{{"nope", CodeResourceNotFound, ""}, {"app/gone", CodeInvalidRequest, ""}, {"app/empty", CodeResourceNotFound, ""}}
	if len(out.Errors) != len(wantErrs) {
		t.Fatalf("errors %+v", out.Errors)
	}
	for i, w := range wantErrs {
		if g := out.Errors[i]; g.SecretId != w.SecretId || g.ErrorCode != w.ErrorCode || g.Message == "" {
			t.Fatalf("error %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestBatchGetSecretValueFilters(t *testing.T) {
	e := batchEnv(t)
	// two per page, app/empty reported as an error
	var names []string
	var errs int
	next := ""
	for pages := 0; ; pages++ {
		out, err := e.s.BatchGetSecretValue(ctx, BatchGetSecretValueInput{Filters: []Filter{{Key: "name", Values: []string{"app/"}}}, MaxResults: intp(2), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.SecretValues {
			names = append(names, v.Name)
		}
		errs += len(out.Errors)
		if next = out.NextToken; next == "" {
			if pages != 1 {
				t.Fatalf("%d pages, want 2", pages+1)
			}
			break
		}
	}
	if strings.Join(names, ",") != "app/a,app/b,app/c" || errs != 1 {
		t.Fatalf("filtered %v, %d errors", names, errs)
	}
}

func TestBatchGetSecretValueErrors(t *testing.T) {
	e := batchEnv(t)
	twentyOne := make([]string, 21)
	for i := range twentyOne {
		twentyOne[i] = "x"
	}
	bad := []BatchGetSecretValueInput{
		{},
		{SecretIdList: []string{"a"}, Filters: []Filter{}},
		{SecretIdList: []string{}},
		{SecretIdList: twentyOne},
		{SecretIdList: []string{"a"}, MaxResults: intp(1)},
		{Filters: []Filter{}, MaxResults: intp(21)},
		{Filters: []Filter{}, MaxResults: intp(0)},
		{Filters: []Filter{{Key: "bogus", Values: []string{"x"}}}},
	}
	for _, in := range bad {
		_, err := e.s.BatchGetSecretValue(ctx, in)
		wantCode(t, err, CodeInvalidParameter)
	}
	_, err := e.s.BatchGetSecretValue(ctx, BatchGetSecretValueInput{Filters: []Filter{}, NextToken: "garbage"})
	wantCode(t, err, CodeInvalidNextToken)
}
