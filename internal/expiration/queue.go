package expiration

import (
	"context"
	"time"
)

// schedule (re)sets when the scheduler acts on a lease.
func (m *Manager) schedule(id string, at time.Time) {
	m.mu.Lock()
	first := m.queue.Set(id, at)
	delete(m.deferred, id)
	m.mu.Unlock()
	if first {
		m.kick()
	}
}

// unschedule forgets a lease's timer.
func (m *Manager) unschedule(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queue.Remove(id)
	delete(m.deferred, id)
}

// kick wakes the scheduler to look at the head of the queue again.
func (m *Manager) kick() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// scheduler hands due leases to the workers. A lease handed out stays in
// the heap, pushed one retry period ahead, so that if its revocation is
// lost (a crash, a worker that gives up) it comes round again; the worker
// removes or reschedules it when it is done.
func (m *Manager) scheduler(ctx context.Context) {
	defer m.done.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := m.dispatchDue(ctx)
		if wait < 0 {
			return
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-timer.C:
		}
	}
}

// dispatchDue sends every due lease to the workers and returns how long
// to wait for the next one (an hour when none), or -1 when ctx is done.
func (m *Manager) dispatchDue(ctx context.Context) time.Duration {
	for {
		now := m.opts.Now()
		m.mu.Lock()
		id, at, ok := m.queue.Peek()
		if !ok {
			m.mu.Unlock()
			return time.Hour
		}
		if wait := at.Sub(now); wait > 0 {
			m.mu.Unlock()
			return wait
		}
		busy := m.inflight[id]
		// handed out (or, when claimed by an API call that just scheduled
		// it, deferred to its release): looked at again in RetryMax if
		// nothing else reschedules it
		m.queue.Set(id, now.Add(m.opts.RetryMax))
		if busy {
			m.deferred[id] = true
		} else {
			delete(m.deferred, id)
		}
		m.mu.Unlock()
		if busy {
			continue
		}
		select {
		case m.work <- id:
		case <-ctx.Done():
			return -1
		}
	}
}

func (m *Manager) worker(ctx context.Context) {
	defer m.done.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-m.work:
			m.expire(ctx, id)
		}
	}
}
