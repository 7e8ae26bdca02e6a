package schedule

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestQueue(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var q Queue[string]
	if _, _, ok := q.Peek(); ok || q.Wait(t0, time.Hour) != time.Hour {
		t.Fatal("empty queue")
	}
	if !q.Set("b", t0.Add(2*time.Second)) || !q.Set("a", t0.Add(time.Second)) || q.Set("c", t0.Add(3*time.Second)) {
		t.Fatal("Set's earliest report")
	}
	if k, at, _ := q.Peek(); k != "a" || !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("peek %s %v", k, at)
	}
	q.Set("c", t0) // moved to the front
	if got := q.PopDue(t0.Add(1500 * time.Millisecond)); !slices.Equal(got, []string{"c", "a"}) {
		t.Fatalf("due %v", got)
	}
	if q.Wait(t0, time.Hour) != 2*time.Second || q.Wait(t0.Add(time.Minute), time.Hour) != 0 {
		t.Fatal("wait")
	}
	q.Remove("b")
	q.Remove("nope")
	if q.Len() != 0 {
		t.Fatalf("len %d", q.Len())
	}
	if _, ok := q.Get("b"); ok {
		t.Fatal("removed key still there")
	}
}

func TestQueueOrderRandom(t *testing.T) {
	t0 := time.Now()
	var q Queue[int]
	want := map[int]time.Time{}
	for i := 0; i < 2000; i++ {
		k := rand.IntN(500)
		switch rand.IntN(4) {
		case 0:
			q.Remove(k)
			delete(want, k)
		default:
			at := t0.Add(time.Duration(rand.IntN(10000)) * time.Millisecond)
			q.Set(k, at)
			want[k] = at
		}
	}
	got := q.PopDue(t0.Add(time.Hour))
	if len(got) != len(want) {
		t.Fatalf("popped %d, want %d", len(got), len(want))
	}
	for i := 1; i < len(got); i++ {
		if want[got[i]].Before(want[got[i-1]]) {
			t.Fatal("not in time order")
		}
	}
}

func BenchmarkSetPop(b *testing.B) {
	var q Queue[int]
	t0 := time.Now()
	for i := 0; i < b.N; i++ {
		q.Set(i, t0.Add(time.Duration(i%1000)*time.Millisecond))
		if q.Len() > 1000 {
			q.PopDue(t0.Add(500 * time.Millisecond))
		}
	}
}
