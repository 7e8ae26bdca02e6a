// Package cache holds the two small building blocks the agent's caches
// share: a size-bounded LRU map and a singleflight group that collapses
// concurrent identical calls into one.
//
// Both are safe for concurrent use. Neither knows about time: callers keep
// expiry in their values and decide what is fresh.
package cache

import (
	"container/list"
	"sync"
)

// LRU is a map of at most Max entries; adding one more evicts the least
// recently used (read or added) entry.
type LRU[K comparable, V any] struct {
	mu  sync.Mutex
	max int
	ll  *list.List // front = most recently used
	m   map[K]*list.Element
}

type lruItem[K comparable, V any] struct {
	key K
	val V
}

// NewLRU returns an LRU holding at most max entries (at least 1).
func NewLRU[K comparable, V any](max int) *LRU[K, V] {
	if max < 1 {
		max = 1
	}
	return &LRU[K, V]{max: max, ll: list.New(), m: map[K]*list.Element{}}
}

// Get returns the value of k and marks it used.
func (c *LRU[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*lruItem[K, V]).val, true
}

// Peek returns the value of k without marking it used.
func (c *LRU[K, V]) Peek(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	return e.Value.(*lruItem[K, V]).val, true
}

// Add sets k to v, marks it used, and evicts the least recently used entry
// when the map is over its size. It returns the evicted value, if any.
func (c *LRU[K, V]) Add(k K, v V) (evicted V, wasEvicted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		e.Value.(*lruItem[K, V]).val = v
		c.ll.MoveToFront(e)
		return evicted, false
	}
	c.m[k] = c.ll.PushFront(&lruItem[K, V]{key: k, val: v})
	if c.ll.Len() <= c.max {
		return evicted, false
	}
	last := c.ll.Back()
	it := last.Value.(*lruItem[K, V])
	c.ll.Remove(last)
	delete(c.m, it.key)
	return it.val, true
}

// Remove deletes k; it reports whether k was present.
func (c *LRU[K, V]) Remove(k K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if ok {
		c.ll.Remove(e)
		delete(c.m, k)
	}
	return ok
}

// RemoveIf deletes every entry for which drop returns true and returns how
// many it deleted. drop runs with the LRU locked: it must not call the LRU.
func (c *LRU[K, V]) RemoveIf(drop func(K, V) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for e := c.ll.Front(); e != nil; {
		next := e.Next()
		it := e.Value.(*lruItem[K, V])
		if drop(it.key, it.val) {
			c.ll.Remove(e)
			delete(c.m, it.key)
			n++
		}
		e = next
	}
	return n
}

// Snapshot returns the keys and values, most recently used first, without
// changing their order.
func (c *LRU[K, V]) Snapshot() (keys []K, vals []V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys, vals = make([]K, 0, c.ll.Len()), make([]V, 0, c.ll.Len())
	for e := c.ll.Front(); e != nil; e = e.Next() {
		it := e.Value.(*lruItem[K, V])
		keys, vals = append(keys, it.key), append(vals, it.val)
	}
	return keys, vals
}

// Len is the number of entries.
func (c *LRU[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// Purge deletes every entry.
func (c *LRU[K, V]) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.m)
}
