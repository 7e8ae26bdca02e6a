package cache

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

func TestLRU(t *testing.T) {
	c := NewLRU[string, int](2)
	c.Add("a", 1)
	c.Add("b", 2)
	if v, ok := c.Get("a"); !ok || v != 1 { // a is now the most recent
		t.Fatalf("get a = %v %v", v, ok)
	}
	ev, was := c.Add("c", 3)
	if !was || ev != 2 {
		t.Fatalf("evicted %v %v, want b's 2", ev, was)
	}
	if _, ok := c.Get("b"); ok {
		t.Fatal("b survived eviction")
	}
	if _, was := c.Add("a", 10); was { // replacing evicts nothing
		t.Fatal("replace evicted")
	}
	if v, _ := c.Peek("a"); v != 10 {
		t.Fatalf("peek a = %v", v)
	}
	keys, vals := c.Snapshot()
	if !slices.Equal(keys, []string{"a", "c"}) || !slices.Equal(vals, []int{10, 3}) {
		t.Fatalf("snapshot %v %v", keys, vals)
	}
	if n := c.RemoveIf(func(k string, v int) bool { return v > 5 }); n != 1 || c.Len() != 1 {
		t.Fatalf("removeIf removed %d, len %d", n, c.Len())
	}
	if !c.Remove("c") || c.Remove("c") || c.Len() != 0 {
		t.Fatal("remove")
	}
	c.Add("x", 1)
	c.Purge()
	if c.Len() != 0 {
		t.Fatal("purge")
	}
	if z := NewLRU[int, int](0); z.max != 1 {
		t.Fatalf("max %d, want 1", z.max)
	}
}

func TestGroupCollapsesConcurrentCalls(t *testing.T) {
	var g Group[string, int]
	var calls atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	const n = 20
	var wg sync.WaitGroup
	results := make([]int, n)
	// the first call blocks until every other caller has joined it
	go func() {
		<-started
		for {
			g.mu.Lock()
			w := g.m["k"].waiters
			g.mu.Unlock()
			if w == n-1 {
				close(release)
				return
			}
			<-waitTick()
		}
	}()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err, _ := g.Do("k", func() (int, error) {
				calls.Add(1)
				close(started)
				<-release
				return 42, nil
			})
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		}()
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("fn ran %d times, want 1", calls.Load())
	}
	for i, v := range results {
		if v != 42 {
			t.Fatalf("result %d = %d", i, v)
		}
	}
	// after the call, a new one runs again
	v, err, shared := g.Do("k", func() (int, error) { return 7, errors.New("boom") })
	if v != 7 || err == nil || shared {
		t.Fatalf("second call %v %v %v", v, err, shared)
	}
}

func TestGroupPanicReachesWaitersAsError(t *testing.T) {
	var g Group[int, int]
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		defer func() { _ = recover() }()
		g.Do(1, func() (int, error) {
			close(inside)
			<-release
			panic("boom")
		})
	}()
	<-inside
	go func() {
		_, err, _ := g.Do(1, func() (int, error) { return 0, nil })
		done <- err
	}()
	for {
		g.mu.Lock()
		w := g.m[1].waiters
		g.mu.Unlock()
		if w == 1 {
			break
		}
		<-waitTick()
	}
	close(release)
	if err := <-done; !errors.Is(err, ErrPanicked) {
		t.Fatalf("waiter got %v", err)
	}
}

// waitTick yields to other goroutines between polls.
func waitTick() <-chan struct{} {
	c := make(chan struct{})
	go close(c)
	return c
}
