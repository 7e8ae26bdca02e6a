package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
)

// countingStorage counts writes, to check which operations write.
type countingStorage struct {
	storage.Backend
	puts, deletes atomic.Int64
}

func (c *countingStorage) Put(ctx context.Context, e *storage.Entry) error {
	c.puts.Add(1)
	return c.Backend.Put(ctx, e)
}

func (c *countingStorage) Delete(ctx context.Context, k string) error {
	c.deletes.Add(1)
	return c.Backend.Delete(ctx, k)
}

type env struct {
	s     *Store
	clock *testclock.Clock
	st    *countingStorage
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st := &countingStorage{Backend: inmem.New()}
	clock := testclock.New(t0)
	s, err := New(Options{Storage: st, Region: "us-east-1", AccountID: "123456789012", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{s: s, clock: clock, st: st}
}

func str(s string) *string { return &s }

func i64(n int64) *int64 { return &n }

func intp(n int) *int { return &n }

// tok returns a valid, distinct ClientRequestToken.
func tok(n int) string { return fmt.Sprintf("token-%026d", n) }

func (e *env) create(t testing.TB, name, value string) *CreateSecretOutput {
	t.Helper()
	out, err := e.s.CreateSecret(ctx, CreateSecretInput{Name: name, ClientRequestToken: tok(0), SecretString: str(value)})
	if err != nil {
		t.Fatalf("CreateSecret(%s): %v", name, err)
	}
	return out
}

func (e *env) put(t testing.TB, id string, n int, value string, stages ...string) *PutSecretValueOutput {
	t.Helper()
	out, err := e.s.PutSecretValue(ctx, PutSecretValueInput{SecretId: id, ClientRequestToken: tok(n), SecretString: str(value), VersionStages: stages})
	if err != nil {
		t.Fatalf("PutSecretValue(%s, %d): %v", id, n, err)
	}
	return out
}

// stages returns VersionIdsToStages with sorted labels.
func (e *env) stages(t testing.TB, id string) map[string][]string {
	t.Helper()
	d, err := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: id})
	if err != nil {
		t.Fatalf("DescribeSecret(%s): %v", id, err)
	}
	for _, l := range d.VersionIdsToStages {
		sort.Strings(l)
	}
	return d.VersionIdsToStages
}

func (e *env) value(t testing.TB, in GetSecretValueInput) string {
	t.Helper()
	out, err := e.s.GetSecretValue(ctx, in)
	if err != nil {
		t.Fatalf("GetSecretValue(%+v): %v", in, err)
	}
	return *out.SecretString
}

// wantCode fails unless err is an *Error with the given code ("" = nil).
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func labels(l ...string) []string {
	out := slices.Clone(l)
	sort.Strings(out)
	return out
}

// checkInvariants verifies the label invariants of every stored secret.
func checkInvariants(t testing.TB, s *Store) {
	t.Helper()
	all, err := s.loadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range all {
		if msg := invariantViolation(sec); msg != "" {
			t.Fatalf("secret %s: %s", sec.Name, msg)
		}
	}
}

func invariantViolation(sec *Secret) string {
	seen := map[string]string{}
	for id, v := range sec.Versions {
		if id != v.VersionId {
			return "version keyed by another ID"
		}
		if len(v.Stages) > MaxLabelsPerVer {
			return "too many labels on " + id
		}
		for _, l := range v.Stages {
			if other, ok := seen[l]; ok {
				return fmt.Sprintf("label %s on %s and %s", l, other, id)
			}
			seen[l] = id
		}
	}
	if _, ok := seen[StageCurrent]; len(sec.Versions) > 0 && !ok {
		return "versions but no AWSCURRENT"
	}
	return ""
}
