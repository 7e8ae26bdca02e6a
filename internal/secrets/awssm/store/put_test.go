package store

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPutSecretValueSequence follows the labels through three puts, custom
// labels, a retry and a conflicting retry.
func TestPutSecretValueSequence(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0") // version tok(0)
	steps := []struct {
		name   string
		n      int
		value  string
		stages []string
		code   string
		want   map[string][]string
	}{
		{"put 1", 1, "v1", nil, "", map[string][]string{
			tok(0): {StagePrevious}, tok(1): {StageCurrent}}},
		{"put 2", 2, "v2", nil, "", map[string][]string{
			tok(1): {StagePrevious}, tok(2): {StageCurrent}}},
		{"retry put 2", 2, "v2", nil, "", map[string][]string{
			tok(1): {StagePrevious}, tok(2): {StageCurrent}}},
		{"retry put 2 with other labels is still a no-op", 2, "v2", []string{"X"}, "", map[string][]string{
			tok(1): {StagePrevious}, tok(2): {StageCurrent}}},
		{"conflicting retry", 2, "other", nil, CodeResourceExists, map[string][]string{
			tok(1): {StagePrevious}, tok(2): {StageCurrent}}},
		{"custom label", 3, "v3", []string{"BLUE"}, "", map[string][]string{
			tok(1): {StagePrevious}, tok(2): {StageCurrent}, tok(3): {"BLUE"}}},
		{"custom label moves", 4, "v4", []string{"BLUE", "GREEN"}, "", map[string][]string{
			tok(1): {StagePrevious}, tok(2): {StageCurrent}, tok(4): labels("BLUE", "GREEN")}},
		{"explicit AWSCURRENT moves AWSPREVIOUS", 5, "v5", []string{StageCurrent, "GREEN"}, "", map[string][]string{
			tok(2): {StagePrevious}, tok(4): {"BLUE"}, tok(5): labels(StageCurrent, "GREEN")}},
		{"pending", 6, "v6", []string{StagePending}, "", map[string][]string{
			tok(2): {StagePrevious}, tok(4): {"BLUE"}, tok(5): labels(StageCurrent, "GREEN"), tok(6): {StagePending}}},
		{"explicit AWSPREVIOUS wins over the automatic one", 7, "v7", []string{StageCurrent, StagePrevious}, "", map[string][]string{
			tok(4): {"BLUE"}, tok(5): {"GREEN"}, tok(6): {StagePending}, tok(7): labels(StageCurrent, StagePrevious)}},
		{"duplicate labels collapse", 8, "v8", []string{"Z", "Z"}, "", map[string][]string{
			tok(4): {"BLUE"}, tok(5): {"GREEN"}, tok(6): {StagePending}, tok(7): labels(StageCurrent, StagePrevious), tok(8): {"Z"}}},
	}
	for _, st := range steps {
		_, err := e.s.PutSecretValue(ctx, PutSecretValueInput{SecretId: "s", ClientRequestToken: tok(st.n), SecretString: str(st.value), VersionStages: st.stages})
		wantCode(t, err, st.code)
		if got := e.stages(t, "s"); !maps.EqualFunc(got, st.want, slices.Equal[[]string]) {
			t.Fatalf("%s: stages %v, want %v", st.name, got, st.want)
		}
		checkInvariants(t, e.s)
	}
	if got := e.value(t, GetSecretValueInput{SecretId: "s", VersionStage: StagePrevious}); got != "v7" {
		t.Fatalf("AWSPREVIOUS = %q", got)
	}
	if got := e.value(t, GetSecretValueInput{SecretId: "s", VersionId: tok(3)}); got != "v3" {
		t.Fatalf("deprecated version = %q", got)
	}
}

func TestPutSecretValueErrors(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	e.create(t, "gone", "v0")
	if _, err := e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "gone"}); err != nil {
		t.Fatal(err)
	}
	many := make([]string, MaxLabelsPerVer+1)
	for i := range many {
		many[i] = tok(i)
	}
	cases := []struct {
		name string
		in   PutSecretValueInput
		code string
	}{
		{"missing", PutSecretValueInput{SecretId: "nope", SecretString: str("x")}, CodeResourceNotFound},
		{"empty id", PutSecretValueInput{SecretString: str("x")}, CodeInvalidParameter},
		{"long id", PutSecretValueInput{SecretId: strings.Repeat("a", MaxSecretIdLen+1), SecretString: str("x")}, CodeInvalidParameter},
		{"deleted", PutSecretValueInput{SecretId: "gone", SecretString: str("x")}, CodeInvalidRequest},
		{"no value", PutSecretValueInput{SecretId: "s"}, CodeInvalidParameter},
		{"both values", PutSecretValueInput{SecretId: "s", SecretString: str("x"), SecretBinary: []byte("x")}, CodeInvalidParameter},
		{"too large", PutSecretValueInput{SecretId: "s", SecretBinary: make([]byte, MaxValueBytes+1)}, CodeInvalidParameter},
		{"bad token", PutSecretValueInput{SecretId: "s", ClientRequestToken: "x", SecretString: str("x")}, CodeInvalidParameter},
		{"empty stages", PutSecretValueInput{SecretId: "s", SecretString: str("x"), VersionStages: []string{}}, CodeInvalidParameter},
		{"empty label", PutSecretValueInput{SecretId: "s", SecretString: str("x"), VersionStages: []string{""}}, CodeInvalidParameter},
		{"long label", PutSecretValueInput{SecretId: "s", SecretString: str("x"), VersionStages: []string{strings.Repeat("l", MaxLabelLen+1)}}, CodeInvalidParameter},
		{"21 labels", PutSecretValueInput{SecretId: "s", SecretString: str("x"), VersionStages: many}, CodeLimitExceeded},
		{"20 labels", PutSecretValueInput{SecretId: "s", SecretString: str("x"), VersionStages: many[:MaxLabelsPerVer]}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.PutSecretValue(ctx, c.in)
			wantCode(t, err, c.code)
		})
	}
	checkInvariants(t, e.s)
}

func TestPutSecretValueBinaryAndDates(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	e.clock.Advance(time.Hour)
	buf := []byte{1, 2, 3}
	if _, err := e.s.PutSecretValue(ctx, PutSecretValueInput{SecretId: "s", ClientRequestToken: tok(1), SecretBinary: buf}); err != nil {
		t.Fatal(err)
	}
	buf[0] = 9 // the store kept its own copy
	got, err := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "s"})
	if err != nil || got.SecretString != nil || string(got.SecretBinary) != "\x01\x02\x03" || !got.CreatedDate.Equal(t0.Add(time.Hour)) {
		t.Fatalf("got %+v, %v", got, err)
	}
	got.SecretBinary[0] = 7 // nor does the caller share the cache
	got2, _ := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "s"})
	if got2.SecretBinary[0] != 1 {
		t.Fatal("caller modified the cached value")
	}
	d, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	if !d.CreatedDate.Equal(t0) || !d.LastChangedDate.Equal(t0.Add(time.Hour)) {
		t.Fatalf("dates %v %v", d.CreatedDate, d.LastChangedDate)
	}
	// the same token with a string value when the version is binary
	_, err = e.s.PutSecretValue(ctx, PutSecretValueInput{SecretId: "s", ClientRequestToken: tok(1), SecretString: str("\x01\x02\x03")})
	wantCode(t, err, CodeResourceExists)
}

func TestUpdateSecret(t *testing.T) {
	e := newEnv(t)
	e.s.CreateSecret(ctx, CreateSecretInput{Name: "s", ClientRequestToken: tok(0), SecretString: str("v0"), Description: "old", KmsKeyId: "k1"})
	e.create(t, "gone", "x")
	e.s.DeleteSecret(ctx, DeleteSecretInput{SecretId: "gone"})

	e.clock.Advance(time.Minute)
	out, err := e.s.UpdateSecret(ctx, UpdateSecretInput{SecretId: "s", Description: str("new")})
	if err != nil || out.VersionId != "" {
		t.Fatalf("metadata update %+v, %v", out, err)
	}
	d, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	if d.Description != "new" || d.KmsKeyId != "k1" || !d.LastChangedDate.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after update %+v", d)
	}
	out, err = e.s.UpdateSecret(ctx, UpdateSecretInput{SecretId: "s", ClientRequestToken: tok(1), SecretString: str("v1"), KmsKeyId: str("")})
	if err != nil || out.VersionId != tok(1) {
		t.Fatalf("value update %+v, %v", out, err)
	}
	want := map[string][]string{tok(0): {StagePrevious}, tok(1): {StageCurrent}}
	if got := e.stages(t, "s"); !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("stages %v", got)
	}
	d, _ = e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "s"})
	if d.KmsKeyId != "" || d.Description != "new" {
		t.Fatalf("kms not cleared: %+v", d)
	}
	cases := []struct {
		name string
		in   UpdateSecretInput
		code string
	}{
		{"retry", UpdateSecretInput{SecretId: "s", ClientRequestToken: tok(1), SecretString: str("v1")}, ""},
		{"token reuse", UpdateSecretInput{SecretId: "s", ClientRequestToken: tok(1), SecretString: str("v2")}, CodeResourceExists},
		{"missing", UpdateSecretInput{SecretId: "nope", Description: str("d")}, CodeResourceNotFound},
		{"deleted", UpdateSecretInput{SecretId: "gone", Description: str("d")}, CodeInvalidRequest},
		{"long description", UpdateSecretInput{SecretId: "s", Description: str(strings.Repeat("d", MaxDescriptionLen+1))}, CodeInvalidParameter},
		{"both values", UpdateSecretInput{SecretId: "s", SecretString: str("a"), SecretBinary: []byte("a")}, CodeInvalidParameter},
		{"bad token", UpdateSecretInput{SecretId: "s", ClientRequestToken: "t", SecretString: str("a")}, CodeInvalidParameter},
		{"nothing", UpdateSecretInput{SecretId: "s"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.UpdateSecret(ctx, c.in)
			wantCode(t, err, c.code)
		})
	}
	if got := e.stages(t, "s"); !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("stages changed by failed updates: %v", got)
	}
}

// TestVersionHousekeeping: beyond 100 versions the oldest deprecated ones
// older than 24 hours go; younger ones stay until the cap.
func TestVersionHousekeeping(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	for i := 1; i <= 110; i++ {
		e.put(t, "s", i, "v")
	}
	if n := versionCount(t, e, "s"); n != 111 {
		t.Fatalf("%d versions within 24h, want all 111 kept", n)
	}
	e.clock.Advance(25 * time.Hour)
	e.put(t, "s", 111, "v")
	if n := versionCount(t, e, "s"); n != KeepVersions {
		t.Fatalf("%d versions after a day, want %d", n, KeepVersions)
	}
	for _, gone := range []int{0, 1, 11, 12} { // 112 versions: the 12 oldest go
		if _, err := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "s", VersionId: tok(gone)}); gone < 12 {
			wantCode(t, err, CodeResourceNotFound)
		} else if err != nil {
			t.Fatalf("version %d: %v", gone, err)
		}
	}
	// labelled versions are kept even when old
	e2 := newEnv(t)
	e2.create(t, "s", "v0")
	e2.put(t, "s", 1, "keep", "KEEP")
	for i := 2; i <= 102; i++ {
		e2.put(t, "s", i, "v")
	}
	e2.clock.Advance(25 * time.Hour)
	e2.put(t, "s", 103, "v")
	if got := e2.value(t, GetSecretValueInput{SecretId: "s", VersionStage: "KEEP"}); got != "keep" {
		t.Fatal("labelled version pruned")
	}
	checkInvariants(t, e2.s)
}

func TestVersionCap(t *testing.T) {
	st := &countingStorage{Backend: newEnv(t).st.Backend}
	s, _ := New(Options{Storage: st, Region: "r", AccountID: "a", MaxVersions: 5})
	s.CreateSecret(ctx, CreateSecretInput{Name: "s", SecretString: str("v")})
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		_, err = s.PutSecretValue(ctx, PutSecretValueInput{SecretId: "s", SecretString: str("v")})
	}
	wantCode(t, err, CodeLimitExceeded)
	out, _ := s.ListSecretVersionIds(ctx, ListSecretVersionIdsInput{SecretId: "s", IncludeDeprecated: true})
	if len(out.Versions) != 5 {
		t.Fatalf("%d versions stored, want 5", len(out.Versions))
	}
}

func versionCount(t *testing.T, e *env, id string) int {
	t.Helper()
	n, next := 0, ""
	for {
		out, err := e.s.ListSecretVersionIds(ctx, ListSecretVersionIdsInput{SecretId: id, IncludeDeprecated: true, NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Versions)
		if next = out.NextToken; next == "" {
			return n
		}
	}
}
