package awsrules

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Years a cron Year field can name, as in EventBridge.
const (
	minYear = 1970
	maxYear = 2199
)

// set256 is a set of integers from 0 to 255.
type set256 [4]uint64

func (s *set256) add(i int) { s[i>>6] |= 1 << (i & 63) }

func (s *set256) has(i int) bool { return i >= 0 && i < 256 && s[i>>6]&(1<<(i&63)) != 0 }

func (s *set256) empty() bool { return s[0]|s[1]|s[2]|s[3] == 0 }

func (s *set256) count() int {
	return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) + bits.OnesCount64(s[2]) + bits.OnesCount64(s[3])
}

// next returns the smallest member >= i, or -1.
func (s *set256) next(i int) int {
	i = max(i, 0)
	for w := i >> 6; w < 4; w++ {
		word := s[w]
		if w == i>>6 {
			word &= ^uint64(0) << (i & 63)
		}
		if word != 0 {
			return w<<6 + bits.TrailingZeros64(word)
		}
	}
	return -1
}

// prev returns the largest member <= i, or -1.
func (s *set256) prev(i int) int {
	if i < 0 {
		return -1
	}
	for w := min(i, 255) >> 6; w >= 0; w-- {
		word := s[w]
		if w == i>>6 && i&63 != 63 {
			word &= 1<<(i&63+1) - 1
		}
		if word != 0 {
			return w<<6 + 63 - bits.LeadingZeros64(word)
		}
	}
	return -1
}

func (s *set256) max() int { return s.prev(255) }

// cronExpr is a parsed EventBridge cron expression. Sets hold field values
// as written, except years (value-1970) and weekdays (0=SUN ... 6=SAT).
type cronExpr struct {
	fields                        [6]string // canonical text of each field
	minutes, hours, months, years set256
	domAny                        bool // Day-of-month is ?: days come from Day-of-week
	dom                           domSpec
	dow                           dowSpec
}

type domSpec struct {
	days        set256 // plain days 1-31
	nearest     set256 // nW: the weekday nearest day n
	last        bool   // L
	lastWeekday bool   // LW
}

type dowSpec struct {
	days set256   // every such weekday
	last set256   // nL: the last such weekday of the month
	nth  [7]uint8 // n#k: bit k-1 of nth[n]
}

type fieldDef struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var (
	minuteDef = fieldDef{name: "Minutes", min: 0, max: 59}
	hourDef   = fieldDef{name: "Hours", min: 0, max: 23}
	domDef    = fieldDef{name: "Day-of-month", min: 1, max: 31}
	monthDef  = fieldDef{name: "Month", min: 1, max: 12, names: []string{
		"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	dowDef  = fieldDef{name: "Day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	yearDef = fieldDef{name: "Year", min: minYear, max: maxYear}
)

func (f *fieldDef) errorf(format string, args ...any) error {
	return fmt.Errorf("ScheduleExpression: "+f.name+": "+format, args...)
}

// parseCron parses the inside of cron(...).
func parseCron(inner string) (*cronExpr, error) {
	f := strings.Fields(strings.ToUpper(inner))
	if len(f) != 6 {
		return nil, fmt.Errorf("ScheduleExpression: cron() needs 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), e.g. cron(0 4 ? * SUN *); got %d", len(f))
	}
	c := &cronExpr{fields: [6]string(f)}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, errors.New("ScheduleExpression: use ? in exactly one of Day-of-month and Day-of-week, e.g. cron(0 4 ? * SUN *) or cron(0 4 1 * ? *)")
	}
	c.domAny = f[2] == "?"
	steps := []struct {
		def *fieldDef
		set *set256
		off int
	}{{&minuteDef, &c.minutes, 0}, {&hourDef, &c.hours, 0}, {&monthDef, &c.months, 0}, {&yearDef, &c.years, minYear}}
	for i, st := range []int{0, 1, 3, 5} {
		d, set, off := steps[i].def, steps[i].set, steps[i].off
		if err := parseList(d, f[st], func(v int) { set.add(v - off) }); err != nil {
			return nil, err
		}
	}
	if !c.domAny {
		if err := c.dom.parse(f[2]); err != nil {
			return nil, err
		}
	} else if err := c.dow.parse(f[4]); err != nil {
		return nil, err
	}
	return c, nil
}

// String returns the canonical expression.
func (c *cronExpr) String() string { return "cron(" + strings.Join(c.fields[:], " ") + ")" }

// parseList parses a list of plain items (values, ranges, *, steps).
func parseList(d *fieldDef, field string, add func(int)) error {
	for item := range strings.SplitSeq(field, ",") {
		if err := parseItem(d, item, add); err != nil {
			return err
		}
	}
	return nil
}

// parseItem parses one of *, a, a-b, each optionally followed by /step
// (a/step runs to the field's maximum).
func parseItem(d *fieldDef, item string, add func(int)) error {
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		if !isDigits(stepText) || len(stepText) > 4 {
			return d.errorf("the step in %q must be a whole number", item)
		}
		if step, _ = strconv.Atoi(stepText); step < 1 {
			return d.errorf("the step in %q must be at least 1", item)
		}
	}
	lo, hi := d.min, d.max
	if rng != "*" {
		a, b, isRange := strings.Cut(rng, "-")
		var err error
		if lo, err = d.value(a); err != nil {
			return err
		}
		hi = lo
		if isRange {
			if hi, err = d.value(b); err != nil {
				return err
			}
			if hi < lo {
				return d.errorf("the range %q runs backwards; ranges do not wrap around, list both parts instead (e.g. 22-23,0-2)", rng)
			}
		} else if hasStep {
			hi = d.max
		}
	}
	for v := lo; v <= hi; v += step {
		add(v)
	}
	return nil
}

// value parses a number or name of the field.
func (d *fieldDef) value(s string) (int, error) {
	if isDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil || len(s) > 4 || n < d.min || n > d.max {
			return 0, d.errorf("%s is out of range %d-%d", s, d.min, d.max)
		}
		return n, nil
	}
	for i, name := range d.names {
		if s == name {
			return d.min + i, nil
		}
	}
	if d.names != nil {
		return 0, d.errorf("%q is not a value; use %d-%d or %s-%s", s, d.min, d.max, d.names[0], d.names[len(d.names)-1])
	}
	return 0, d.errorf("%q is not a value; use %d-%d", s, d.min, d.max)
}

func (s *domSpec) parse(field string) error {
	for item := range strings.SplitSeq(field, ",") {
		switch {
		case item == "L":
			s.last = true
		case item == "LW":
			s.lastWeekday = true
		case strings.HasSuffix(item, "W"):
			n, err := domDef.value(item[:len(item)-1])
			if err != nil {
				return domDef.errorf("%q: write nW with n from 1 to 31 (the weekday nearest day n), or LW", item)
			}
			s.nearest.add(n)
		default:
			if err := parseItem(&domDef, item, s.days.add); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *dowSpec) parse(field string) error {
	for item := range strings.SplitSeq(field, ",") {
		day, k, isNth := strings.Cut(item, "#")
		switch {
		case item == "L":
			s.days.add(6) // alone, L is the last day of the week: SAT
		case isNth:
			w, err := dowDef.value(day)
			if err != nil {
				return err
			}
			if len(k) != 1 || k[0] < '1' || k[0] > '5' {
				return dowDef.errorf("%q: write n#k with k from 1 to 5, e.g. MON#1 for the first Monday", item)
			}
			s.nth[w-1] |= 1 << (k[0] - '1')
		case len(item) > 1 && strings.HasSuffix(item, "L"):
			w, err := dowDef.value(item[:len(item)-1])
			if err != nil {
				return err
			}
			s.last.add(w - 1)
		default:
			if err := parseItem(&dowDef, item, func(v int) { s.days.add(v - 1) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dayMask returns the days of month m of year y that the day fields
// match, as bits 1-31.
func (c *cronExpr) dayMask(y int, m time.Month) uint32 {
	dim := daysIn(y, m)
	w1 := int(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday())
	if c.domAny {
		return c.dow.mask(dim, w1)
	}
	return c.dom.mask(dim, w1)
}

func (s *domSpec) mask(dim, w1 int) uint32 {
	m := uint32(s.days[0]) & (1<<(dim+1) - 2)
	if s.last {
		m |= 1 << dim
	}
	if s.lastWeekday {
		m |= 1 << nearestWeekday(dim, dim, w1)
	}
	for n := s.nearest.next(1); n > 0 && n <= dim; n = s.nearest.next(n + 1) {
		m |= 1 << nearestWeekday(n, dim, w1)
	}
	return m
}

// nearestWeekday returns the Monday-to-Friday day of the month nearest day
// n, staying inside the month; w1 is the weekday of day 1.
func nearestWeekday(n, dim, w1 int) int {
	switch (w1 + n - 1) % 7 {
	case 6: // Saturday: the Friday before, or the Monday after the 1st
		if n == 1 {
			return 3
		}
		return n - 1
	case 0: // Sunday: the Monday after, or the Friday before the last day
		if n == dim {
			return n - 2
		}
		return n + 1
	}
	return n
}

func (s *dowSpec) mask(dim, w1 int) uint32 {
	var m uint32
	for w := range 7 {
		first := 1 + (w-w1+7)%7
		if s.days.has(w) {
			for d := first; d <= dim; d += 7 {
				m |= 1 << d
			}
		}
		if s.last.has(w) {
			m |= 1 << (first + 7*((dim-first)/7))
		}
		for k := range 5 {
			if d := first + 7*k; s.nth[w]&(1<<k) != 0 && d <= dim {
				m |= 1 << d
			}
		}
	}
	return m
}

// nextBit32 returns the lowest set bit of m at or above i, or -1.
func nextBit32(m uint32, i int) int {
	if i >= 32 {
		return -1
	}
	if m >>= i; m == 0 {
		return -1
	}
	return i + bits.TrailingZeros32(m)
}

// next returns the first time the expression matches strictly after t
// (whole minutes, UTC), or the zero time when there is none before 2200.
func (c *cronExpr) next(t time.Time) time.Time {
	t = t.UTC()
	if t.Year() > maxYear {
		return time.Time{}
	}
	if t.Year() < minYear {
		t = time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC)
	} else {
		t = t.Truncate(time.Minute).Add(time.Minute)
	}
	y, mo, d, h, mi := t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute()
	for {
		ny := c.years.next(y - minYear)
		if ny < 0 {
			return time.Time{}
		}
		if ny += minYear; ny != y {
			y, mo, d, h, mi = ny, 1, 1, 0, 0
		}
		for {
			nm := c.months.next(mo)
			if nm < 0 || nm > 12 {
				break
			}
			if nm != mo {
				mo, d, h, mi = nm, 1, 0, 0
			}
			if t, ok := c.inMonth(y, time.Month(mo), d, h, mi); ok {
				return t
			}
			mo, d, h, mi = mo+1, 1, 0, 0
		}
		y, mo, d, h, mi = y+1, 1, 1, 0, 0
	}
}

// inMonth returns the first match in month m of year y at or after day d,
// hour h, minute mi.
func (c *cronExpr) inMonth(y int, m time.Month, d, h, mi int) (time.Time, bool) {
	mask := c.dayMask(y, m)
	for {
		nd := nextBit32(mask, d)
		if nd < 0 {
			return time.Time{}, false
		}
		if nd != d {
			d, h, mi = nd, 0, 0
		}
		for {
			nh := c.hours.next(h)
			if nh < 0 {
				break
			}
			if nh != h {
				h, mi = nh, 0
			}
			if nmi := c.minutes.next(mi); nmi >= 0 {
				return time.Date(y, m, d, h, nmi, 0, 0, time.UTC), true
			}
			h, mi = h+1, 0
		}
		d, h, mi = d+1, 0, 0
	}
}

// hourOn returns the latest hour of the expression at or before t's hour
// on t's UTC day, if the expression matches that day.
func (c *cronExpr) hourOn(t time.Time) (int, bool) {
	y, m, d := t.Date()
	if !c.years.has(y-minYear) || !c.months.has(int(m)) || c.dayMask(y, m)&(1<<d) == 0 {
		return 0, false
	}
	h := c.hours.prev(t.Hour())
	return h, h >= 0
}

// minHourGap returns the shortest gap in hours between two consecutive
// hours of the Hours field within a day, and the first hour of that gap;
// 24 when the field holds one hour.
func (c *cronExpr) minHourGap() (gap, from int) {
	gap, from = 24, c.hours.next(0)
	for h := c.hours.next(0); h >= 0; {
		n := c.hours.next(h + 1)
		if n < 0 {
			break
		}
		if n-h < gap {
			gap, from = n-h, h
		}
		h = n
	}
	return gap, from
}
