package awsrules

import (
	"strings"
	"testing"
	"time"
)

func days(n int64) *int64 { return &n }

func utc(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

func mustParse(t testing.TB, r Rules) *Schedule {
	t.Helper()
	s, err := Parse(r)
	if err != nil {
		t.Fatalf("Parse(%+v): %v", r, err)
	}
	return s
}

func TestParseErrors(t *testing.T) {
	long := "cron(0 4 * * ? *" + strings.Repeat(" ", 250) + ")"
	tests := []struct {
		name string
		r    Rules
		want string // the whole message, or a prefix of it ending in "..."
	}{
		{"neither", Rules{}, "RotationRules: set AutomaticallyAfterDays or ScheduleExpression"},
		{"duration only", Rules{Duration: "2h"}, "RotationRules: set AutomaticallyAfterDays or ScheduleExpression"},
		{"both", Rules{AutomaticallyAfterDays: days(3), ScheduleExpression: "rate(3 days)"}, "RotationRules: set AutomaticallyAfterDays or ScheduleExpression, not both"},
		{"days 0", Rules{AutomaticallyAfterDays: days(0)}, "AutomaticallyAfterDays: must be between 1 and 1000"},
		{"days negative", Rules{AutomaticallyAfterDays: days(-5)}, "AutomaticallyAfterDays: must be between 1 and 1000"},
		{"days 1001", Rules{AutomaticallyAfterDays: days(1001)}, "AutomaticallyAfterDays: must be between 1 and 1000"},

		{"duration 0h", Rules{AutomaticallyAfterDays: days(1), Duration: "0h"}, "Duration: must be from 1h to 24h"},
		{"duration 25h", Rules{AutomaticallyAfterDays: days(1), Duration: "25h"}, "Duration: must be from 1h to 24h"},
		{"duration no unit", Rules{AutomaticallyAfterDays: days(1), Duration: "3"}, "Duration: write the window length in whole hours, from 1h to 24h, e.g. 3h"},
		{"duration upper H", Rules{AutomaticallyAfterDays: days(1), Duration: "3H"}, "Duration: write the window..."},
		{"duration h", Rules{AutomaticallyAfterDays: days(1), Duration: "h"}, "Duration: write the window..."},
		{"duration fraction", Rules{AutomaticallyAfterDays: days(1), Duration: "1.5h"}, "Duration: write the window..."},
		{"duration too long", Rules{AutomaticallyAfterDays: days(1), Duration: "100h"}, "Duration: write the window..."},
		{"duration minutes", Rules{AutomaticallyAfterDays: days(1), Duration: "90m"}, "Duration: write the window..."},

		{"not rate or cron", Rules{ScheduleExpression: "every day"}, "ScheduleExpression: must be a rate() or cron() expression, e.g. rate(10 days) or cron(0 4 ? * SUN *)"},
		{"upper keyword", Rules{ScheduleExpression: "RATE(10 days)"}, "ScheduleExpression: must be a rate() or cron()..."},
		{"unclosed", Rules{ScheduleExpression: "rate(10 days"}, "ScheduleExpression: must be a rate() or cron()..."},
		{"bad char", Rules{ScheduleExpression: "rate(10 days);"}, `ScheduleExpression: character ';' is not allowed; use letters, digits, spaces and ( ) # ? * / , -`},
		{"newline", Rules{ScheduleExpression: "rate(10 days)\n"}, `ScheduleExpression: character '\n' is not allowed...`},
		{"too long", Rules{ScheduleExpression: long}, "ScheduleExpression: must be at most 256 characters long"},

		{"rate 3 hours", Rules{ScheduleExpression: "rate(3 hours)"}, "ScheduleExpression: rate() must be between 4 hours and 1000 days"},
		{"rate 1 hour", Rules{ScheduleExpression: "rate(1 hour)"}, "ScheduleExpression: rate() must be between 4 hours and 1000 days"},
		{"rate 1001 days", Rules{ScheduleExpression: "rate(1001 days)"}, "ScheduleExpression: rate() must be between 4 hours and 1000 days"},
		{"rate 24001 hours", Rules{ScheduleExpression: "rate(24001 hours)"}, "ScheduleExpression: rate() must be between 4 hours and 1000 days"},
		{"rate huge", Rules{ScheduleExpression: "rate(99999999999999999999 days)"}, "ScheduleExpression: rate() must be between 4 hours and 1000 days"},
		{"rate 0", Rules{ScheduleExpression: "rate(0 days)"}, "ScheduleExpression: the value of rate() must be a positive whole number, not 0"},
		{"rate negative", Rules{ScheduleExpression: "rate(-1 days)"}, `ScheduleExpression: the value of rate() must be a positive whole number, not "-1"`},
		{"rate 1 days", Rules{ScheduleExpression: "rate(1 days)"}, "ScheduleExpression: write rate(1 day), not rate(1 days)"},
		{"rate 5 day", Rules{ScheduleExpression: "rate(5 day)"}, "ScheduleExpression: write rate(5 days), not rate(5 day)"},
		{"rate 4 hour", Rules{ScheduleExpression: "rate(4 hour)"}, "ScheduleExpression: write rate(4 hours), not rate(4 hour)"},
		{"rate weeks", Rules{ScheduleExpression: "rate(2 weeks)"}, `ScheduleExpression: the unit of rate() must be hours or days, not "weeks"`},
		{"rate upper unit", Rules{ScheduleExpression: "rate(2 DAYS)"}, `ScheduleExpression: the unit of rate() must be hours or days, not "DAYS"`},
		{"rate no unit", Rules{ScheduleExpression: "rate(10)"}, "ScheduleExpression: write rate(N hours) or rate(N days), e.g. rate(10 days)"},
		{"rate empty", Rules{ScheduleExpression: "rate()"}, "ScheduleExpression: write rate(N hours) or rate(N days)..."},

		{"cron 5 fields", Rules{ScheduleExpression: "cron(0 4 * * ?)"}, "ScheduleExpression: cron() needs 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), e.g. cron(0 4 ? * SUN *); got 5"},
		{"cron 7 fields", Rules{ScheduleExpression: "cron(0 0 4 * * ? *)"}, "ScheduleExpression: cron() needs 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), e.g. cron(0 4 ? * SUN *); got 7"},
		{"cron both ?", Rules{ScheduleExpression: "cron(0 4 ? * ? *)"}, "ScheduleExpression: use ? in exactly one of Day-of-month and Day-of-week, e.g. cron(0 4 ? * SUN *) or cron(0 4 1 * ? *)"},
		{"cron no ?", Rules{ScheduleExpression: "cron(0 4 * * * *)"}, "ScheduleExpression: use ? in exactly one of..."},
		{"cron ? in list", Rules{ScheduleExpression: "cron(0 4 1,? * MON *)"}, "ScheduleExpression: use ? in exactly one of..."},
		{"cron ? in hours", Rules{ScheduleExpression: "cron(0 ? 1 * ? *)"}, `ScheduleExpression: Hours: "?" is not a value; use 0-23`},
		{"cron minutes", Rules{ScheduleExpression: "cron(30 4 * * ? *)"}, "ScheduleExpression: the Minutes field of cron() must be 0, because rotation windows open on the hour"},
		{"cron minutes list", Rules{ScheduleExpression: "cron(0,30 4 * * ? *)"}, "ScheduleExpression: the Minutes field of cron() must be 0..."},
		{"cron year", Rules{ScheduleExpression: "cron(0 4 * * ? 2027)"}, "ScheduleExpression: the Year field of cron() must be *, because Secrets Manager does not support rotation schedules more than a year apart"},
		{"cron year out of range", Rules{ScheduleExpression: "cron(0 4 * * ? 2200)"}, "ScheduleExpression: Year: 2200 is out of range 1970-2199"},
		{"cron hour 24", Rules{ScheduleExpression: "cron(0 24 * * ? *)"}, "ScheduleExpression: Hours: 24 is out of range 0-23"},
		{"cron minute 60", Rules{ScheduleExpression: "cron(60 4 * * ? *)"}, "ScheduleExpression: Minutes: 60 is out of range 0-59"},
		{"cron day 32", Rules{ScheduleExpression: "cron(0 4 32 * ? *)"}, "ScheduleExpression: Day-of-month: 32 is out of range 1-31"},
		{"cron day 0", Rules{ScheduleExpression: "cron(0 4 0 * ? *)"}, "ScheduleExpression: Day-of-month: 0 is out of range 1-31"},
		{"cron month 13", Rules{ScheduleExpression: "cron(0 4 1 13 ? *)"}, "ScheduleExpression: Month: 13 is out of range 1-12"},
		{"cron month name", Rules{ScheduleExpression: "cron(0 4 1 JANUARY ? *)"}, `ScheduleExpression: Month: "JANUARY" is not a value; use 1-12 or JAN-DEC`},
		{"cron weekday 0", Rules{ScheduleExpression: "cron(0 4 ? * 0 *)"}, "ScheduleExpression: Day-of-week: 0 is out of range 1-7"},
		{"cron weekday 8", Rules{ScheduleExpression: "cron(0 4 ? * 8 *)"}, "ScheduleExpression: Day-of-week: 8 is out of range 1-7"},
		{"cron weekday name", Rules{ScheduleExpression: "cron(0 4 ? * SUNDAY *)"}, `ScheduleExpression: Day-of-week: "SUNDAY" is not a value; use 1-7 or SUN-SAT`},
		{"cron backwards", Rules{ScheduleExpression: "cron(0 22-2 * * ? *)"}, `ScheduleExpression: Hours: the range "22-2" runs backwards; ranges do not wrap around, list both parts instead (e.g. 22-23,0-2)`},
		{"cron backwards names", Rules{ScheduleExpression: "cron(0 4 ? * FRI-MON *)"}, `ScheduleExpression: Day-of-week: the range "FRI-MON" runs backwards...`},
		{"cron step 0", Rules{ScheduleExpression: "cron(0 */0 * * ? *)"}, `ScheduleExpression: Hours: the step in "*/0" must be at least 1`},
		{"cron step word", Rules{ScheduleExpression: "cron(0 4 1/X * ? *)"}, `ScheduleExpression: Day-of-month: the step in "1/X" must be a whole number`},
		{"cron empty item", Rules{ScheduleExpression: "cron(0 4 1,,2 * ? *)"}, `ScheduleExpression: Day-of-month: "" is not a value; use 1-31`},
		{"cron #6", Rules{ScheduleExpression: "cron(0 4 ? * MON#6 *)"}, `ScheduleExpression: Day-of-week: "MON#6": write n#k with k from 1 to 5, e.g. MON#1 for the first Monday`},
		{"cron #0", Rules{ScheduleExpression: "cron(0 4 ? * 2#0 *)"}, `ScheduleExpression: Day-of-week: "2#0": write n#k...`},
		{"cron # bad day", Rules{ScheduleExpression: "cron(0 4 ? * 9#1 *)"}, "ScheduleExpression: Day-of-week: 9 is out of range 1-7"},
		{"cron nL bad day", Rules{ScheduleExpression: "cron(0 4 ? * 9L *)"}, "ScheduleExpression: Day-of-week: 9 is out of range 1-7"},
		{"cron W alone", Rules{ScheduleExpression: "cron(0 4 W * ? *)"}, `ScheduleExpression: Day-of-month: "W": write nW with n from 1 to 31 (the weekday nearest day n), or LW`},
		{"cron 32W", Rules{ScheduleExpression: "cron(0 4 32W * ? *)"}, `ScheduleExpression: Day-of-month: "32W": write nW...`},
		{"cron L-3", Rules{ScheduleExpression: "cron(0 4 L-3 * ? *)"}, `ScheduleExpression: Day-of-month: "L" is not a value; use 1-31`},
		{"cron L in hours", Rules{ScheduleExpression: "cron(0 L * * ? *)"}, `ScheduleExpression: Hours: "L" is not a value; use 0-23`},

		{"cron feb 30", Rules{ScheduleExpression: "cron(0 0 30 2 ? *)"}, "ScheduleExpression: cron() matches no date; check Day-of-month, Month and Day-of-week together (e.g. day 30 never occurs in FEB)"},
		{"cron 31 short months", Rules{ScheduleExpression: "cron(0 0 31 FEB,APR,JUN,SEP,NOV ? *)"}, "ScheduleExpression: cron() matches no date..."},
		{"cron 31W in 30-day month", Rules{ScheduleExpression: "cron(0 0 31W APR ? *)"}, "ScheduleExpression: cron() matches no date..."},
		{"cron 5th monday feb", Rules{ScheduleExpression: "cron(0 0 ? FEB 2#5 *)"}, ""}, // fires in leap years starting on a Monday

		{"cron 2 hours apart", Rules{ScheduleExpression: "cron(0 0,2 * * ? *)"}, "ScheduleExpression: cron() rotates at 00:00 and 02:00, 2 hours apart; rotations must be at least 4 hours apart"},
		{"cron every 2 hours", Rules{ScheduleExpression: "cron(0 */2 * * ? *)"}, "ScheduleExpression: cron() rotates at 00:00 and 02:00, 2 hours apart..."},
		{"cron every hour", Rules{ScheduleExpression: "cron(0 * ? * MON *)"}, "ScheduleExpression: cron() rotates at 00:00 and 01:00, 1 hour apart; rotations must be at least 4 hours apart"},
		{"cron gap later", Rules{ScheduleExpression: "cron(0 1,8,10 * * ? *)"}, "ScheduleExpression: cron() rotates at 08:00 and 10:00, 2 hours apart..."},
		{"cron across midnight", Rules{ScheduleExpression: "cron(0 1,22 * * ? *)"}, "ScheduleExpression: cron() rotates at 22:00 on 2000-01-01 and at 01:00 on 2000-01-02, 3 hours apart; rotations must be at least 4 hours apart"},
		{"cron across month end", Rules{ScheduleExpression: "cron(0 1,23 1,L * ? *)"}, "ScheduleExpression: cron() rotates at 23:00 on 2000-01-31 and at 01:00 on 2000-02-01, 2 hours apart..."},
		{"cron across year end", Rules{ScheduleExpression: "cron(0 1,23 1,L JAN,DEC ? *)"}, "ScheduleExpression: cron() rotates at 23:00 on 2000-12-31 and at 01:00 on 2001-01-01, 2 hours apart..."},
		{"cron across weekdays", Rules{ScheduleExpression: "cron(0 1,22 ? * SUN,MON *)"}, "ScheduleExpression: cron() rotates at 22:00 on 2000-01-02 and at 01:00 on 2000-01-03, 3 hours apart..."},
		{"cron last sunday then first monday", Rules{ScheduleExpression: "cron(0 2,23 ? * 1L,2#1 *)"}, "ScheduleExpression: cron() rotates at 23:00 on 2000-04-30 and at 02:00 on 2000-05-01, 3 hours apart..."},

		{"duration past midnight", Rules{ScheduleExpression: "cron(0 20 * * ? *)", Duration: "5h"}, "Duration: a 5h window opening at 20:00 would run into the next UTC day; use at most 4h"},
		{"duration past midnight, hours", Rules{ScheduleExpression: "cron(0 4/12 * * ? *)", Duration: "9h"}, "Duration: a 9h window opening at 16:00 would run into the next UTC day; use at most 8h"},
		{"duration into next cron window", Rules{ScheduleExpression: "cron(0 0,8,12 * * ? *)", Duration: "5h"}, "Duration: 5h is longer than the 4 hours between the rotations at 08:00 and 12:00; use at most 4h"},
		{"duration into next rate window", Rules{ScheduleExpression: "rate(4 hours)", Duration: "5h"}, "Duration: 5h is longer than the 4 hours between rotations; use at most 4h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.r)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse: %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded with %s, want error %q", s, tt.want)
			}
			if prefix, ok := strings.CutSuffix(tt.want, "..."); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("error %q, want prefix %q", err, prefix)
				}
			} else if err.Error() != tt.want {
				t.Fatalf("error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		r    Rules
		want string
	}{
		{Rules{AutomaticallyAfterDays: days(1)}, "rate(1 day)"},
		{Rules{AutomaticallyAfterDays: days(30)}, "rate(30 days)"},
		{Rules{AutomaticallyAfterDays: days(1000), Duration: "2h"}, "rate(1000 days)"},
		{Rules{ScheduleExpression: "rate(1 day)"}, "rate(1 day)"},
		{Rules{ScheduleExpression: "  rate( 010   days ) "}, "rate(10 days)"},
		{Rules{ScheduleExpression: "rate(4 hours)", Duration: "4h"}, "rate(4 hours)"},
		{Rules{ScheduleExpression: "rate(24000 hours)"}, "rate(24000 hours)"},
		{Rules{ScheduleExpression: "cron(0  4  ?  *  sun  *)"}, "cron(0 4 ? * SUN *)"},
		{Rules{ScheduleExpression: "cron(0 6 1 jan,Jul ? *)", Duration: "03h"}, "cron(0 6 1 JAN,JUL ? *)"},
		{Rules{ScheduleExpression: "cron(0 4/12 * * ? *)", Duration: "8h"}, "cron(0 4/12 * * ? *)"},
		{Rules{ScheduleExpression: "cron(0 20 * * ? *)", Duration: "4h"}, "cron(0 20 * * ? *)"},
		{Rules{ScheduleExpression: "cron(0 0,8,12 * * ? *)", Duration: "4h"}, "cron(0 0,8,12 * * ? *)"},
		{Rules{ScheduleExpression: "cron(0 1,22 1 * ? *)"}, "cron(0 1,22 1 * ? *)"},                     // never two days running
		{Rules{ScheduleExpression: "cron(0 1,22 1,L JAN,MAR ? *)"}, "cron(0 1,22 1,L JAN,MAR ? *)"},     // Jan 31 and Feb 1 never both
		{Rules{ScheduleExpression: "cron(0 1,22 ? * SUN,TUE *)"}, "cron(0 1,22 ? * SUN,TUE *)"},         // no two days running
		{Rules{ScheduleExpression: "cron(0 0,4,8,12,16,20 * * ? *)"}, "cron(0 0,4,8,12,16,20 * * ? *)"}, // exactly 4 hours, also across midnight
		{Rules{ScheduleExpression: "cron(0 0 ? * 1#5,7L,L *)"}, "cron(0 0 ? * 1#5,7L,L *)"},
		{Rules{ScheduleExpression: "cron(0 0 15W,LW,L * ? *)"}, "cron(0 0 15W,LW,L * ? *)"},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.r).String(); got != tt.want {
			t.Errorf("Parse(%+v).String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestNext(t *testing.T) {
	type window struct{ start, end time.Time }
	tests := []struct {
		name string
		r    Rules
		last time.Time
		want []window // successive windows, each from the start of the previous
	}{
		{"after days", Rules{AutomaticallyAfterDays: days(30)}, utc(2026, 1, 15, 13, 45),
			[]window{{utc(2026, 2, 14, 0, 0), utc(2026, 2, 15, 0, 0)}, {utc(2026, 3, 16, 0, 0), utc(2026, 3, 17, 0, 0)}}},
		{"rate 1 day over year end", Rules{ScheduleExpression: "rate(1 day)"}, time.Date(2026, 12, 31, 23, 59, 59, 999, time.UTC),
			[]window{{utc(2027, 1, 1, 0, 0), utc(2027, 1, 2, 0, 0)}, {utc(2027, 1, 2, 0, 0), utc(2027, 1, 3, 0, 0)}}},
		{"rate days leap year", Rules{ScheduleExpression: "rate(10 days)", Duration: "3h"}, utc(2024, 2, 25, 10, 0),
			[]window{{utc(2024, 3, 6, 0, 0), utc(2024, 3, 6, 3, 0)}}},
		{"rate days common year", Rules{ScheduleExpression: "rate(10 days)", Duration: "3h"}, utc(2023, 2, 25, 10, 0),
			[]window{{utc(2023, 3, 7, 0, 0), utc(2023, 3, 7, 3, 0)}}},
		{"rate 1000 days", Rules{ScheduleExpression: "rate(1000 days)", Duration: "24h"}, utc(2026, 1, 1, 12, 0),
			[]window{{utc(2028, 9, 27, 0, 0), utc(2028, 9, 28, 0, 0)}}},
		{"rate hours", Rules{ScheduleExpression: "rate(4 hours)"}, utc(2026, 3, 1, 10, 30),
			[]window{{utc(2026, 3, 1, 14, 0), utc(2026, 3, 1, 15, 0)}, {utc(2026, 3, 1, 18, 0), utc(2026, 3, 1, 19, 0)}, {utc(2026, 3, 1, 22, 0), utc(2026, 3, 1, 23, 0)}, {utc(2026, 3, 2, 2, 0), utc(2026, 3, 2, 3, 0)}}},
		{"rate hours window cut at midnight", Rules{ScheduleExpression: "rate(6 hours)", Duration: "6h"}, utc(2026, 3, 1, 17, 30),
			[]window{{utc(2026, 3, 1, 23, 0), utc(2026, 3, 2, 0, 0)}, {utc(2026, 3, 2, 5, 0), utc(2026, 3, 2, 11, 0)}}},
		{"rate 48 hours", Rules{ScheduleExpression: "rate(48 hours)"}, utc(2026, 2, 27, 5, 0),
			[]window{{utc(2026, 3, 1, 5, 0), utc(2026, 3, 1, 6, 0)}}},

		{"cron daily", Rules{ScheduleExpression: "cron(0 4 * * ? *)"}, time.Date(2026, 5, 10, 3, 59, 59, 0, time.UTC),
			[]window{{utc(2026, 5, 10, 4, 0), utc(2026, 5, 11, 0, 0)}, {utc(2026, 5, 11, 4, 0), utc(2026, 5, 12, 0, 0)}}},
		{"cron strictly after", Rules{ScheduleExpression: "cron(0 4 * * ? *)"}, time.Date(2026, 5, 10, 4, 0, 0, 1, time.UTC),
			[]window{{utc(2026, 5, 11, 4, 0), utc(2026, 5, 12, 0, 0)}}},
		{"cron hour step", Rules{ScheduleExpression: "cron(0 4/12 * * ? *)"}, utc(2026, 5, 10, 16, 0),
			[]window{{utc(2026, 5, 11, 4, 0), utc(2026, 5, 11, 5, 0)}, {utc(2026, 5, 11, 16, 0), utc(2026, 5, 11, 17, 0)}}},
		{"cron hour list with duration", Rules{ScheduleExpression: "cron(0 0,8,12 * * ? *)", Duration: "4h"}, utc(2026, 5, 10, 9, 0),
			[]window{{utc(2026, 5, 10, 12, 0), utc(2026, 5, 10, 16, 0)}, {utc(2026, 5, 11, 0, 0), utc(2026, 5, 11, 4, 0)}}},
		{"cron weekdays", Rules{ScheduleExpression: "cron(0 10 ? * MON-FRI *)"}, utc(2026, 5, 8, 12, 0), // a Friday
			[]window{{utc(2026, 5, 11, 10, 0), utc(2026, 5, 12, 0, 0)}, {utc(2026, 5, 12, 10, 0), utc(2026, 5, 13, 0, 0)}}},
		{"cron weekday numbers", Rules{ScheduleExpression: "cron(0 10 ? * 1,7 *)"}, utc(2026, 5, 8, 12, 0), // SUN,SAT
			[]window{{utc(2026, 5, 9, 10, 0), utc(2026, 5, 10, 0, 0)}, {utc(2026, 5, 10, 10, 0), utc(2026, 5, 11, 0, 0)}, {utc(2026, 5, 16, 10, 0), utc(2026, 5, 17, 0, 0)}}},
		{"cron sundays two hours", Rules{ScheduleExpression: "cron(0 0,12 ? * SUN *)"}, utc(2026, 5, 10, 0, 0),
			[]window{{utc(2026, 5, 10, 12, 0), utc(2026, 5, 10, 13, 0)}, {utc(2026, 5, 17, 0, 0), utc(2026, 5, 17, 1, 0)}}},
		{"cron month step", Rules{ScheduleExpression: "cron(0 0 1 */3 ? *)"}, utc(2026, 1, 1, 0, 0),
			[]window{{utc(2026, 4, 1, 0, 0), utc(2026, 4, 2, 0, 0)}, {utc(2026, 7, 1, 0, 0), utc(2026, 7, 2, 0, 0)}, {utc(2026, 10, 1, 0, 0), utc(2026, 10, 2, 0, 0)}, {utc(2027, 1, 1, 0, 0), utc(2027, 1, 2, 0, 0)}}},
		{"cron month names", Rules{ScheduleExpression: "cron(0 6 1 JAN,JUL ? *)", Duration: "2h"}, utc(2026, 1, 1, 6, 0),
			[]window{{utc(2026, 7, 1, 6, 0), utc(2026, 7, 1, 8, 0)}, {utc(2027, 1, 1, 6, 0), utc(2027, 1, 1, 8, 0)}}},
		{"cron day step skips short month", Rules{ScheduleExpression: "cron(0 8 1/7 * ? *)"}, utc(2026, 2, 23, 0, 0),
			[]window{{utc(2026, 3, 1, 8, 0), utc(2026, 3, 2, 0, 0)}, {utc(2026, 3, 8, 8, 0), utc(2026, 3, 9, 0, 0)}}},
		{"cron day 31", Rules{ScheduleExpression: "cron(0 23 31 * ? *)"}, utc(2026, 4, 1, 0, 0),
			[]window{{utc(2026, 5, 31, 23, 0), utc(2026, 6, 1, 0, 0)}, {utc(2026, 7, 31, 23, 0), utc(2026, 8, 1, 0, 0)}, {utc(2026, 8, 31, 23, 0), utc(2026, 9, 1, 0, 0)}}},
		{"cron yearly", Rules{ScheduleExpression: "cron(0 0 1 1 ? *)"}, utc(2026, 6, 1, 0, 0),
			[]window{{utc(2027, 1, 1, 0, 0), utc(2027, 1, 2, 0, 0)}}},
		{"cron L leap", Rules{ScheduleExpression: "cron(0 16 L * ? *)"}, utc(2024, 2, 1, 0, 0),
			[]window{{utc(2024, 2, 29, 16, 0), utc(2024, 3, 1, 0, 0)}, {utc(2024, 3, 31, 16, 0), utc(2024, 4, 1, 0, 0)}, {utc(2024, 4, 30, 16, 0), utc(2024, 5, 1, 0, 0)}}},
		{"cron L common", Rules{ScheduleExpression: "cron(0 16 L * ? *)"}, utc(2023, 2, 1, 0, 0),
			[]window{{utc(2023, 2, 28, 16, 0), utc(2023, 3, 1, 0, 0)}}},
		{"cron feb 29", Rules{ScheduleExpression: "cron(0 0 29 FEB ? *)"}, utc(2025, 3, 1, 0, 0),
			[]window{{utc(2028, 2, 29, 0, 0), utc(2028, 3, 1, 0, 0)}, {utc(2032, 2, 29, 0, 0), utc(2032, 3, 1, 0, 0)}}},
		{"cron feb 29 over 2100", Rules{ScheduleExpression: "cron(0 0 29 2 ? *)"}, utc(2096, 3, 1, 0, 0),
			[]window{{utc(2104, 2, 29, 0, 0), utc(2104, 3, 1, 0, 0)}}},
		{"cron W on sunday", Rules{ScheduleExpression: "cron(0 9 15W * ? *)"}, utc(2026, 3, 1, 0, 0), // 15 March 2026 is a Sunday
			[]window{{utc(2026, 3, 16, 9, 0), utc(2026, 3, 17, 0, 0)}, {utc(2026, 4, 15, 9, 0), utc(2026, 4, 16, 0, 0)}}},
		{"cron W on saturday", Rules{ScheduleExpression: "cron(0 9 15W * ? *)"}, utc(2026, 8, 1, 0, 0), // 15 August 2026 is a Saturday
			[]window{{utc(2026, 8, 14, 9, 0), utc(2026, 8, 15, 0, 0)}}},
		{"cron 1W on saturday stays in month", Rules{ScheduleExpression: "cron(0 9 1W * ? *)"}, utc(2026, 7, 2, 0, 0), // 1 August 2026 is a Saturday
			[]window{{utc(2026, 8, 3, 9, 0), utc(2026, 8, 4, 0, 0)}}},
		{"cron 31W on sunday stays in month", Rules{ScheduleExpression: "cron(0 9 31W * ? *)"}, utc(2026, 5, 1, 0, 0), // 31 May 2026 is a Sunday
			[]window{{utc(2026, 5, 29, 9, 0), utc(2026, 5, 30, 0, 0)}, {utc(2026, 7, 31, 9, 0), utc(2026, 8, 1, 0, 0)}}},
		{"cron 30W skips february", Rules{ScheduleExpression: "cron(0 9 30W * ? *)"}, utc(2026, 2, 1, 0, 0),
			[]window{{utc(2026, 3, 30, 9, 0), utc(2026, 3, 31, 0, 0)}}},
		{"cron LW", Rules{ScheduleExpression: "cron(0 9 LW * ? *)"}, utc(2026, 5, 1, 0, 0), // ends on a Sunday, then a Tuesday
			[]window{{utc(2026, 5, 29, 9, 0), utc(2026, 5, 30, 0, 0)}, {utc(2026, 6, 30, 9, 0), utc(2026, 7, 1, 0, 0)}}},
		{"cron LW month ending saturday", Rules{ScheduleExpression: "cron(0 9 LW * ? *)"}, utc(2026, 10, 1, 0, 0),
			[]window{{utc(2026, 10, 30, 9, 0), utc(2026, 10, 31, 0, 0)}}},
		{"cron last friday", Rules{ScheduleExpression: "cron(0 12 ? * 6L *)"}, utc(2026, 5, 1, 0, 0),
			[]window{{utc(2026, 5, 29, 12, 0), utc(2026, 5, 30, 0, 0)}, {utc(2026, 6, 26, 12, 0), utc(2026, 6, 27, 0, 0)}}},
		{"cron last friday by name", Rules{ScheduleExpression: "cron(0 12 ? * FRIL *)"}, utc(2026, 5, 1, 0, 0),
			[]window{{utc(2026, 5, 29, 12, 0), utc(2026, 5, 30, 0, 0)}}},
		{"cron L is saturday", Rules{ScheduleExpression: "cron(0 12 ? * L *)"}, utc(2026, 5, 4, 0, 0),
			[]window{{utc(2026, 5, 9, 12, 0), utc(2026, 5, 10, 0, 0)}, {utc(2026, 5, 16, 12, 0), utc(2026, 5, 17, 0, 0)}}},
		{"cron first monday", Rules{ScheduleExpression: "cron(0 0 ? * 2#1 *)"}, utc(2026, 2, 3, 0, 0),
			[]window{{utc(2026, 3, 2, 0, 0), utc(2026, 3, 3, 0, 0)}, {utc(2026, 4, 6, 0, 0), utc(2026, 4, 7, 0, 0)}}},
		{"cron second friday by name", Rules{ScheduleExpression: "cron(0 0 ? * FRI#2 *)"}, utc(2026, 5, 1, 0, 0),
			[]window{{utc(2026, 5, 8, 0, 0), utc(2026, 5, 9, 0, 0)}}},
		{"cron fifth thursday", Rules{ScheduleExpression: "cron(0 0 ? * 5#5 *)"}, utc(2026, 1, 1, 0, 0),
			[]window{{utc(2026, 1, 29, 0, 0), utc(2026, 1, 30, 0, 0)}, {utc(2026, 4, 30, 0, 0), utc(2026, 5, 1, 0, 0)}}},
		{"cron fifth sunday of february", Rules{ScheduleExpression: "cron(0 0 ? 2 1#5 *)"}, utc(2026, 1, 1, 0, 0),
			[]window{{utc(2032, 2, 29, 0, 0), utc(2032, 3, 1, 0, 0)}, {utc(2060, 2, 29, 0, 0), utc(2060, 3, 1, 0, 0)}, {utc(2088, 2, 29, 0, 0), utc(2088, 3, 1, 0, 0)}, {utc(2128, 2, 29, 0, 0), utc(2128, 3, 1, 0, 0)}}},
		{"cron mixed day list", Rules{ScheduleExpression: "cron(0 0 1,15W,L * ? *)"}, utc(2026, 3, 1, 0, 0),
			[]window{{utc(2026, 3, 16, 0, 0), utc(2026, 3, 17, 0, 0)}, {utc(2026, 3, 31, 0, 0), utc(2026, 4, 1, 0, 0)}, {utc(2026, 4, 1, 0, 0), utc(2026, 4, 2, 0, 0)}}},
		{"cron from before 1970", Rules{ScheduleExpression: "cron(0 4 * * ? *)"}, utc(1960, 6, 1, 0, 0),
			[]window{{utc(1970, 1, 1, 4, 0), utc(1970, 1, 2, 0, 0)}}},
		{"cron last one", Rules{ScheduleExpression: "cron(0 4 * * ? *)"}, utc(2199, 12, 31, 3, 0),
			[]window{{utc(2199, 12, 31, 4, 0), utc(2200, 1, 1, 0, 0)}, {}}},
		{"cron after 2199", Rules{ScheduleExpression: "cron(0 4 * * ? *)"}, utc(2250, 1, 1, 0, 0),
			[]window{{}}},
		{"cron none left", Rules{ScheduleExpression: "cron(0 0 ? 2 1#5 *)"}, utc(2184, 3, 1, 0, 0),
			[]window{{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.r)
			last := tt.last
			for i, w := range tt.want {
				start, end := s.Next(last)
				if !start.Equal(w.start) || !end.Equal(w.end) {
					t.Fatalf("window %d: Next(%v) = [%v, %v), want [%v, %v)", i, last, start, end, w.start, w.end)
				}
				last = start
			}
		})
	}
}

func TestNextConvertsToUTC(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	newYork := time.FixedZone("EST", -5*3600)
	tests := []struct {
		expr string
		last time.Time
		want time.Time
	}{
		// 2026-05-10 08:00 JST is 2026-05-09 23:00 UTC.
		{"rate(1 day)", time.Date(2026, 5, 10, 8, 0, 0, 0, tokyo), utc(2026, 5, 10, 0, 0)},
		{"rate(4 hours)", time.Date(2026, 5, 10, 8, 30, 0, 0, tokyo), utc(2026, 5, 10, 3, 0)},
		{"cron(0 0 ? * SUN *)", time.Date(2026, 5, 10, 8, 0, 0, 0, tokyo), utc(2026, 5, 10, 0, 0)},
		// 2026-05-09 21:00 EST is 2026-05-10 02:00 UTC.
		{"cron(0 0 ? * SUN *)", time.Date(2026, 5, 9, 21, 0, 0, 0, newYork), utc(2026, 5, 17, 0, 0)},
		{"cron(0 0 ? * SUN *)", time.Date(2026, 5, 9, 21, 0, 0, 0, time.Local), time.Time{}}, // compared below
	}
	for _, tt := range tests {
		s := mustParse(t, Rules{ScheduleExpression: tt.expr})
		start, end := s.Next(tt.last)
		if start.Location() != time.UTC || end.Location() != time.UTC {
			t.Errorf("%s: Next(%v) is not in UTC: %v, %v", tt.expr, tt.last, start, end)
		}
		want := tt.want
		if want.IsZero() {
			want, _ = s.Next(tt.last.UTC())
		}
		if !start.Equal(want) {
			t.Errorf("%s: Next(%v) starts %v, want %v", tt.expr, tt.last, start, want)
		}
	}
	s := mustParse(t, Rules{ScheduleExpression: "cron(0 4 * * ? *)"})
	if start, end, ok := s.Window(time.Date(2026, 5, 10, 14, 30, 0, 0, tokyo)); !ok || !start.Equal(utc(2026, 5, 10, 4, 0)) || start.Location() != time.UTC || end.Location() != time.UTC {
		t.Errorf("Window in JST = %v, %v, %v", start, end, ok)
	}
}

func TestWindow(t *testing.T) {
	type check struct {
		t          time.Time
		start, end time.Time // zero when t is in no window
	}
	tests := []struct {
		name   string
		r      Rules
		checks []check
	}{
		{"cron in hours", Rules{ScheduleExpression: "cron(0 4/12 * * ? *)"}, []check{
			{utc(2026, 5, 10, 3, 59), time.Time{}, time.Time{}},
			{utc(2026, 5, 10, 4, 0), utc(2026, 5, 10, 4, 0), utc(2026, 5, 10, 5, 0)},
			{utc(2026, 5, 10, 4, 59), utc(2026, 5, 10, 4, 0), utc(2026, 5, 10, 5, 0)},
			{utc(2026, 5, 10, 5, 0), time.Time{}, time.Time{}},
			{utc(2026, 5, 10, 16, 30), utc(2026, 5, 10, 16, 0), utc(2026, 5, 10, 17, 0)},
			{utc(2026, 5, 10, 23, 0), time.Time{}, time.Time{}},
		}},
		{"cron daily default window", Rules{ScheduleExpression: "cron(0 4 * * ? *)"}, []check{
			{utc(2026, 5, 10, 2, 0), time.Time{}, time.Time{}},
			{utc(2026, 5, 10, 23, 59), utc(2026, 5, 10, 4, 0), utc(2026, 5, 11, 0, 0)},
			{utc(2026, 5, 11, 0, 0), time.Time{}, time.Time{}},
		}},
		{"cron mondays 3h", Rules{ScheduleExpression: "cron(0 4 ? * MON *)", Duration: "3h"}, []check{
			{utc(2026, 5, 11, 4, 0), utc(2026, 5, 11, 4, 0), utc(2026, 5, 11, 7, 0)},
			{time.Date(2026, 5, 11, 6, 59, 59, 999999999, time.UTC), utc(2026, 5, 11, 4, 0), utc(2026, 5, 11, 7, 0)},
			{utc(2026, 5, 11, 7, 0), time.Time{}, time.Time{}},
			{utc(2026, 5, 12, 5, 0), time.Time{}, time.Time{}},
		}},
		{"cron touching windows", Rules{ScheduleExpression: "cron(0 0,8,12 * * ? *)", Duration: "4h"}, []check{
			{utc(2026, 5, 10, 11, 0), utc(2026, 5, 10, 8, 0), utc(2026, 5, 10, 12, 0)},
			{utc(2026, 5, 10, 12, 0), utc(2026, 5, 10, 12, 0), utc(2026, 5, 10, 16, 0)},
			{utc(2026, 5, 10, 16, 0), time.Time{}, time.Time{}},
		}},
		{"cron last day", Rules{ScheduleExpression: "cron(0 0 L FEB ? *)"}, []check{
			{utc(2024, 2, 29, 10, 0), utc(2024, 2, 29, 0, 0), utc(2024, 3, 1, 0, 0)},
			{utc(2024, 2, 28, 10, 0), time.Time{}, time.Time{}},
			{utc(2025, 2, 28, 10, 0), utc(2025, 2, 28, 0, 0), utc(2025, 3, 1, 0, 0)},
		}},
		{"cron outside years", Rules{ScheduleExpression: "cron(0 0 * * ? *)"}, []check{
			{utc(1969, 12, 31, 0, 30), time.Time{}, time.Time{}},
			{utc(1970, 1, 1, 0, 30), utc(1970, 1, 1, 0, 0), utc(1970, 1, 2, 0, 0)},
			{utc(2199, 12, 31, 23, 0), utc(2199, 12, 31, 0, 0), utc(2200, 1, 1, 0, 0)},
			{utc(2200, 1, 1, 0, 30), time.Time{}, time.Time{}},
		}},
		{"rate days", Rules{ScheduleExpression: "rate(10 days)", Duration: "2h"}, []check{
			{utc(2026, 5, 10, 1, 30), utc(2026, 5, 10, 0, 0), utc(2026, 5, 10, 2, 0)},
			{utc(2026, 5, 10, 2, 0), time.Time{}, time.Time{}},
		}},
		{"after days default window", Rules{AutomaticallyAfterDays: days(7)}, []check{
			{utc(2026, 5, 10, 23, 0), utc(2026, 5, 10, 0, 0), utc(2026, 5, 11, 0, 0)},
		}},
		{"rate hours", Rules{ScheduleExpression: "rate(6 hours)", Duration: "2h"}, []check{
			{utc(2026, 5, 10, 13, 20), utc(2026, 5, 10, 13, 0), utc(2026, 5, 10, 15, 0)},
			{utc(2026, 5, 10, 23, 30), utc(2026, 5, 10, 23, 0), utc(2026, 5, 11, 0, 0)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.r)
			for _, c := range tt.checks {
				start, end, ok := s.Window(c.t)
				if ok != !c.start.IsZero() || !start.Equal(c.start) || !end.Equal(c.end) {
					t.Errorf("Window(%v) = [%v, %v) %v, want [%v, %v)", c.t, start, end, ok, c.start, c.end)
				}
			}
		})
	}
}

// TestWindowMatchesNext checks, hour by hour over two years, that Window
// reports exactly the windows Next produces.
func TestWindowMatchesNext(t *testing.T) {
	for _, r := range []Rules{
		{ScheduleExpression: "cron(0 4/12 * * ? *)"},
		{ScheduleExpression: "cron(0 0,8,12 ? * MON-FRI *)", Duration: "4h"},
		{ScheduleExpression: "cron(0 20 L,15W * ? *)", Duration: "4h"},
		{ScheduleExpression: "cron(0 3 ? 2,3 1#5,6L *)"},
	} {
		s := mustParse(t, r)
		from, to := utc(2027, 1, 1, 0, 0), utc(2029, 1, 1, 0, 0)
		start, end := s.Next(from.Add(-time.Nanosecond))
		for at := from; at.Before(to); at = at.Add(30 * time.Minute) {
			if !at.Before(end) {
				start, end = s.Next(start)
			}
			ws, we, ok := s.Window(at)
			in := !at.Before(start) && at.Before(end)
			if ok != in || ok && (!ws.Equal(start) || !we.Equal(end)) {
				t.Fatalf("%s: Window(%v) = [%v, %v) %v; Next gives [%v, %v)", s, at, ws, we, ok, start, end)
			}
		}
	}
}
