package alert

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinko-dev/kinko/internal/detect"
)

// recordSink keeps what it is sent. With gate set, each Send first
// announces itself on started and then waits for gate (or ctx).
type recordSink struct {
	name    string
	err     error
	gate    chan struct{}
	started chan string
	// delivered, when set, receives each id after it is recorded.
	delivered chan string
	mu        sync.Mutex
	got       []detect.Finding
	ctxErrs   []error
}

func (s *recordSink) Name() string { return s.name }

func (s *recordSink) Send(ctx context.Context, f detect.Finding) error {
	if s.gate != nil {
		s.started <- f.ID
		select {
		case <-s.gate:
		case <-ctx.Done():
			s.mu.Lock()
			s.ctxErrs = append(s.ctxErrs, ctx.Err())
			s.mu.Unlock()
			return ctx.Err()
		}
	}
	s.mu.Lock()
	s.got = append(s.got, f)
	s.mu.Unlock()
	if s.delivered != nil {
		s.delivered <- f.ID
	}
	return s.err
}

func (s *recordSink) ids() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(s.got))
	for i, f := range s.got {
		ids[i] = f.ID
	}
	return strings.Join(ids, ",")
}

type panicSink struct{}

func (panicSink) Name() string                               { return "panics" }
func (panicSink) Send(context.Context, detect.Finding) error { panic("boom") }

func gated(name string) *recordSink {
	return &recordSink{name: name, gate: make(chan struct{}), started: make(chan string, 100)}
}

func finding(id string, sev detect.Severity) detect.Finding {
	f := testFinding()
	f.ID, f.Severity = id, sev
	return f
}

func newTestDispatcher(t *testing.T, opts DispatcherOptions, sinks ...Sink) *Dispatcher {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := NewDispatcher(opts)
	for _, s := range sinks {
		if err := d.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = d.Close(ctx)
	})
	return d
}

func waitIdle(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.WaitIdle(ctx); err != nil {
		t.Fatalf("dispatcher never idle: %v", err)
	}
}

func wantStats(t *testing.T, d *Dispatcher, name string, sent, failed, dropped uint64) {
	t.Helper()
	st, ok := d.Stat(name)
	if !ok || st.Sent != sent || st.Failed != failed || st.Dropped != dropped {
		t.Fatalf("stats of %s = %+v (found %v), want sent %d failed %d dropped %d", name, st, ok, sent, failed, dropped)
	}
}

func TestDispatcherFanOut(t *testing.T) {
	rcv := newReceiver(t, reply{status: 200})
	hook, err := New(Config{Type: TypeWebhook, Name: "hook", Webhook: WebhookConfig{URL: rcv.URL, Secret: testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	h := &captureHandler{}
	logSink, _ := New(Config{Type: TypeLog}, WithLogger(slog.New(h)))
	a, b := &recordSink{name: "a"}, &recordSink{name: "b"}
	highOnly, _ := New(Config{Type: TypeLog, Name: "high-log", MinSeverity: detect.SeverityHigh}, WithLogger(slog.New(&captureHandler{})))
	d := newTestDispatcher(t, DispatcherOptions{}, a, b, hook, logSink, highOnly)

	d.Notify(finding("1", detect.SeverityLow))
	d.Notify(finding("2", detect.SeverityHigh))
	d.Notify(finding("3", detect.SeverityMedium))
	waitIdle(t, d)

	for _, s := range []*recordSink{a, b} {
		if got := s.ids(); got != "1,2,3" {
			t.Fatalf("sink %s got %s", s.name, got)
		}
		wantStats(t, d, s.name, 3, 0, 0)
	}
	if n := len(rcv.requests()); n != 3 {
		t.Fatalf("webhook receiver got %d", n)
	}
	if n := len(h.all()); n != 3 {
		t.Fatalf("log sink wrote %d records", n)
	}
	wantStats(t, d, "hook", 3, 0, 0)
	wantStats(t, d, "high-log", 1, 0, 0)
	if got := strings.Join(d.Names(), ","); got != "a,b,high-log,hook,log" {
		t.Fatalf("Names = %s", got)
	}
}

func TestDispatcherCopiesSlices(t *testing.T) {
	s := gated("s")
	d := newTestDispatcher(t, DispatcherOptions{}, s)
	f := finding("1", detect.SeverityHigh)
	d.Notify(f)
	f.Evidence[0] = "changed by caller"
	<-s.started
	close(s.gate)
	waitIdle(t, d)
	if s.got[0].Evidence[0] != "req-1" {
		t.Fatal("dispatcher shares the caller's slice")
	}
}

func TestDispatcherDropsWhenFull(t *testing.T) {
	slow, fast := gated("slow"), &recordSink{name: "fast", delivered: make(chan string, 1)}
	d := newTestDispatcher(t, DispatcherOptions{QueueSize: 2}, slow, fast)
	d.Notify(finding("0", detect.SeverityHigh))
	<-slow.started // the worker holds finding 0; the queue is empty
	<-fast.delivered
	for i := 1; i <= 5; i++ {
		d.Notify(finding(strconv.Itoa(i), detect.SeverityHigh)) // must not block
		<-fast.delivered                                        // the fast sink keeps going meanwhile
	}
	if st, _ := d.Stat("slow"); st.Dropped != 3 || st.Queued != 2 {
		t.Fatalf("slow stats while blocked: %+v", st)
	}
	close(slow.gate)
	waitIdle(t, d)
	if got := slow.ids(); got != "0,1,2" {
		t.Fatalf("slow got %s", got)
	}
	wantStats(t, d, "slow", 3, 0, 3)
	if fast.ids() != "0,1,2,3,4,5" {
		t.Fatalf("fast sink held back by the slow one: %s", fast.ids())
	}
}

func TestDispatcherCountsFailures(t *testing.T) {
	h := &captureHandler{}
	bad := &recordSink{name: "bad", err: errors.New("refused")}
	d := newTestDispatcher(t, DispatcherOptions{Logger: slog.New(h)}, bad, panicSink{})
	d.Notify(finding("1", detect.SeverityHigh))
	d.Notify(finding("2", detect.SeverityHigh))
	waitIdle(t, d)
	wantStats(t, d, "bad", 0, 2, 0)
	wantStats(t, d, "panics", 0, 2, 0)
	recs := h.all()
	if len(recs) != 4 || recs[0].Level != slog.LevelWarn {
		t.Fatalf("logged %d records", len(recs))
	}
	if a := flatAttrs(recs[0]); a["finding_id"].String() == "" || a["sink"].String() == "" {
		t.Fatalf("failure record lacks fields: %v", a)
	}
}

func TestDispatcherSendTimeout(t *testing.T) {
	s := gated("s")
	d := newTestDispatcher(t, DispatcherOptions{SendTimeout: time.Millisecond}, s)
	d.Notify(finding("1", detect.SeverityHigh))
	waitIdle(t, d)
	wantStats(t, d, "s", 0, 1, 0)
	if !errors.Is(s.ctxErrs[0], context.DeadlineExceeded) {
		t.Fatalf("ctx errors %v", s.ctxErrs)
	}
}

func TestDispatcherCloseDrains(t *testing.T) {
	s := gated("s")
	d := NewDispatcher(DispatcherOptions{Logger: slog.New(slog.DiscardHandler)})
	_ = d.Set(s)
	for i := range 3 {
		d.Notify(finding(strconv.Itoa(i), detect.SeverityHigh))
	}
	<-s.started
	closed := make(chan error, 1)
	go func() { closed <- d.Close(context.Background()) }()
	close(s.gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if s.ids() != "0,1,2" {
		t.Fatalf("drained %s", s.ids())
	}
	d.Notify(finding("late", detect.SeverityHigh))
	wantStats(t, d, "s", 3, 0, 1)
	if err := d.Set(&recordSink{name: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set after Close = %v", err)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestDispatcherCloseDeadlineCancels(t *testing.T) {
	s := gated("s")
	d := NewDispatcher(DispatcherOptions{Logger: slog.New(slog.DiscardHandler)})
	_ = d.Set(s)
	d.Notify(finding("1", detect.SeverityHigh))
	d.Notify(finding("2", detect.SeverityHigh))
	<-s.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v", err)
	}
	// Close returned, so the worker has stopped: finding 1 was cancelled,
	// finding 2 was never attempted.
	wantStats(t, d, "s", 0, 1, 1)
}

func TestDispatcherRemoveAndReplace(t *testing.T) {
	old := gated("s")
	d := newTestDispatcher(t, DispatcherOptions{}, old)
	d.Notify(finding("1", detect.SeverityHigh))
	d.Notify(finding("2", detect.SeverityHigh))
	<-old.started
	repl := &recordSink{name: "s"}
	if err := d.Set(repl); err != nil { // replace: old still delivers what it holds
		t.Fatal(err)
	}
	d.Notify(finding("3", detect.SeverityHigh))
	close(old.gate)
	waitIdle(t, d)
	if old.ids() != "1,2" || repl.ids() != "3" {
		t.Fatalf("old got %s, replacement got %s", old.ids(), repl.ids())
	}
	wantStats(t, d, "s", 3, 0, 0) // counters carry over

	gone := gated("gone")
	_ = d.Set(gone)
	d.Notify(finding("4", detect.SeverityHigh))
	d.Notify(finding("5", detect.SeverityHigh))
	<-gone.started
	if !d.Remove("gone") || d.Remove("gone") {
		t.Fatal("Remove reports wrongly")
	}
	waitIdle(t, d) // the cancelled Send and the dropped finding both finish
	if len(gone.ctxErrs) != 1 || gone.ids() != "" {
		t.Fatalf("removed sink: got %q, ctx errors %v", gone.ids(), gone.ctxErrs)
	}
	if _, ok := d.Stat("gone"); ok {
		t.Fatal("removed sink still has stats")
	}
}

func TestDispatcherWaitIdleHonoursContext(t *testing.T) {
	s := gated("s")
	d := newTestDispatcher(t, DispatcherOptions{}, s)
	d.Notify(finding("1", detect.SeverityHigh))
	<-s.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.WaitIdle(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitIdle = %v", err)
	}
	close(s.gate)
	waitIdle(t, d)
}

func TestDispatcherMetrics(t *testing.T) {
	ok, bad := &recordSink{name: "ok"}, &recordSink{name: "bad", err: errors.New("no")}
	d := newTestDispatcher(t, DispatcherOptions{Logger: slog.New(&captureHandler{})}, ok, bad)
	d.Notify(finding("1", detect.SeverityHigh))
	d.Notify(finding("2", detect.SeverityHigh))
	waitIdle(t, d)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(d)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			got[mf.GetName()+"/"+m.GetLabel()[0].GetValue()] = v
		}
	}
	for k, want := range map[string]float64{
		"kinko_detect_alerts_sent_total/ok": 2, "kinko_detect_alerts_failed_total/bad": 2,
		"kinko_detect_alerts_sent_total/bad": 0, "kinko_detect_alerts_dropped_total/ok": 0,
		"kinko_detect_alerts_queued/ok": 0,
	} {
		if v, found := got[k]; !found || v != want {
			t.Errorf("%s = %v (found %v), want %v", k, v, found, want)
		}
	}
}

func TestDispatcherNotifyConcurrent(t *testing.T) {
	s := &recordSink{name: "s"}
	d := newTestDispatcher(t, DispatcherOptions{QueueSize: 1000}, s)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				d.Notify(finding(strconv.Itoa(g*100+i), detect.SeverityHigh))
			}
		}()
	}
	wg.Wait()
	waitIdle(t, d)
	wantStats(t, d, "s", 400, 0, 0)
}

// The webhook sink's retries run inside the dispatcher's per-send timeout.
func TestDispatcherWebhookRetriesThenFails(t *testing.T) {
	rcv := newReceiver(t, reply{status: http.StatusBadGateway})
	w, _ := testWebhook(t, rcv.URL, 3, time.Second)
	d := newTestDispatcher(t, DispatcherOptions{Logger: slog.New(&captureHandler{})}, w)
	d.Notify(finding("1", detect.SeverityHigh))
	waitIdle(t, d)
	wantStats(t, d, "hook", 0, 1, 0)
	if n := len(rcv.requests()); n != 3 {
		t.Fatalf("%d attempts", n)
	}
}
