package awsrules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rules mirrors AWS RotationRulesType.
type Rules struct {
	AutomaticallyAfterDays *int64
	ScheduleExpression     string
	Duration               string
}

// Limits of the rules, as Secrets Manager sets them.
const (
	MaxAfterDays     = 1000 // AutomaticallyAfterDays and rate(N days)
	MinRateHours     = 4    // rate(N hours), and the shortest gap between rotations
	MaxExpressionLen = 256  // ScheduleExpression
	MaxDurationHours = 24   // Duration
)

type kind uint8

const (
	rateDays kind = iota + 1
	rateHours
	cronKind
)

// Schedule is a parsed, validated rotation schedule.
type Schedule struct {
	expr   string // canonical expression
	kind   kind
	n      int       // interval of a rate, in days or hours
	cron   *cronExpr // for cronKind; its minutes are exactly {0}
	window int       // window length in hours, cut at the end of the UTC day
}

// Parse validates r as AWS does and returns its schedule. Errors are plain
// errors whose message names the field and says what to fix; they are
// meant to be shown to API users as InvalidParameterException messages.
func Parse(r Rules) (*Schedule, error) {
	dur, err := parseDuration(r.Duration)
	if err != nil {
		return nil, err
	}
	var s *Schedule
	switch {
	case r.AutomaticallyAfterDays != nil && r.ScheduleExpression != "":
		return nil, errors.New("RotationRules: set AutomaticallyAfterDays or ScheduleExpression, not both")
	case r.AutomaticallyAfterDays != nil:
		n := *r.AutomaticallyAfterDays
		if n < 1 || n > MaxAfterDays {
			return nil, fmt.Errorf("AutomaticallyAfterDays: must be between 1 and %d", MaxAfterDays)
		}
		s = newRate(int(n), rateDays)
	case r.ScheduleExpression != "":
		if s, err = parseExpression(r.ScheduleExpression); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("RotationRules: set AutomaticallyAfterDays or ScheduleExpression")
	}
	if err := s.setWindow(dur); err != nil {
		return nil, err
	}
	return s, nil
}

// parseDuration parses Duration ("1h" to "24h"; AWS's pattern [0-9h]+ of 2
// or 3 characters, so "03h" is 3h); 0 when empty.
func parseDuration(d string) (int, error) {
	if d == "" {
		return 0, nil
	}
	num, ok := strings.CutSuffix(d, "h")
	if !ok || len(d) > 3 || !isDigits(num) {
		return 0, fmt.Errorf("Duration: write the window length in whole hours, from 1h to %dh, e.g. 3h", MaxDurationHours)
	}
	n, _ := strconv.Atoi(num)
	if n < 1 || n > MaxDurationHours {
		return 0, fmt.Errorf("Duration: must be from 1h to %dh", MaxDurationHours)
	}
	return n, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func newRate(n int, k kind) *Schedule {
	unit := "days"
	if k == rateHours {
		unit = "hours"
	}
	if n == 1 {
		unit = strings.TrimSuffix(unit, "s")
	}
	return &Schedule{expr: fmt.Sprintf("rate(%d %s)", n, unit), kind: k, n: n}
}

func parseExpression(e string) (*Schedule, error) {
	if len(e) > MaxExpressionLen {
		return nil, fmt.Errorf("ScheduleExpression: must be at most %d characters long", MaxExpressionLen)
	}
	for _, c := range e {
		if !allowedChar(c) {
			return nil, fmt.Errorf("ScheduleExpression: character %q is not allowed; use letters, digits, spaces and ( ) # ? * / , -", c)
		}
	}
	e = strings.TrimSpace(e)
	if inner, ok := cutCall(e, "rate"); ok {
		return parseRate(inner)
	}
	if inner, ok := cutCall(e, "cron"); ok {
		c, err := parseCron(inner)
		if err != nil {
			return nil, err
		}
		if err := checkSecretsManagerCron(c); err != nil {
			return nil, err
		}
		return &Schedule{expr: c.String(), kind: cronKind, cron: c}, nil
	}
	return nil, errors.New("ScheduleExpression: must be a rate() or cron() expression, e.g. rate(10 days) or cron(0 4 ? * SUN *)")
}

func allowedChar(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.ContainsRune("()#?*-/, ", c)
}

// cutCall returns the text between "name(" and a final ")".
func cutCall(e, name string) (string, bool) {
	rest, ok := strings.CutPrefix(e, name+"(")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, ")")
}

const errRateRange = "ScheduleExpression: rate() must be between 4 hours and 1000 days"

func parseRate(inner string) (*Schedule, error) {
	f := strings.Fields(inner)
	if len(f) != 2 {
		return nil, errors.New("ScheduleExpression: write rate(N hours) or rate(N days), e.g. rate(10 days)")
	}
	unit := f[1]
	var k kind
	switch unit {
	case "hour", "hours":
		k = rateHours
	case "day", "days":
		k = rateDays
	default:
		return nil, fmt.Errorf("ScheduleExpression: the unit of rate() must be hours or days, not %q", unit)
	}
	if !isDigits(f[0]) {
		return nil, fmt.Errorf("ScheduleExpression: the value of rate() must be a positive whole number, not %q", f[0])
	}
	if len(f[0]) > 6 {
		return nil, errors.New(errRateRange)
	}
	n, _ := strconv.Atoi(f[0])
	if n == 0 {
		return nil, errors.New("ScheduleExpression: the value of rate() must be a positive whole number, not 0")
	}
	if plural := strings.HasSuffix(unit, "s"); plural != (n != 1) {
		want := newRate(n, k).expr
		return nil, fmt.Errorf("ScheduleExpression: write %s, not rate(%s %s)", want, f[0], unit)
	}
	if k == rateHours && (n < MinRateHours || n > 24*MaxAfterDays) || k == rateDays && n > MaxAfterDays {
		return nil, errors.New(errRateRange)
	}
	return newRate(n, k), nil
}

// setWindow checks the Duration (in hours, 0 when not given) against the
// schedule and sets the window length.
func (s *Schedule) setWindow(dur int) error {
	inHours := s.kind == rateHours || s.kind == cronKind && s.cron.hours.count() > 1
	if dur == 0 {
		s.window = MaxDurationHours // the end of the UTC day
		if inHours {
			s.window = 1
		}
		return nil
	}
	s.window = dur
	switch s.kind {
	case rateHours:
		if dur > s.n {
			return fmt.Errorf("Duration: %dh is longer than the %d hours between rotations; use at most %dh", dur, s.n, s.n)
		}
	case cronKind:
		last := s.cron.hours.max()
		if last+dur > 24 {
			return fmt.Errorf("Duration: a %dh window opening at %02d:00 would run into the next UTC day; use at most %dh", dur, last, 24-last)
		}
		if gap, from := s.cron.minHourGap(); inHours && dur > gap {
			return fmt.Errorf("Duration: %dh is longer than the %d hours between the rotations at %02d:00 and %02d:00; use at most %dh", dur, gap, from, from+gap, gap)
		}
	}
	return nil
}

// String returns the canonical expression: rate(N days) for
// AutomaticallyAfterDays, single spaces and upper-case names in cron().
func (s *Schedule) String() string { return s.expr }

// Next returns the next rotation window [start, end) strictly after a
// rotation (or the enabling of rotation) at last. For a cron() schedule
// with no occurrence left (after 2199) both times are zero.
func (s *Schedule) Next(last time.Time) (start, end time.Time) {
	last = last.UTC()
	switch s.kind {
	case rateDays:
		y, m, d := last.Date()
		start = time.Date(y, m, d+s.n, 0, 0, 0, 0, time.UTC)
	case rateHours:
		start = last.Truncate(time.Hour).Add(time.Duration(s.n) * time.Hour)
	default:
		if start = s.cron.next(last); start.IsZero() {
			return time.Time{}, time.Time{}
		}
	}
	return start, s.end(start)
}

// end closes the window opening at start: after the window length, at the
// latest at the end of start's UTC day.
func (s *Schedule) end(start time.Time) time.Time {
	y, m, d := start.Date()
	midnight := time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	if end := start.Add(time.Duration(s.window) * time.Hour); end.Before(midnight) {
		return end
	}
	return midnight
}

// Window returns the window containing t, if t is inside one: for
// deciding whether a rotation is due now, or its window was missed. For
// cron() the windows are fixed by the expression. rate() windows are
// anchored on the last rotation, which Window does not know: it reports
// the window t would be in if a window opened at the start of t's UTC day
// (rate in days) or of t's hour (rate in hours), so for a rate in hours
// it always reports one.
func (s *Schedule) Window(t time.Time) (start, end time.Time, ok bool) {
	t = t.UTC()
	y, m, d := t.Date()
	switch s.kind {
	case rateDays:
		start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	case rateHours:
		start = t.Truncate(time.Hour)
	default:
		h, ok := s.cron.hourOn(t)
		if !ok {
			return time.Time{}, time.Time{}, false
		}
		start = time.Date(y, m, d, h, 0, 0, 0, time.UTC)
	}
	end = s.end(start)
	if !t.Before(end) {
		return time.Time{}, time.Time{}, false
	}
	return start, end, true
}
