package awsrules

import (
	"testing"
	"time"
)

// fuzzTime maps fuzz input to a time between 1900 and 2300, in one of a
// few locations.
func fuzzTime(sec int64, zone uint8) time.Time {
	lo, hi := utc(1900, 1, 1, 0, 0).Unix(), utc(2300, 1, 1, 0, 0).Unix()
	span := hi - lo
	s := lo + (sec%span+span)%span
	locs := []*time.Location{time.UTC, time.FixedZone("A", 9*3600+1800), time.FixedZone("B", -11*3600)}
	return time.Unix(s, int64(zone)*7919).In(locs[int(zone)%len(locs)])
}

func FuzzParse(f *testing.F) {
	for _, e := range []string{
		"rate(4 hours)", "rate(1 day)", "rate(10 days)", "rate(1000 days)", "rate(24000 hours)", "rate(1 days)",
		"cron(0 4 * * ? *)", "cron(0 4/12 * * ? *)", "cron(0 0,8,12 ? * MON-FRI *)", "cron(0 16 L * ? *)",
		"cron(0 9 15W,LW * ? *)", "cron(0 0 ? 2 1#5 *)", "cron(0 12 ? * 6L,L *)", "cron(0 1,22 1,L JAN,MAR ? *)",
		"cron(0 0 30 2 ? *)", "cron(0 */2 * * ? *)", "cron(30 4 * * ? 2027)", "cron(0 22-2 * * ? *)", "cron(0 0 29 FEB ? *)",
		"", "rate(", "cron()", "cron(0 0 1/0 * ? *)", "cron(0 4 ? * SUN#9 *)",
	} {
		for _, d := range []string{"", "1h", "4h", "24h", "25h"} {
			f.Add(e, int64(0), d, int64(1778400000), uint8(0))
		}
	}
	f.Add("", int64(30), "", int64(-2208988800), uint8(1))
	f.Add("", int64(1000), "2h", int64(7258118400), uint8(2))
	f.Add("rate(3 days)", int64(3), "", int64(0), uint8(0))
	f.Fuzz(func(t *testing.T, expr string, afterDays int64, dur string, sec int64, zone uint8) {
		r := Rules{ScheduleExpression: expr, Duration: dur}
		if afterDays != 0 {
			r.AutomaticallyAfterDays = &afterDays
		}
		s, err := Parse(r)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		again, err := Parse(Rules{ScheduleExpression: s.String(), Duration: dur})
		if err != nil || again.String() != s.String() {
			t.Fatalf("canonical %q does not parse back: %v", s, err)
		}
		checkNext(t, s, fuzzTime(sec, zone))
	})
}

// checkNext checks the window rules on Next(at) and the window after it.
func checkNext(t *testing.T, s *Schedule, at time.Time) {
	start, end := s.Next(at)
	if start.IsZero() || end.IsZero() {
		if !start.IsZero() || !end.IsZero() || s.kind != cronKind || at.UTC().Year() < 2150 {
			t.Fatalf("%s: Next(%v) = [%v, %v)", s, at, start, end)
		}
		return
	}
	if !start.After(at) || !end.After(start) || start.Location() != time.UTC || end.Location() != time.UTC {
		t.Fatalf("%s: Next(%v) = [%v, %v)", s, at, start, end)
	}
	if !start.Truncate(time.Hour).Equal(start) {
		t.Fatalf("%s: window opens at %v, not on the hour", s, start)
	}
	y, m, d := start.Date()
	if end.After(time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%s: window [%v, %v) runs into the next UTC day", s, start, end)
	}
	if end.Sub(start) > time.Duration(s.window)*time.Hour {
		t.Fatalf("%s: window [%v, %v) is longer than %dh", s, start, end, s.window)
	}
	if ws, we, ok := s.Window(start); !ok || !ws.Equal(start) || !we.Equal(end) {
		t.Fatalf("%s: Window(%v) = [%v, %v) %v, Next gave [%v, %v)", s, start, ws, we, ok, start, end)
	}
	// A rate in hours lets any hour open a window (see Window).
	if ws, we, ok := s.Window(end.Add(-time.Nanosecond)); s.kind != rateHours && (!ok || !ws.Equal(start) || !we.Equal(end)) {
		t.Fatalf("%s: Window(%v) = [%v, %v) %v, Next gave [%v, %v)", s, end.Add(-time.Nanosecond), ws, we, ok, start, end)
	}
	next, _ := s.Next(start)
	if next.IsZero() {
		return
	}
	if next.Before(end) {
		t.Fatalf("%s: window [%v, %v) runs into the next one at %v", s, start, end, next)
	}
	if next.Sub(start) < MinRateHours*time.Hour {
		t.Fatalf("%s: rotations at %v and %v", s, start, next)
	}
}

func BenchmarkNext(b *testing.B) {
	for _, r := range []Rules{
		{AutomaticallyAfterDays: days(30)},
		{ScheduleExpression: "rate(6 hours)"},
		{ScheduleExpression: "cron(0 4 * * ? *)"},
		{ScheduleExpression: "cron(0 0,8,12 ? * MON-FRI *)"},
		{ScheduleExpression: "cron(0 9 LW * ? *)"},
		{ScheduleExpression: "cron(0 12 ? * 6L *)"},
		{ScheduleExpression: "cron(0 0 29 FEB ? *)"},
		{ScheduleExpression: "cron(0 0 ? 2 1#5 *)"}, // decades apart
	} {
		s := mustParse(b, r)
		b.Run(s.String(), func(b *testing.B) {
			at := utc(2026, 5, 10, 13, 0)
			for b.Loop() {
				if start, _ := s.Next(at); start.IsZero() {
					b.Fatal("no next window")
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for _, e := range []string{"rate(10 days)", "cron(0 4/12 * * ? *)", "cron(0 1,22 1,L JAN,MAR ? *)"} {
		b.Run(e, func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(Rules{ScheduleExpression: e}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
