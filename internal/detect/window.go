package detect

import "time"

// lru is a bounded map that evicts the least recently used entry. It is
// owned by the detector goroutine and not safe for concurrent use.
type lru[V any] struct {
	max        int
	items      map[string]*lruNode[V]
	head, tail *lruNode[V] // head is the most recently used
}

type lruNode[V any] struct {
	key        string
	val        V
	prev, next *lruNode[V]
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, items: make(map[string]*lruNode[V])}
}

// get returns the value at key and marks it used.
func (l *lru[V]) get(key string) (V, bool) {
	n, ok := l.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	l.toFront(n)
	return n.val, true
}

// put sets the value at key, evicting the least recently used entry when
// the map is full.
func (l *lru[V]) put(key string, v V) {
	if n, ok := l.items[key]; ok {
		n.val = v
		l.toFront(n)
		return
	}
	n := &lruNode[V]{key: key, val: v}
	l.items[key] = n
	l.pushFront(n)
	for len(l.items) > l.max && l.tail != nil {
		l.remove(l.tail)
	}
}

func (l *lru[V]) len() int { return len(l.items) }

func (l *lru[V]) remove(n *lruNode[V]) {
	l.unlink(n)
	delete(l.items, n.key)
}

func (l *lru[V]) toFront(n *lruNode[V]) {
	if l.head == n {
		return
	}
	l.unlink(n)
	l.pushFront(n)
}

func (l *lru[V]) pushFront(n *lruNode[V]) {
	n.prev, n.next = nil, l.head
	if l.head != nil {
		l.head.prev = n
	}
	l.head = n
	if l.tail == nil {
		l.tail = n
	}
}

func (l *lru[V]) unlink(n *lruNode[V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

// maxEvidence bounds the audit request ids a finding cites.
const maxEvidence = 20

// evidence keeps the last maxEvidence request ids in arrival order.
type evidence struct {
	ids  [maxEvidence]string
	next int
	n    int
}

func (e *evidence) add(id string) {
	if id == "" {
		return
	}
	e.ids[e.next] = id
	e.next = (e.next + 1) % maxEvidence
	if e.n < maxEvidence {
		e.n++
	}
}

// list returns the kept ids, oldest first.
func (e *evidence) list() []string {
	out := make([]string, 0, e.n)
	start := (e.next - e.n + maxEvidence) % maxEvidence
	for i := 0; i < e.n; i++ {
		out = append(out, e.ids[(start+i)%maxEvidence])
	}
	return out
}

func (e *evidence) reset() { *e = evidence{} }

// burst counts events in a sliding window exactly: it keeps the times of
// the last threshold events, so "threshold events within window" holds
// exactly when the oldest kept time is inside the window.
type burst struct {
	times []time.Time // ring of the last len(times) event times
	next  int
	n     int
	ev    evidence
}

// add records one event at t and reports how many of the last threshold
// events (at most threshold) fall within window before t.
func (b *burst) add(t time.Time, id string, threshold int, window time.Duration) int {
	if len(b.times) != threshold {
		b.resize(threshold)
	}
	b.times[b.next] = t
	b.next = (b.next + 1) % threshold
	if b.n < threshold {
		b.n++
	}
	b.ev.add(id)
	count := 0
	for i := 0; i < b.n; i++ {
		if t.Sub(b.times[i]) < window {
			count++
		}
	}
	return count
}

// resize keeps the most recent events that fit a new threshold.
func (b *burst) resize(threshold int) {
	old := b.ordered()
	if len(old) > threshold {
		old = old[len(old)-threshold:]
	}
	b.times = make([]time.Time, threshold)
	copy(b.times, old)
	b.n = len(old)
	b.next = b.n % threshold
}

func (b *burst) ordered() []time.Time {
	out := make([]time.Time, 0, b.n)
	if len(b.times) == 0 {
		return out
	}
	start := (b.next - b.n + len(b.times)) % len(b.times)
	for i := 0; i < b.n; i++ {
		out = append(out, b.times[(start+i)%len(b.times)])
	}
	return out
}
