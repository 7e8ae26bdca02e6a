// Package rotation is kinko's one rotation scheduler: whatever rotates a
// credential on a schedule (the database engine's static roles, and the
// AWS Secrets Manager-compatible secrets) registers names with the time
// they are next due, and a goroutine calls the owner's Due function for
// each name when its time comes. The owner keeps the schedule in its own
// storage and rebuilds the scheduler's queue from it at start (Set), and
// sets the next time after each rotation (or failure).
//
// Concurrency: Set, Remove, Kick and Flush are safe from any goroutine;
// Due runs on the scheduler's goroutine, one name at a time, and may call
// Set.
package rotation

import (
	"context"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/schedule"
)

// MaxSleep bounds how long the scheduler sleeps, so that a jump of the
// wall clock (cron schedules are wall-clock times) is noticed.
var MaxSleep = time.Minute

// Scheduler calls Due for each name whose time has come.
type Scheduler struct {
	// Due rotates name; it must Set the name's next time (or Remove it).
	Due func(ctx context.Context, name string)
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu     sync.Mutex
	q      schedule.Queue[string]
	wake   chan struct{}
	flushc chan chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) init() {
	if s.wake == nil {
		s.wake, s.flushc = make(chan struct{}, 1), make(chan chan struct{})
	}
}

// Start runs the scheduler until Stop.
func (s *Scheduler) Start() {
	s.mu.Lock()
	s.init()
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.loop(ctx)
}

// Stop ends the scheduler and waits for a rotation in progress.
func (s *Scheduler) Stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
		s.cancel = nil
	}
}

// Set (re)schedules name at at.
func (s *Scheduler) Set(name string, at time.Time) {
	s.mu.Lock()
	s.init()
	s.q.Set(name, at)
	s.mu.Unlock()
	s.Kick()
}

// Remove unschedules name.
func (s *Scheduler) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.q.Remove(name)
}

// Next returns when name is due.
func (s *Scheduler) Next(name string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.Get(name)
}

// Kick makes the scheduler look at its queue again.
func (s *Scheduler) Kick() {
	s.mu.Lock()
	s.init()
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Flush runs one pass now (rotating what is due by Now) and waits for it:
// the tick tests drive the scheduler with.
func (s *Scheduler) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case s.flushc <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Scheduler) loop(ctx context.Context) {
	defer close(s.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		var flushed chan struct{}
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		case flushed = <-s.flushc:
		}
		wait := s.pass(ctx)
		if flushed != nil {
			close(flushed)
		}
		timer.Stop()
		select { // drain a tick that fired meanwhile
		case <-timer.C:
		default:
		}
		timer.Reset(wait)
	}
}

// pass rotates what is due and returns the time to the next.
func (s *Scheduler) pass(ctx context.Context) time.Duration {
	s.mu.Lock()
	due := s.q.PopDue(s.now())
	s.mu.Unlock()
	for _, name := range due {
		if ctx.Err() != nil {
			break
		}
		s.Due(ctx, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.Wait(s.now(), MaxSleep)
}
