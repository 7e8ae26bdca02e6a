package awsrules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestSet256(t *testing.T) {
	var s set256
	for _, v := range []int{0, 5, 63, 64, 130, 229, 255} {
		s.add(v)
	}
	tests := []struct{ i, next, prev int }{
		{-3, 0, -1}, {0, 0, 0}, {1, 5, 0}, {6, 63, 5}, {63, 63, 63}, {64, 64, 64},
		{65, 130, 64}, {131, 229, 130}, {230, 255, 229}, {255, 255, 255}, {256, -1, 255},
	}
	for _, tt := range tests {
		if got := s.next(tt.i); got != tt.next {
			t.Errorf("next(%d) = %d, want %d", tt.i, got, tt.next)
		}
		if got := s.prev(tt.i); got != tt.prev {
			t.Errorf("prev(%d) = %d, want %d", tt.i, got, tt.prev)
		}
	}
	if s.count() != 7 || s.max() != 255 || s.has(1) || !s.has(130) || s.has(-1) || s.has(300) || s.empty() {
		t.Errorf("count %d, max %d, has(1) %v, has(130) %v", s.count(), s.max(), s.has(1), s.has(130))
	}
	var e set256
	if !e.empty() || e.next(0) != -1 || e.prev(255) != -1 || e.max() != -1 {
		t.Error("empty set is not empty")
	}
}

func TestNearestWeekday(t *testing.T) {
	// August 2026 starts on a Saturday (w1 = 6) and has 31 days, ending on a Monday.
	// May 2026 starts on a Friday (w1 = 5) and ends on Sunday the 31st.
	tests := []struct{ n, dim, w1, want int }{
		{1, 31, 6, 3},   // Sat 1 Aug: Monday the 3rd, not Friday 31 July
		{2, 31, 6, 3},   // Sun 2 Aug: Monday
		{8, 31, 6, 7},   // Sat 8 Aug: Friday
		{10, 31, 6, 10}, // Monday
		{31, 31, 5, 29}, // Sun 31 May: Friday the 29th, not Monday 1 June
		{30, 31, 5, 29}, // Sat 30 May: Friday
		{1, 31, 5, 1},   // Fri 1 May
		{3, 31, 5, 4},   // Sun 3 May: Monday
	}
	for _, tt := range tests {
		if got := nearestWeekday(tt.n, tt.dim, tt.w1); got != tt.want {
			t.Errorf("nearestWeekday(%d, %d, %d) = %d, want %d", tt.n, tt.dim, tt.w1, got, tt.want)
		}
	}
}

// TestCronGeneral covers what the EventBridge syntax allows beyond Secrets
// Manager's rules: minutes other than 0 and the Year field.
func TestCronGeneral(t *testing.T) {
	tests := []struct {
		expr  string
		after time.Time
		want  []time.Time
	}{
		{"15,45 4 * * ? *", utc(2026, 5, 10, 4, 15), []time.Time{utc(2026, 5, 10, 4, 45), utc(2026, 5, 11, 4, 15)}},
		{"*/20 */6 1 * ? *", utc(2026, 5, 1, 17, 50), []time.Time{utc(2026, 5, 1, 18, 0), utc(2026, 5, 1, 18, 20), utc(2026, 5, 1, 18, 40), utc(2026, 6, 1, 0, 0)}},
		{"5-10/5 23 L * ? *", utc(2026, 2, 28, 23, 5), []time.Time{utc(2026, 2, 28, 23, 10), utc(2026, 3, 31, 23, 5)}},
		{"0 0 1 1 ? 2030", utc(2026, 1, 1, 0, 0), []time.Time{utc(2030, 1, 1, 0, 0), {}}},
		{"0 0 1 1 ? 2020", utc(2026, 1, 1, 0, 0), []time.Time{{}}},
		{"0 0 1 1 ? 2026,2028-2029", utc(2026, 1, 1, 0, 0), []time.Time{utc(2028, 1, 1, 0, 0), utc(2029, 1, 1, 0, 0), {}}},
		{"0 0 1 JAN ? 1970/100", utc(1900, 1, 1, 0, 0), []time.Time{utc(1970, 1, 1, 0, 0), utc(2070, 1, 1, 0, 0), utc(2170, 1, 1, 0, 0), {}}},
		{"0 12 29 FEB ? 2100-2104", utc(2099, 1, 1, 0, 0), []time.Time{utc(2104, 2, 29, 12, 0), {}}},
		{"30 2 ? DEC 7L 2199", utc(2199, 12, 1, 0, 0), []time.Time{utc(2199, 12, 28, 2, 30), {}}},
		{"59 23 31 12 ? *", time.Date(2026, 12, 31, 23, 58, 59, 999999999, time.UTC), []time.Time{utc(2026, 12, 31, 23, 59), utc(2027, 12, 31, 23, 59)}},
	}
	for _, tt := range tests {
		c, err := parseCron(tt.expr)
		if err != nil {
			t.Fatalf("parseCron(%q): %v", tt.expr, err)
		}
		after := tt.after
		for i, want := range tt.want {
			got := c.next(after)
			if !got.Equal(want) {
				t.Fatalf("%s: occurrence %d after %v = %v, want %v", tt.expr, i, after, got, want)
			}
			after = got
		}
	}
}

// refDay decides whether c's day fields match a date from the definitions,
// day by day, independently of the month masks.
func refDay(c *cronExpr, y int, m time.Month, d int) bool {
	dim := daysIn(y, m)
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday())
	if c.domAny {
		s := &c.dow
		return s.days.has(wd) || s.last.has(wd) && d+7 > dim || s.nth[wd]&(1<<((d-1)/7)) != 0
	}
	s := &c.dom
	if s.days.has(d) || s.last && d == dim {
		return true
	}
	isWeekday := func(day int) bool {
		w := time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Weekday()
		return w != time.Saturday && w != time.Sunday
	}
	if s.lastWeekday {
		last := dim
		for !isWeekday(last) {
			last--
		}
		if d == last {
			return true
		}
	}
	for n := 1; n <= dim; n++ {
		if !s.nearest.has(n) {
			continue
		}
		// The weekday nearest n: n itself, else the closest of n-1, n+1,
		// n-2, n+2 inside the month that is a weekday (Friday before a
		// Saturday, Monday after a Sunday; at the month's edges the other way).
		for _, cand := range []int{n, n - 1, n + 1, n - 2, n + 2} {
			if cand >= 1 && cand <= dim && isWeekday(cand) {
				if cand == d {
					return true
				}
				break
			}
		}
	}
	return false
}

// refNext finds the first match after t by walking hour by hour, up to
// limit; zero when none.
func refNext(c *cronExpr, t, limit time.Time) time.Time {
	for h := t.Truncate(time.Hour); h.Before(limit); h = h.Add(time.Hour) {
		y, m, d := h.Date()
		if !c.years.has(y-minYear) || !c.months.has(int(m)) || !c.hours.has(h.Hour()) || !refDay(c, y, m, d) {
			continue
		}
		for mi := c.minutes.next(0); mi >= 0; mi = c.minutes.next(mi + 1) {
			if at := h.Add(time.Duration(mi) * time.Minute); at.After(t) {
				return at
			}
		}
	}
	return time.Time{}
}

func randomCron(r *rand.Rand) string {
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	minutes := pick("0", "0,30", "15", "*/20", "5-10/5")
	hours := pick("*", "4", "0/6", "3,9,15", "22-23", "*/5", "1-20/7", "0")
	month := pick("*", "FEB", "2", "1-3", "*/4", "JAN,JUL", "DEC", "2,4", "DEC,JAN")
	year := pick("*", "*", "2026-2028", "2027", "2026,2030", "*/3")
	dom, dow := "?", "?"
	if r.IntN(2) == 0 {
		dom = pick("*", "1", "15", "L", "LW", "15W", "1W", "31W", "30", "29", "1-7", "1/10", "L,1", "31", "29W", "28-31", "30W,LW")
	} else {
		dow = pick("*", "SUN", "1", "MON-FRI", "6L", "L", "2#1", "5#5", "1#5", "1/3", "TUE,THU", "7L,1#1", "SAT,SUN", "4#2,4#4")
	}
	return strings.Join([]string{minutes, hours, dom, month, dow, year}, " ")
}

// TestCronNextAgainstReference compares next with a naive hour-by-hour
// walk on random expressions and start times.
func TestCronNextAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 300
	if testing.Short() {
		n = 50
	}
	for range n {
		expr := randomCron(r)
		c, err := parseCron(expr)
		if err != nil {
			t.Fatalf("parseCron(%q): %v", expr, err)
		}
		at := utc(2026, 1, 1, 0, 0).Add(time.Duration(r.Int64N(int64(3*365*24*time.Hour))) + time.Duration(r.IntN(60))*time.Second)
		limit := at.AddDate(3, 0, 0)
		for range 5 {
			want := refNext(c, at, limit)
			got := c.next(at)
			if want.IsZero() && (got.IsZero() || !got.Before(limit)) {
				break
			}
			if !got.Equal(want) {
				t.Fatalf("cron(%s): next after %v = %v, reference %v", expr, at, got, want)
			}
			at = got
		}
	}
}

// TestFrequencyCheckExact checks the four-hour rule against a walk of
// every occurrence in 2000-2027: expressions rejected for frequency have
// two occurrences less than four hours apart, and accepted ones none.
func TestFrequencyCheckExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	var accepted, rejected int
	n := 200
	if testing.Short() {
		n = 40
	}
	for range n {
		hours := pick("1,22", "0,23", "2,23", "3,22", "0,21", "1,5,23", "20,22", "4")
		dom, dow := "?", "?"
		if r.IntN(2) == 0 {
			dom = pick("1,L", "L", "1", "15W,16W", "LW,1W", "1,2", "31,1", "1-3", "L,1W", "30W,1")
		} else {
			dow = pick("SUN,MON", "1L,2#1", "7L,1#1", "SAT", "1#1,7#1", "7#5,1#1", "MON,WED,FRI", "6L,7#1")
		}
		month := pick("*", "JAN,FEB", "JAN,MAR", "DEC,JAN", "FEB,MAR", "2")
		expr := fmt.Sprintf("cron(0 %s %s %s %s *)", hours, dom, month, dow)
		s, err := Parse(Rules{ScheduleExpression: expr})
		freq := err != nil && strings.Contains(err.Error(), "apart")
		if err != nil && !freq {
			continue // matches no date
		}
		c, _ := parseCron(expr[5 : len(expr)-1])
		minGap := time.Duration(1 << 62)
		prev := c.next(utc(1999, 12, 31, 23, 59))
		for at := c.next(prev); !at.IsZero() && at.Year() < 2028; prev, at = at, c.next(at) {
			minGap = min(minGap, at.Sub(prev))
		}
		if tooClose := minGap < 4*time.Hour; tooClose != freq {
			t.Fatalf("%s: Parse error %v, but the shortest gap in 2000-2027 is %v", expr, err, minGap)
		}
		if freq {
			rejected++
		} else {
			accepted++
			// An accepted schedule keeps the rule beyond the scanned years.
			start, _ := s.Next(utc(2100, 1, 1, 0, 0))
			for i := 0; i < 200 && !start.IsZero(); i++ {
				next, _ := s.Next(start)
				if !next.IsZero() && next.Sub(start) < 4*time.Hour {
					t.Fatalf("%s: rotations at %v and %v", expr, start, next)
				}
				start = next
			}
		}
	}
	if accepted == 0 || rejected == 0 {
		t.Fatalf("accepted %d, rejected %d: the generator no longer covers both", accepted, rejected)
	}
}
