package store

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
)

// FuzzListSecretsFilters: any filters, sort and token give a page or an
// *Error, never a panic or an internal error.
func FuzzListSecretsFilters(f *testing.F) {
	e := newEnv(f)
	for i, n := range []string{"prod/db", "dev/Api-Key", "x", "a/b/c"} {
		e.s.CreateSecret(ctx, CreateSecretInput{Name: n, Description: "Desc " + n, Tags: []Tag{{Key: fmt.Sprint("k", i), Value: "v" + n}}})
	}
	f.Add("name", "prod", "!dev", "", "", "", 2)
	f.Add("all", "API key", "!", "name", "desc", "", 1)
	f.Add("tag-value", "vprod", "", "last-accessed-date", "asc", "eyJmIjoiIn0", 100)
	f.Add("description", "desc", "!DESC x", "created-date", "", "!!", 0)
	f.Fuzz(func(t *testing.T, key, v1, v2, sortBy, order, token string, max int) {
		in := ListSecretsInput{Filters: []Filter{{Key: key, Values: []string{v1, v2}}}, SortBy: sortBy, SortOrder: order, NextToken: token, MaxResults: &max}
		for range 3 {
			out, err := e.s.ListSecrets(ctx, in)
			if err != nil {
				if _, ok := AsError(err); !ok {
					t.Fatalf("internal error: %v", err)
				}
				return
			}
			if len(out.SecretList) > max {
				t.Fatalf("%d entries > MaxResults %d", len(out.SecretList), max)
			}
			if out.NextToken == "" {
				return
			}
			in.NextToken = out.NextToken
		}
	})
}

// FuzzPutSecretValue runs sequences of version and label operations on
// one secret: each label stays on at most one version, AWSCURRENT always
// exists, and a failed operation changes nothing.
func FuzzPutSecretValue(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 2, 3})
	f.Add([]byte{1, 7, 2, 0x21, 3, 0x10, 4, 2, 5, 0, 6, 1})
	f.Add([]byte{0, 0, 0, 0, 2, 0x30, 2, 0x03, 7, 0, 8, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 200 {
			prog = prog[:200]
		}
		e := newEnv(t)
		e.create(t, "s", "v0")
		for i := 0; i+1 < len(prog); i += 2 {
			before := e.stages(t, "s")
			err := fuzzStep(e, prog[i], prog[i+1], i)
			if err != nil {
				if _, ok := AsError(err); !ok {
					t.Fatalf("step %d: internal error %v", i, err)
				}
				if after := e.stages(t, "s"); !maps.EqualFunc(before, after, slices.Equal[[]string]) {
					t.Fatalf("step %d failed (%v) but changed %v to %v", i, err, before, after)
				}
			}
			checkInvariants(t, e.s)
			if _, err := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "s"}); err != nil {
				t.Fatalf("step %d: no AWSCURRENT: %v", i, err)
			}
		}
	})
}

var fuzzLabels = []string{StageCurrent, StagePrevious, StagePending, "A", "B"}

// fuzzStep applies one operation chosen by op with argument arg; versions
// are tok(0..7) (not all exist), labels fuzzLabels.
func fuzzStep(e *env, op, arg byte, step int) error {
	ver := tok(int(arg % 8))
	other := tok(int(arg>>3) % 8)
	label := fuzzLabels[int(arg>>5)%len(fuzzLabels)]
	val := str(fmt.Sprint("v", arg%3))
	var err error
	switch op % 9 {
	case 0:
		_, err = e.s.PutSecretValue(ctx, PutSecretValueInput{SecretId: "s", ClientRequestToken: ver, SecretString: val})
	case 1:
		_, err = e.s.PutSecretValue(ctx, PutSecretValueInput{SecretId: "s", ClientRequestToken: ver, SecretString: val, VersionStages: []string{label}})
	case 2:
		_, err = e.s.UpdateSecretVersionStage(ctx, UpdateSecretVersionStageInput{SecretId: "s", VersionStage: label, MoveToVersionId: ver, RemoveFromVersionId: other})
	case 3:
		_, err = e.s.UpdateSecretVersionStage(ctx, UpdateSecretVersionStageInput{SecretId: "s", VersionStage: label, MoveToVersionId: ver})
	case 4:
		_, err = e.s.UpdateSecretVersionStage(ctx, UpdateSecretVersionStageInput{SecretId: "s", VersionStage: label, RemoveFromVersionId: ver})
	case 5:
		_, err = e.s.UpdateSecret(ctx, UpdateSecretInput{SecretId: "s", ClientRequestToken: ver, SecretBinary: []byte{arg}})
	case 6:
		_, err = e.s.CreatePendingVersion(ctx, CreatePendingVersionInput{SecretId: "s", ClientRequestToken: ver, SecretString: val})
	case 7:
		_, err = e.s.FinishRotation(ctx, FinishRotationInput{SecretId: "s", VersionId: ver})
	case 8:
		if _, err = e.s.RotateSecret(ctx, RotateSecretInput{SecretId: "s", RotationLambdaARN: "hook"}); err == nil {
			_, err = e.s.CancelRotateSecret(ctx, CancelRotateSecretInput{SecretId: "s"})
		}
	}
	return err
}

// TestConcurrentWrites: concurrent puts on one secret all land, while
// readers always see a consistent AWSCURRENT.
func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t)
	e.create(t, "s", "v0")
	e.create(t, "t", "v0")
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := 1 + w*each + i
				if _, err := e.s.PutSecretValue(ctx, PutSecretValueInput{SecretId: "s", ClientRequestToken: tok(n), SecretString: str("v")}); err != nil {
					t.Error(err)
				}
				e.s.TagResource(ctx, TagResourceInput{SecretId: "t", Tags: []Tag{{Key: fmt.Sprint("w", w), Value: fmt.Sprint(i)}}})
			}
		}()
	}
	stop := make(chan struct{})
	var rg sync.WaitGroup
	for range 4 {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "s"}); err != nil {
					t.Error(err)
					return
				}
				e.s.ListSecrets(ctx, ListSecretsInput{})
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	if n := versionCount(t, e, "s"); n != 1+writers*each {
		t.Fatalf("%d versions, want %d", n, 1+writers*each)
	}
	d, _ := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "t"})
	if len(d.Tags) != writers {
		t.Fatalf("tags %v", d.Tags)
	}
	checkInvariants(t, e.s)
}
