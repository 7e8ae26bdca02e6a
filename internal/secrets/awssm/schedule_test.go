package awssm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/awssm/store"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

// schedFixture is an aws-sm backend on a test clock with an HTTP hook
// that rotates through the store, as a Lambda would through the API.
type schedFixture struct {
	t     *testing.T
	clock *testclock.Clock
	st    logical.Storage
	b     *Backend
	runs  atomic.Int32
	hook  *httptest.Server
}

func newSchedFixture(t *testing.T, start time.Time) *schedFixture {
	f := &schedFixture{t: t, clock: testclock.New(start), st: inmem.New()}
	f.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev rotationEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var err error
		switch ev.Step {
		case stepCreate:
			v := "value-" + ev.ClientRequestToken
			_, err = f.b.st.CreatePendingVersion(r.Context(), store.CreatePendingVersionInput{SecretId: ev.SecretId, ClientRequestToken: ev.ClientRequestToken, SecretString: &v})
		case stepFinish:
			f.runs.Add(1)
			_, err = f.b.st.FinishRotation(r.Context(), store.FinishRotationInput{SecretId: ev.SecretId, VersionId: ev.ClientRequestToken})
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
		}
	}))
	t.Cleanup(f.hook.Close)
	f.start()
	f.do(logical.UpdateOperation, "hooks/h", map[string]any{"type": "http", "url": f.hook.URL})
	return f
}

// start builds the backend on the fixture's storage, as an unseal does.
func (f *schedFixture) start() {
	b, err := newBackend(&logical.BackendConfig{StorageView: f.st, Config: map[string]string{}}, f.clock.Now)
	if err != nil {
		f.t.Fatal(err)
	}
	f.b = b // before Initialize: the scheduler it starts may call the hook at once
	if err := b.Initialize(context.Background(), f.st); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { b.Cleanup(context.Background()) })
}

func (f *schedFixture) do(op logical.Operation, path string, data map[string]any) map[string]any {
	f.t.Helper()
	resp, err := f.b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data, Storage: f.st})
	if err != nil {
		f.t.Fatalf("%s %s: %v", op, path, err)
	}
	if resp == nil {
		return nil
	}
	return resp.Data
}

// tick runs the scheduler at the clock's time and waits for the
// rotations it started.
func (f *schedFixture) tick() {
	f.t.Helper()
	if err := f.b.sched.Flush(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.b.workers.Wait()
}

func TestScheduledRotation(t *testing.T) {
	start := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	f := newSchedFixture(t, start)
	f.do(logical.CreateOperation, "secrets/app", map[string]any{"SecretString": "v0"})
	f.do(logical.UpdateOperation, "rotate/app", map[string]any{"RotationLambdaARN": "h",
		"RotationRules": map[string]any{"AutomaticallyAfterDays": 2}, "RotateImmediately": false})
	next, ok := f.b.sched.Next("app")
	if !ok {
		t.Fatal("rotation not scheduled")
	}
	if want := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Fatalf("next rotation %v, want %v (the window opens at midnight UTC)", next, want)
	}
	f.tick()
	if n := f.runs.Load(); n != 0 {
		t.Fatalf("%d rotations before the schedule", n)
	}
	f.clock.Set(next.Add(time.Minute))
	f.tick()
	if n := f.runs.Load(); n != 1 {
		t.Fatalf("%d rotations when due, want 1", n)
	}
	st := f.do(logical.ReadOperation, "rotation/app", nil)
	if st["Status"] != "idle" || st["LastRotatedDate"] == nil {
		t.Fatalf("status after the rotation: %v", st)
	}
	next2, ok := f.b.sched.Next("app")
	if !ok || !next2.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("next rotation after the first: %v %v", next2, ok)
	}

	// a restart (seal, unseal) schedules it again from storage
	f.b.Cleanup(context.Background())
	f.start()
	if again, ok := f.b.sched.Next("app"); !ok || !again.Equal(next2) {
		t.Fatalf("after restart: next %v %v, want %v", again, ok, next2)
	}
	// cancel takes it off the scheduler
	f.do(logical.UpdateOperation, "cancel-rotate/app", nil)
	if _, ok := f.b.sched.Next("app"); ok {
		t.Fatal("still scheduled after CancelRotateSecret")
	}
}

func TestCronSchedule(t *testing.T) {
	f := newSchedFixture(t, time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)) // a Wednesday
	f.do(logical.CreateOperation, "secrets/app", map[string]any{"SecretString": "v0"})
	// first Monday of the month, 04:00 UTC, a 2-hour window
	f.do(logical.UpdateOperation, "rotate/app", map[string]any{"RotationLambdaARN": "h", "RotateImmediately": false,
		"RotationRules": map[string]any{"ScheduleExpression": "cron(0 4 ? * MON#1 *)", "Duration": "2h"}})
	next, ok := f.b.sched.Next("app")
	if want := time.Date(2026, 4, 6, 4, 0, 0, 0, time.UTC); !ok || !next.Equal(want) {
		t.Fatalf("next rotation %v %v, want %v", next, ok, want)
	}
	f.clock.Set(next.Add(30 * time.Minute))
	f.tick()
	if n := f.runs.Load(); n != 1 {
		t.Fatalf("%d rotations, want 1", n)
	}
	if next2, _ := f.b.sched.Next("app"); !next2.Equal(time.Date(2026, 5, 4, 4, 0, 0, 0, time.UTC)) {
		t.Fatalf("following rotation %v", next2)
	}
	// bad rules are refused with AWS's error
	_, err := f.b.HandleRequest(context.Background(), &logical.Request{Operation: logical.UpdateOperation, Path: "rotate/app", Storage: f.st,
		Data: map[string]any{"RotationRules": map[string]any{"ScheduleExpression": "rate(1 hours)"}}})
	if err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Fatalf("rate(1 hours): %v", err)
	}
}

// TestInterruptedRotationResumes: a rotation whose state was stored
// before a crash resumes with its token at the next start.
func TestInterruptedRotationResumes(t *testing.T) {
	f := newSchedFixture(t, time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC))
	f.do(logical.CreateOperation, "secrets/app", map[string]any{"SecretString": "v0"})
	f.do(logical.UpdateOperation, "rotate/app", map[string]any{"RotationLambdaARN": "h", "RotateImmediately": false,
		"RotationRules": map[string]any{"ScheduleExpression": "rate(10 days)"}})
	desc := f.do(logical.ReadOperation, "describe/app", nil)
	token := "0123456789abcdef0123456789abcdef"
	if err := f.b.saveState(context.Background(), "app", &rotationState{ARN: desc["ARN"].(string), Token: token, Started: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	f.b.Cleanup(context.Background())
	f.start()
	f.tick()
	got := f.do(logical.ReadOperation, "secrets/app", nil)
	if got["VersionId"] != token || got["SecretString"] != "value-"+token {
		t.Fatalf("resumed rotation: %v", got)
	}
}

func TestRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		attempts int
		want     time.Duration
	}{{1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {7, time.Hour}, {100, time.Hour}} {
		if got := retryDelay(tc.attempts); got != tc.want {
			t.Errorf("retryDelay(%d) = %s, want %s", tc.attempts, got, tc.want)
		}
	}
}
