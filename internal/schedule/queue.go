// Package schedule is a timer queue: keys ordered by the time they are
// due, for the lease manager (expiry) and the rotation scheduler (next
// rotation). It is a min-heap with an index by key, so setting,
// removing and popping are O(log n). It is not safe for concurrent use:
// its owner holds its own lock around it.
package schedule

import (
	"container/heap"
	"time"
)

// Queue orders keys by due time.
type Queue[K comparable] struct {
	h     entries[K]
	byKey map[K]*entry[K]
}

type entry[K comparable] struct {
	key   K
	at    time.Time
	index int
}

// Set schedules k at at (adding or moving it) and reports whether k is
// now the earliest key.
func (q *Queue[K]) Set(k K, at time.Time) bool {
	if q.byKey == nil {
		q.byKey = map[K]*entry[K]{}
	}
	if e, ok := q.byKey[k]; ok {
		e.at = at
		heap.Fix(&q.h, e.index)
	} else {
		e := &entry[K]{key: k, at: at}
		heap.Push(&q.h, e)
		q.byKey[k] = e
	}
	return q.h[0].key == k
}

// Remove unschedules k (nothing if it is not scheduled).
func (q *Queue[K]) Remove(k K) {
	if e, ok := q.byKey[k]; ok {
		heap.Remove(&q.h, e.index)
		delete(q.byKey, k)
	}
}

// Get returns when k is due.
func (q *Queue[K]) Get(k K) (time.Time, bool) {
	e, ok := q.byKey[k]
	if !ok {
		return time.Time{}, false
	}
	return e.at, true
}

// Peek returns the earliest key and its time; ok is false when empty.
func (q *Queue[K]) Peek() (k K, at time.Time, ok bool) {
	if len(q.h) == 0 {
		return k, at, false
	}
	return q.h[0].key, q.h[0].at, true
}

// PopDue removes and returns the keys due at now, earliest first.
func (q *Queue[K]) PopDue(now time.Time) []K {
	var out []K
	for len(q.h) > 0 && !q.h[0].at.After(now) {
		e := heap.Pop(&q.h).(*entry[K])
		delete(q.byKey, e.key)
		out = append(out, e.key)
	}
	return out
}

// Wait is how long from now until the earliest key is due (0 if it is
// already), capped at max; max when the queue is empty.
func (q *Queue[K]) Wait(now time.Time, max time.Duration) time.Duration {
	if len(q.h) == 0 {
		return max
	}
	return min(max, maxDur(0, q.h[0].at.Sub(now)))
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// Len is the number of scheduled keys.
func (q *Queue[K]) Len() int { return len(q.h) }

type entries[K comparable] []*entry[K]

func (h entries[K]) Len() int           { return len(h) }
func (h entries[K]) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h entries[K]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entries[K]) Push(x any) {
	e := x.(*entry[K])
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entries[K]) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
