package detect

import (
	"log/slog"
	"testing"
	"time"
)

// lap returns the i-th event of evs repeated forever, each lap shifted
// five days later so that simulated time keeps moving forward.
func lap(evs []Event, i int) Event {
	ev := evs[i%len(evs)]
	ev.Time = ev.Time.Add(time.Duration(i/len(evs)) * 5 * day)
	return ev
}

// BenchmarkObserve measures Observe plus processing per event on
// ordinary traffic (all rules enabled, profiles learning and learned).
func BenchmarkObserve(b *testing.B) {
	evs := ordinaryTraffic(10_000, 7)
	f := newFxOpts(b, Options{QueueSize: 1 << 14})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.d.Observe(lap(evs, i))
		if i%8192 == 8191 {
			f.flush()
		}
	}
	f.flush()
	b.StopTimer()
	if d := f.d.Stats().Dropped; d != 0 {
		b.Fatalf("%d events dropped", d)
	}
}

// BenchmarkObserveOnly measures the request-path cost alone: the queue is
// never drained, so most events are dropped after the first.
func BenchmarkObserveOnly(b *testing.B) {
	d, err := New(Options{Storage: newFx(b).st, QueueSize: 1})
	if err != nil {
		b.Fatal(err)
	}
	ev := ordinaryTraffic(1, 7)[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Observe(ev)
	}
}

// BenchmarkProcess measures the rules alone, without the queue.
func BenchmarkProcess(b *testing.B) {
	evs := ordinaryTraffic(10_000, 7)
	d, err := New(Options{Storage: newFx(b).st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := lap(evs, i)
		d.process(bg, &ev)
	}
}
