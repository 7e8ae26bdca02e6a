package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinko-dev/kinko/internal/detect"
)

// Dispatcher defaults.
const (
	DefaultQueueSize   = 256
	DefaultSendTimeout = 5 * time.Minute
)

// ErrClosed is returned by Set on a closed Dispatcher.
var ErrClosed = errors.New("alert: dispatcher is closed")

// DispatcherOptions configures a Dispatcher; zero values take defaults.
type DispatcherOptions struct {
	// QueueSize bounds each sink's queue of undelivered findings.
	QueueSize int
	// SendTimeout bounds one Send, retries included.
	SendTimeout time.Duration
	// Logger receives one Warn record per failed delivery.
	Logger *slog.Logger
}

// SinkStats counts one sink's deliveries since it was first set.
type SinkStats struct {
	Name    string
	Sent    uint64 // delivered
	Failed  uint64 // Send returned an error
	Dropped uint64 // never attempted: queue full, sink removed or dispatcher closed
	Queued  int    // waiting now
}

// Dispatcher fans findings out to sinks in the background. Each sink has
// its own bounded queue and worker goroutine, so a slow or failing sink
// delays only itself. Notify never blocks; a finding that meets a full
// queue is dropped for that sink and counted. All methods are safe for
// concurrent use. A Dispatcher is a prometheus.Collector.
type Dispatcher struct {
	opts   DispatcherOptions
	logger *slog.Logger
	base   context.Context // parent of every worker's context
	abort  context.CancelFunc
	wg     sync.WaitGroup // every worker goroutine, retired ones included

	mu      sync.Mutex
	closed  bool
	workers map[string]*worker
	stats   map[string]*counters // kept across a sink's replacement
	pending int                  // queued or being sent, over all workers
	idle    chan struct{}        // closed while pending == 0
}

type worker struct {
	sink   Sink
	queue  chan detect.Finding
	ctx    context.Context
	cancel context.CancelFunc
	stats  *counters
}

type counters struct{ sent, failed, dropped atomic.Uint64 }

var _ prometheus.Collector = (*Dispatcher)(nil)

// NewDispatcher returns a Dispatcher with no sinks.
func NewDispatcher(opts DispatcherOptions) *Dispatcher {
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = DefaultSendTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	idle := make(chan struct{})
	close(idle)
	d := &Dispatcher{
		opts: opts, logger: logger, idle: idle,
		workers: map[string]*worker{}, stats: map[string]*counters{},
	}
	d.base, d.abort = context.WithCancel(context.Background())
	return d
}

// Set adds s, or replaces the sink of the same name. A replaced sink
// still delivers what was queued for it; new findings go to s.
func (d *Dispatcher) Set(s Sink) error {
	if s == nil {
		return errors.New("alert: nil sink")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	name := s.Name()
	if old := d.workers[name]; old != nil {
		close(old.queue)
	}
	st := d.stats[name]
	if st == nil {
		st = &counters{}
		d.stats[name] = st
	}
	w := &worker{sink: s, queue: make(chan detect.Finding, d.opts.QueueSize), stats: st}
	w.ctx, w.cancel = context.WithCancel(d.base)
	d.workers[name] = w
	d.wg.Add(1)
	go d.run(w)
	return nil
}

// Remove stops the named sink at once: what is still queued for it is
// dropped and a Send in progress is cancelled. It reports whether the
// sink existed.
func (d *Dispatcher) Remove(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := d.workers[name]
	if w == nil {
		return false
	}
	delete(d.workers, name)
	delete(d.stats, name)
	if !d.closed {
		close(w.queue)
	}
	w.cancel()
	return true
}

// Names returns the names of the current sinks, sorted.
func (d *Dispatcher) Names() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(d.workers))
	for n := range d.workers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Notify queues f for every sink that accepts it and returns at once. It
// has the shape of the detector's notification callback.
func (d *Dispatcher) Notify(f detect.Finding) {
	f.Evidence = slices.Clone(f.Evidence) // the caller may reuse its slices
	f.Actions = slices.Clone(f.Actions)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.workers {
		if fl, ok := w.sink.(Filter); ok && !fl.Accepts(f) {
			continue
		}
		if d.closed {
			w.stats.dropped.Add(1)
			continue
		}
		select {
		case w.queue <- f:
			if d.pending == 0 {
				d.idle = make(chan struct{})
			}
			d.pending++
		default:
			w.stats.dropped.Add(1)
		}
	}
}

func (d *Dispatcher) run(w *worker) {
	defer d.wg.Done()
	defer w.cancel()
	for f := range w.queue {
		d.deliver(w, f)
		d.finish()
	}
}

func (d *Dispatcher) deliver(w *worker, f detect.Finding) {
	if w.ctx.Err() != nil {
		w.stats.dropped.Add(1)
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, d.opts.SendTimeout)
	defer cancel()
	if err := safeSend(ctx, w.sink, f); err != nil {
		w.stats.failed.Add(1)
		d.logger.Warn("alert delivery failed", "sink", w.sink.Name(),
			"finding_id", f.ID, "rule", f.Rule, "error", err)
		return
	}
	w.stats.sent.Add(1)
}

// safeSend turns a panicking sink into a failed delivery.
func safeSend(ctx context.Context, s Sink, f detect.Finding) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sink panicked: %v", r)
		}
	}()
	return s.Send(ctx, f)
}

func (d *Dispatcher) finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending--
	if d.pending == 0 {
		close(d.idle)
	}
}

// WaitIdle returns once no finding is queued or being sent, or with
// ctx's error when ctx ends first.
func (d *Dispatcher) WaitIdle(ctx context.Context) error {
	d.mu.Lock()
	idle := d.idle
	d.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops intake (later findings are counted as dropped) and waits
// for the queues to drain. When ctx ends first it cancels the deliveries
// still running, waits for the workers to stop and returns ctx's error.
// Close may be called more than once.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		for _, w := range d.workers {
			close(w.queue)
		}
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		d.abort()
		return nil
	case <-ctx.Done():
		d.abort()
		<-done
		return ctx.Err()
	}
}

// Stats returns the counters of the current sinks, sorted by name.
func (d *Dispatcher) Stats() []SinkStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]SinkStats, 0, len(d.workers))
	for name, w := range d.workers {
		out = append(out, SinkStats{
			Name: name, Sent: w.stats.sent.Load(), Failed: w.stats.failed.Load(),
			Dropped: w.stats.dropped.Load(), Queued: len(w.queue),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Stat returns the counters of one sink.
func (d *Dispatcher) Stat(name string) (SinkStats, bool) {
	for _, s := range d.Stats() {
		if s.Name == name {
			return s, true
		}
	}
	return SinkStats{}, false
}

var (
	sentDesc = prometheus.NewDesc("kinko_detect_alerts_sent_total",
		"Findings delivered, by sink.", []string{"sink"}, nil)
	failedDesc = prometheus.NewDesc("kinko_detect_alerts_failed_total",
		"Findings a sink failed to deliver.", []string{"sink"}, nil)
	droppedDesc = prometheus.NewDesc("kinko_detect_alerts_dropped_total",
		"Findings never attempted (queue full, sink removed, dispatcher closed).", []string{"sink"}, nil)
	queuedDesc = prometheus.NewDesc("kinko_detect_alerts_queued",
		"Findings waiting in a sink's queue.", []string{"sink"}, nil)
)

// Describe implements prometheus.Collector.
func (d *Dispatcher) Describe(ch chan<- *prometheus.Desc) {
	ch <- sentDesc
	ch <- failedDesc
	ch <- droppedDesc
	ch <- queuedDesc
}

// Collect implements prometheus.Collector.
func (d *Dispatcher) Collect(ch chan<- prometheus.Metric) {
	for _, s := range d.Stats() {
		ch <- prometheus.MustNewConstMetric(sentDesc, prometheus.CounterValue, float64(s.Sent), s.Name)
		ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.CounterValue, float64(s.Failed), s.Name)
		ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(s.Dropped), s.Name)
		ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(s.Queued), s.Name)
	}
}
