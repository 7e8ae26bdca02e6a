package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Defaults of Options.
const (
	DefaultQueueSize   = 4096
	DefaultMaxTracked  = 10_000
	DefaultMaxFindings = 10_000
	// responseTimeout bounds one automatic response.
	responseTimeout = 10 * time.Second
)

// ErrNotRunning is returned by Flush when the detector is not started.
var ErrNotRunning = errors.New("detect: detector is not running")

// Responder carries out automatic responses; core implements it. Both
// methods are called from the detector goroutine, never from the request
// path, and must not wait for the detector.
type Responder interface {
	RevokeAccessor(ctx context.Context, accessor string) error
	DisableEntity(ctx context.Context, entityID string) error
}

// Options configure a Detector. Storage is required.
type Options struct {
	// Storage holds rule settings ("rules/<name>") and findings
	// ("findings/<id>"); give the detector a view of its own.
	Storage logical.Storage
	// Now is the clock, time.Now when nil. Event times, when set, are
	// used for windows instead.
	Now    func() time.Time
	Logger *slog.Logger
	// Responder, when nil, makes every automatic response a no-op that is
	// recorded in the finding's actions.
	Responder Responder
	// Notify is called on the detector goroutine with every new finding
	// (after it is stored and its response taken); it must not block.
	Notify func(Finding)
	// QueueSize bounds the events waiting for the detector
	// (DefaultQueueSize when zero); Observe drops events beyond it.
	QueueSize int
	// MaxTracked caps the identities profiled and the keys (accessors,
	// addresses, login paths) each counting rule tracks; the least
	// recently seen is evicted (DefaultMaxTracked when zero).
	MaxTracked int
	// MaxFindings caps the stored findings; the oldest are deleted
	// (DefaultMaxFindings when zero).
	MaxFindings int
}

// item is one entry of the queue: an event, or a flush marker.
type item struct {
	ev   Event
	done chan struct{}
}

// Detector applies the rules to the events it observes. Its methods are
// safe for concurrent use; rule state is owned by one goroutine.
type Detector struct {
	storage   logical.Storage
	now       func() time.Time
	logger    *slog.Logger
	responder Responder
	notify    func(Finding)

	// Observed events wait in buf (at most qcap) until the detector
	// goroutine takes them in batches: one wake-up per batch, not per event.
	qmu      sync.Mutex
	buf      []item
	qcap     int
	signal   chan struct{} // capacity 1: work is waiting
	rules    atomic.Pointer[ruleSet]
	rulesMu  sync.Mutex // serialises rule updates
	findings *findingStore
	stats    *counters
	eng      *engine // owned by the run goroutine

	mu     sync.Mutex // guards cancel and done
	cancel context.CancelFunc
	done   chan struct{}
}

// ruleSet holds one setting per rule, in the order of specs. A published
// set is never modified.
type ruleSet []RuleConfig

// New builds a detector, loading rule settings and findings from storage.
// Call Start to begin processing.
func New(opts Options) (*Detector, error) {
	if opts.Storage == nil {
		return nil, errors.New("detect: Options.Storage is required")
	}
	d := &Detector{
		storage: opts.Storage, now: opts.Now, logger: opts.Logger,
		responder: opts.Responder, notify: opts.Notify,
		qcap:   orDefault(opts.QueueSize, DefaultQueueSize),
		signal: make(chan struct{}, 1),
		stats:  newCounters(),
		eng:    newEngine(orDefault(opts.MaxTracked, DefaultMaxTracked)),
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.logger == nil {
		d.logger = slog.Default()
	}
	ctx := context.Background()
	loaded, err := d.loadRules(ctx)
	if err != nil {
		return nil, err
	}
	rs := make(ruleSet, len(specs))
	for i, s := range specs {
		rs[i] = loaded[s.name]
	}
	d.rules.Store(&rs)
	d.findings = &findingStore{storage: opts.Storage, max: orDefault(opts.MaxFindings, DefaultMaxFindings)}
	if err := d.findings.load(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Start begins processing queued events until ctx ends or Stop is called.
// Starting a running detector does nothing.
func (d *Detector) Start(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	d.cancel, d.done = cancel, done
	go d.run(ctx, done)
}

// Stop ends processing and waits for the detector goroutine to return.
// Events still queued stay queued for a later Start.
func (d *Detector) Stop() {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.cancel, d.done = nil, nil
	d.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// batchDelay is how long the detector goroutine lets events gather after
// a wake-up before it takes them, so a loaded server wakes it rarely.
const batchDelay = 2 * time.Millisecond

// Observe queues one audited request for the rules. It never blocks: when
// the queue is full the event is dropped and counted. The caller must not
// modify ev's slices afterwards.
func (d *Detector) Observe(ev Event) {
	d.stats.observed.Add(1)
	if !d.enqueue(item{ev: ev}) {
		d.stats.dropped.Add(1)
	}
}

// enqueue adds it to the queue unless the queue is full (flush markers
// always fit), waking the detector goroutine when the queue was empty.
func (d *Detector) enqueue(it item) bool {
	d.qmu.Lock()
	if it.done == nil && len(d.buf) >= d.qcap {
		d.qmu.Unlock()
		return false
	}
	d.buf = append(d.buf, it)
	first := len(d.buf) == 1
	d.qmu.Unlock()
	if first {
		select {
		case d.signal <- struct{}{}:
		default:
		}
	}
	return true
}

// queueLen is the number of queued events.
func (d *Detector) queueLen() int {
	d.qmu.Lock()
	defer d.qmu.Unlock()
	return len(d.buf)
}

// Flush waits until every event observed before the call is processed.
func (d *Detector) Flush(ctx context.Context) error {
	d.mu.Lock()
	done := d.done
	d.mu.Unlock()
	if done == nil {
		return ErrNotRunning
	}
	marker := make(chan struct{})
	d.enqueue(item{done: marker})
	select {
	case <-marker:
		return nil
	case <-done:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Detector) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	var batch []item
	timer := time.NewTimer(batchDelay)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.signal:
		}
		timer.Reset(batchDelay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		d.qmu.Lock()
		batch, d.buf = d.buf, batch[:0]
		d.qmu.Unlock()
		for i := range batch {
			if it := &batch[i]; it.done != nil {
				close(it.done)
			} else {
				d.process(ctx, &it.ev)
				d.stats.processed.Add(1)
			}
			batch[i] = item{}
		}
	}
}

// process applies every rule, in order, to one event.
func (d *Detector) process(ctx context.Context, ev *Event) {
	now := ev.Time
	if now.IsZero() {
		now = d.now()
	}
	rs := *d.rules.Load()
	p := d.eng.profileFor(ev, now)
	for i, s := range specs {
		c := &rs[i]
		trigs := s.eval(d.eng, ev, now, c, p)
		if c.Enabled && len(trigs) > 0 {
			d.raise(ctx, c, trigs, now)
		}
	}
	d.stats.tracked.Store(int64(d.eng.profiles.len()))
}

// raise turns the first trigger whose subject is not cooling down into a
// finding, and starts the cooldown of every subject the event triggered,
// so one burst seen under two keys (accessor and address) is one finding.
func (d *Detector) raise(ctx context.Context, c *RuleConfig, trigs []trigger, now time.Time) {
	for i, t := range trigs {
		if d.eng.coolingDown(c.Name, t.key, now) {
			d.stats.suppressed[c.Name].Add(1)
			continue
		}
		for _, u := range trigs[i:] {
			if !d.eng.coolingDown(c.Name, u.key, now) {
				d.eng.cool(c.Name, u.key, now.Add(c.Cooldown))
			}
		}
		d.fire(ctx, c, t, now)
		return
	}
}

func (d *Detector) fire(ctx context.Context, c *RuleConfig, t trigger, now time.Time) {
	id, err := newID()
	if err != nil {
		d.logger.Error("detect: cannot make a finding id", "rule", c.Name, "error", err)
		return
	}
	f := Finding{ID: id, Rule: c.Name, Severity: c.Severity, Time: now.UTC(),
		Summary: t.summary, Subject: t.subject, Evidence: []string{}}
	for _, rid := range t.evidence {
		if rid != "" {
			f.Evidence = append(f.Evidence, rid)
		}
	}
	f.Actions = d.respond(ctx, c.Response, &f)
	if err := d.findings.add(ctx, f); err != nil {
		d.logger.Error("detect: cannot store finding", "rule", c.Name, "finding", f.ID, "error", err)
	}
	d.stats.findings[c.Name].Add(1)
	d.logger.Warn("detect: finding", "rule", f.Rule, "severity", string(f.Severity), "finding", f.ID, "summary", f.Summary)
	if d.notify != nil {
		d.notify(f.clone())
	}
}

// respond takes the rule's automatic response and describes what it did.
func (d *Detector) respond(ctx context.Context, a Action, f *Finding) []string {
	var target, verb string
	var call func(context.Context, string) error
	switch a {
	case ActionRevokeToken:
		target, verb = f.Subject.Accessor, "revoked token accessor"
		if d.responder != nil {
			call = d.responder.RevokeAccessor
		}
	case ActionDisableEntity:
		target, verb = f.Subject.EntityID, "disabled entity"
		if d.responder != nil {
			call = d.responder.DisableEntity
		}
	default:
		return nil
	}
	switch {
	case target == "":
		return []string{fmt.Sprintf("%s skipped: the finding names no %s", a, targetNoun(a))}
	case call == nil:
		return []string{fmt.Sprintf("%s skipped: no responder is configured", a)}
	}
	ctx, cancel := context.WithTimeout(ctx, responseTimeout)
	defer cancel()
	if err := call(ctx, target); err != nil {
		d.logger.Error("detect: automatic response failed", "response", string(a), "finding", f.ID, "error", err)
		return []string{fmt.Sprintf("%s of %s failed", a, target)}
	}
	return []string{verb + " " + target}
}

func targetNoun(a Action) string {
	if a == ActionDisableEntity {
		return "entity"
	}
	return "token accessor"
}

func (f Finding) clone() Finding {
	f.Evidence = slices.Clone(f.Evidence)
	f.Actions = slices.Clone(f.Actions)
	return f
}
