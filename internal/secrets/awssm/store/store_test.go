package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

func TestErrorType(t *testing.T) {
	e := newEnv(t)
	_, err := e.s.DescribeSecret(ctx, DescribeSecretInput{SecretId: "nope"})
	if !errors.Is(err, logical.ErrNotFound) || err.Error() != "ResourceNotFoundException: Secrets Manager can't find the specified secret." {
		t.Fatalf("not found: %v", err)
	}
	ae, ok := AsError(fmt.Errorf("wrapped: %w", err))
	if !ok || ae.Code != CodeResourceNotFound || ae.HTTPStatus() != 400 {
		t.Fatalf("AsError: %+v", ae)
	}
	_, err = e.s.DescribeSecret(ctx, DescribeSecretInput{})
	if !errors.Is(err, logical.ErrInvalidRequest) {
		t.Fatalf("invalid: %v", err)
	}
	if (&Error{Code: CodeInternalService}).HTTPStatus() != 500 || errors.Unwrap(&Error{Code: CodeInternalService}) != nil {
		t.Fatal("internal error mapping")
	}
	if !errors.Is(&Error{Code: CodePreconditionNotMet}, logical.ErrPreconditionFailed) {
		t.Fatal("precondition mapping")
	}
}

func TestNewOptions(t *testing.T) {
	for _, o := range []Options{
		{Region: "r", AccountID: "a"},
		{Storage: inmem.New(), AccountID: "a"},
		{Storage: inmem.New(), Region: "r"},
		{Storage: inmem.New(), Region: "r:x", AccountID: "a"},
	} {
		if _, err := New(o); err == nil {
			t.Fatalf("New(%+v) accepted", o)
		}
	}
	s, err := New(Options{Storage: inmem.New(), Region: "eu-west-1", AccountID: "1", Partition: "aws"})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := s.CreateSecret(ctx, CreateSecretInput{Name: "x"})
	if !strings.HasPrefix(out.ARN, "arn:aws:secretsmanager:eu-west-1:1:secret:x-") {
		t.Fatalf("ARN %s", out.ARN)
	}
}

func TestSmallCache(t *testing.T) {
	st := &countingStorage{Backend: inmem.New()}
	s, _ := New(Options{Storage: st, Region: "r", AccountID: "a", CacheSize: 2})
	for i := range 5 {
		s.CreateSecret(ctx, CreateSecretInput{Name: fmt.Sprint("s", i), SecretString: str(fmt.Sprint("v", i))})
	}
	for round := range 3 {
		for i := range 5 {
			out, err := s.GetSecretValue(ctx, GetSecretValueInput{SecretId: fmt.Sprint("s", i)})
			if err != nil || *out.SecretString != fmt.Sprint("v", i) {
				t.Fatalf("round %d secret %d: %v %v", round, i, out, err)
			}
		}
	}
	if n := len(s.cache); n > 2 {
		t.Fatalf("cache holds %d", n)
	}
}

// failingStorage fails every operation while fail is set.
type failingStorage struct {
	storage.Backend
	fail, failPut bool
}

var errDisk = errors.New("disk on fire")

func (f *failingStorage) Get(ctx context.Context, k string) (*storage.Entry, error) {
	if f.fail {
		return nil, errDisk
	}
	return f.Backend.Get(ctx, k)
}

func (f *failingStorage) Put(ctx context.Context, e *storage.Entry) error {
	if f.fail || f.failPut {
		return errDisk
	}
	return f.Backend.Put(ctx, e)
}

func (f *failingStorage) List(ctx context.Context, p string) ([]string, error) {
	if f.fail {
		return nil, errDisk
	}
	return f.Backend.List(ctx, p)
}

// TestStorageFailure: storage errors come back as internal errors (not
// *Error), and a failed write leaves neither storage nor cache changed.
func TestStorageFailure(t *testing.T) {
	st := &failingStorage{Backend: inmem.New()}
	clock := testclock.New(t0)
	s, _ := New(Options{Storage: st, Region: "r", AccountID: "a", Now: clock.Now})
	s.CreateSecret(ctx, CreateSecretInput{Name: "s", ClientRequestToken: tok(0), SecretString: str("v0")})
	st.fail = true
	_, err := s.PutSecretValue(ctx, PutSecretValueInput{SecretId: "s", SecretString: str("v1")})
	if !errors.Is(err, errDisk) {
		t.Fatalf("put: %v", err)
	}
	if _, ok := AsError(err); ok {
		t.Fatal("a storage failure became an API error")
	}
	for _, op := range []func() error{
		func() error { _, err := s.ListSecrets(ctx, ListSecretsInput{}); return err },
		func() error { _, err := s.CreateSecret(ctx, CreateSecretInput{Name: "new"}); return err },
		func() error { _, err := s.Purge(ctx, t0); return err },
	} {
		if err := op(); !errors.Is(err, errDisk) {
			t.Fatalf("got %v, want the storage error", err)
		}
	}
	if _, err := s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "s"}); !errors.Is(err, errDisk) {
		t.Fatalf("uncached read: %v", err)
	}
	st.fail = false
	out, err := s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "s"})
	if err != nil || *out.SecretString != "v0" || out.VersionId != tok(0) {
		t.Fatalf("after failure %+v, %v", out, err)
	}
	// with writes failing, a read still works; its access-date write fails quietly
	st.failPut = true
	clock.Advance(24 * time.Hour)
	if _, err := s.GetSecretValue(ctx, GetSecretValueInput{SecretId: "s"}); err != nil {
		t.Fatalf("read while writes fail: %v", err)
	}
}
