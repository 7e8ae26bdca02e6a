package rotation

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/testclock"
)

func TestSchedulerRunsDueNames(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	var ran []string
	s := &Scheduler{Now: clock.Now}
	s.Due = func(ctx context.Context, name string) {
		mu.Lock()
		ran = append(ran, name)
		mu.Unlock()
		s.Set(name, clock.Now().Add(time.Hour)) // next rotation
	}
	s.Set("a", clock.Now().Add(time.Minute))
	s.Set("b", clock.Now().Add(2*time.Minute))
	s.Set("c", clock.Now().Add(time.Hour))
	s.Start()
	defer s.Stop()
	ctx := context.Background()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 0 {
		t.Fatalf("ran early: %v", ran)
	}
	clock.Advance(3 * time.Minute)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := slices.Clone(ran)
	mu.Unlock()
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("ran %v", got)
	}
	if at, ok := s.Next("a"); !ok || !at.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("a rescheduled at %v", at)
	}
	s.Remove("c")
	clock.Advance(2 * time.Hour)
	s.Flush(ctx)
	mu.Lock()
	defer mu.Unlock()
	if slices.Contains(ran, "c") {
		t.Fatal("a removed name ran")
	}
}
