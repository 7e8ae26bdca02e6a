package cache

import (
	"errors"
	"sync"
)

// ErrPanicked is what callers waiting on a call get when that call panicked.
var ErrPanicked = errors.New("cache: the shared call panicked")

// Group collapses concurrent calls with the same key: while one call for a
// key runs, later callers wait for it and share its result instead of
// starting their own.
type Group[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*call[V]
}

type call[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters int
}

// Do runs fn once for all concurrent callers of key and returns its
// result to each; shared reports whether the result went to more than one
// caller. A panic in fn is not recovered; the callers waiting on it get
// ErrPanicked.
func (g *Group[K, V]) Do(key K, fn func() (V, error)) (v V, err error, shared bool) {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[K]*call[V]{}
	}
	if c, ok := g.m[key]; ok {
		c.waiters++
		g.mu.Unlock()
		<-c.done
		return c.val, c.err, true
	}
	c := &call[V]{done: make(chan struct{})}
	g.m[key] = c
	g.mu.Unlock()

	returned := false
	defer func() {
		if !returned {
			c.err = ErrPanicked
		}
		g.mu.Lock()
		delete(g.m, key)
		shared = c.waiters > 0
		g.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn()
	returned = true
	return c.val, c.err, false
}
