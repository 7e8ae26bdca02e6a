package awsrules

import (
	"errors"
	"fmt"
	"time"
)

// The 28 years scanned to learn which day patterns a cron expression with
// Year * produces: they hold every pairing of leap-ness and weekday of
// 1 January (see the package doc).
const scanFrom, scanYears = 2000, 28

// checkSecretsManagerCron applies what Secrets Manager adds to the
// EventBridge syntax: minutes 0, year *, a date that matches, and at least
// four hours between rotations.
func checkSecretsManagerCron(c *cronExpr) error {
	var zero set256
	zero.add(0)
	if c.minutes != zero {
		return errors.New("ScheduleExpression: the Minutes field of cron() must be 0, because rotation windows open on the hour")
	}
	if c.fields[5] != "*" {
		return errors.New("ScheduleExpression: the Year field of cron() must be *, because Secrets Manager does not support rotation schedules more than a year apart")
	}
	fires, consecutive := c.scanDays()
	if !fires {
		return errors.New("ScheduleExpression: cron() matches no date; check Day-of-month, Month and Day-of-week together (e.g. day 30 never occurs in FEB)")
	}
	if gap, from := c.minHourGap(); gap < MinRateHours {
		return fmt.Errorf("ScheduleExpression: cron() rotates at %02d:00 and %02d:00, %s apart; rotations must be at least %d hours apart", from, from+gap, hours(gap), MinRateHours)
	}
	first, last := c.hours.next(0), c.hours.max()
	if gap := 24 - last + first; gap < MinRateHours && !consecutive.IsZero() {
		next := consecutive.AddDate(0, 0, 1)
		return fmt.Errorf("ScheduleExpression: cron() rotates at %02d:00 on %s and at %02d:00 on %s, %s apart; rotations must be at least %d hours apart",
			last, consecutive.Format(time.DateOnly), first, next.Format(time.DateOnly), hours(gap), MinRateHours)
	}
	return nil
}

// scanDays scans the years scanFrom to scanFrom+scanYears-1 and reports
// whether the day fields match any date, and the first date whose next day
// also matches (zero when no two consecutive days match).
func (c *cronExpr) scanDays() (fires bool, consecutive time.Time) {
	prevLast := false // the last day of the previous month matched
	for y := scanFrom; y < scanFrom+scanYears; y++ {
		for m := time.January; m <= time.December; m++ {
			if !c.months.has(int(m)) {
				prevLast = false
				continue
			}
			mask := c.dayMask(y, m)
			fires = fires || mask != 0
			if consecutive.IsZero() {
				if prevLast && mask&2 != 0 {
					consecutive = time.Date(y, m, 0, 0, 0, 0, 0, time.UTC)
				} else if pair := mask & (mask >> 1); pair != 0 {
					consecutive = time.Date(y, m, nextBit32(pair, 0), 0, 0, 0, 0, time.UTC)
				}
			}
			if fires && !consecutive.IsZero() {
				return fires, consecutive
			}
			prevLast = mask&(1<<daysIn(y, m)) != 0
		}
	}
	return fires, consecutive
}

func hours(n int) string {
	if n == 1 {
		return "1 hour"
	}
	return fmt.Sprintf("%d hours", n)
}
