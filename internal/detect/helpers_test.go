package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

var bg = context.Background()

// t0 is the start of simulated time in tests.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// clock is the settable test clock.
type clock = testclock.Clock

// responder records the automatic responses it is asked to take.
type responder struct {
	mu       sync.Mutex
	revoked  []string
	disabled []string
	fail     bool
}

func (r *responder) RevokeAccessor(_ context.Context, accessor string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("token store unavailable")
	}
	r.revoked = append(r.revoked, accessor)
	return nil
}

func (r *responder) DisableEntity(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("identity store unavailable")
	}
	r.disabled = append(r.disabled, id)
	return nil
}

type fx struct {
	t        testing.TB
	d        *Detector
	st       *inmem.Backend
	clock    *clock
	resp     *responder
	fw       *logical.Framework
	mu       sync.Mutex
	notified []Finding
}

func newFx(t testing.TB) *fx { return newFxOpts(t, Options{}) }

// newFxOpts builds a started detector on fresh in-memory storage (or
// opts.Storage), with a test clock and a recording responder.
func newFxOpts(t testing.TB, opts Options) *fx {
	t.Helper()
	f := &fx{t: t, clock: testclock.New(t0), resp: &responder{}}
	if opts.Storage == nil {
		f.st = inmem.New()
		opts.Storage = f.st
	}
	opts.Now = f.clock.Now
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Responder == nil {
		opts.Responder = f.resp
	}
	opts.Notify = func(fd Finding) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.notified = append(f.notified, fd)
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	d.Start(bg)
	t.Cleanup(d.Stop)
	f.d = d
	f.fw = (&logical.Framework{PathList: d.Paths()}).Compile()
	return f
}

// feed observes events and waits until they are processed.
func (f *fx) feed(evs ...Event) {
	f.t.Helper()
	for _, ev := range evs {
		f.d.Observe(ev)
		if f.d.queueLen() == f.d.qcap {
			f.flush()
		}
	}
	f.flush()
}

func (f *fx) flush() {
	f.t.Helper()
	if err := f.d.Flush(bg); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) findings(rule string) []Finding {
	return f.d.Findings(FindingQuery{Rule: rule})
}

func (f *fx) setRule(name string, change func(*RuleConfig)) {
	f.t.Helper()
	if _, err := f.d.UpdateRule(bg, name, func(c *RuleConfig) error { change(c); return nil }); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return f.fw.HandleRequest(bg, &logical.Request{Operation: op, Path: path, Data: data})
}

// seq numbers request ids across a test.
type seq struct{ n int }

func (s *seq) id() string {
	s.n++
	return fmt.Sprintf("req-%06d", s.n)
}

// read is a successful secret read by an entity.
func read(s *seq, at time.Time, entity, path, ip string) Event {
	return Event{RequestID: s.id(), Time: at, Operation: "read", Path: path, MountPoint: "secret/", MountType: "kv",
		RemoteAddr: ip, Accessor: "acc-" + entity, EntityID: entity, DisplayName: "userpass-" + entity,
		Policies: []string{"default", entity}}
}

// history is a learned profile: reads cycling over paths, every step,
// for n reads, starting at start. It returns the events and the time
// after the last one.
func history(s *seq, start time.Time, n int, step time.Duration, entity, ip string, paths ...string) ([]Event, time.Time) {
	evs := make([]Event, 0, n)
	at := start
	for i := 0; i < n; i++ {
		evs = append(evs, read(s, at, entity, paths[i%len(paths)], ip))
		at = at.Add(step)
	}
	return evs, at
}

// repeat returns n copies of ev at step apart with fresh request ids,
// each modified by mod (which may be nil).
func repeat(s *seq, ev Event, n int, start time.Time, step time.Duration, mod func(i int, ev *Event)) []Event {
	out := make([]Event, n)
	for i := range out {
		e := ev
		e.RequestID = s.id()
		e.Time = start.Add(time.Duration(i) * step)
		if mod != nil {
			mod(i, &e)
		}
		out[i] = e
	}
	return out
}
