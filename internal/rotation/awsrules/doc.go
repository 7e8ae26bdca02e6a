// Package awsrules implements the rotation rules of AWS Secrets Manager
// (RotationRulesType: AutomaticallyAfterDays, ScheduleExpression,
// Duration) for kinko's AWS-compatible secrets: Parse validates rules as
// Secrets Manager does, and the resulting Schedule says when the next
// rotation window opens and closes. The package is pure computation: no
// clock, no storage, no goroutines; a *Schedule is immutable and safe for
// concurrent use.
//
// # Time
//
// Every schedule is in UTC. Times given in another location are converted
// to UTC; every time returned is in UTC.
//
// # Rules
//
// Exactly one of AutomaticallyAfterDays (1 to 1000) and ScheduleExpression
// must be set. AutomaticallyAfterDays N is the same schedule as
// rate(N days) (or rate(1 day)). ScheduleExpression is at most 256
// characters from [0-9A-Za-z()#?*/, -] and is one of:
//
//   - rate(N hours), N from 4 to 24000 (1000 days), or rate(N days), N from
//     1 to 1000. The unit is checked strictly, as EventBridge does: rate(1
//     day) is singular, every other value plural (rate(1 days) and
//     rate(5 hour) are rejected with the spelling to use). The "rate" and
//     "cron" keywords and units are lower case; surrounding spaces are
//     ignored.
//   - cron(Minutes Hours Day-of-month Month Day-of-week Year), the
//     EventBridge cron syntax: lists (,), ranges (-, not wrapping around),
//     the wildcard (*) and steps (/) in every field; month names JAN-DEC and day names
//     SUN-SAT in any case, with 1=SUN ... 7=SAT; ? in exactly one of
//     Day-of-month and Day-of-week; in Day-of-month L (last day), nW (the
//     weekday nearest day n, never leaving the month; no match when the
//     month has no day n) and LW (last weekday); in Day-of-week L alone
//     (Saturday, the last day of the week), nL (the last day n of the
//     month) and n#k (the k-th day n of the month, k from 1 to 5). L, W and
//     # items may appear in lists. Secrets Manager narrows the syntax: the
//     Minutes field must be 0 (rotation windows open on the hour) and the
//     Year field must be * (no schedules more than a year apart). The cron
//     parser itself accepts any minutes and years 1970-2199; a cron
//     schedule never fires after 2199.
//
// Secrets Manager rotates at most every four hours. For cron() this is
// checked exactly, not by sampling: the Hours field fires on the same
// hours every matching day, so two hours of the field less than four
// apart are rejected, and when the last and first hours of the field are
// less than four hours apart across midnight, the expression is rejected
// if two consecutive calendar days can both match. Whether they can, and
// whether the expression matches any date at all (cron(0 0 30 FEB ? *) is
// rejected), is decided by scanning the 28 years 2000-2027: with Year *,
// which day patterns occur depends only on a year's leap-ness and the
// weekday of its 1 January, and those 28 years contain every combination.
//
// # Windows
//
// Secrets Manager rotates at some time in a window [start, end). Windows
// open on the hour:
//
//   - rate(N days) and AutomaticallyAfterDays: at midnight of the UTC day
//     N days after the last rotation (or the enabling of rotation).
//   - rate(N hours): N hours after the last rotation, truncated to the
//     hour.
//   - cron(): at the first time the expression matches strictly after the
//     last rotation.
//
// The window closes after Duration ("1h" to "24h"). Without Duration it
// closes after one hour for a schedule "in hours" (rate in hours, or a
// cron whose Hours field holds more than one hour) and at the end of the
// UTC day otherwise. A window never extends into the next UTC day or the
// next window: Parse rejects a Duration that would do so for every start
// the schedule can produce (a cron's latest hour plus Duration beyond 24
// hours, Duration longer than the rate or than the shortest gap between
// the cron's hours). A rate(N hours) window may start at any hour, so its
// window is instead cut at the end of the UTC day it starts in.
//
// Next(last) gives the window after a rotation; Window(t) says whether t
// lies in a window. For cron() that is a property of t alone. rate()
// windows are anchored on the last rotation, so Window treats every UTC
// day (rate in days) or every hour (rate in hours) as a possible window
// start; a caller that knows the last rotation should use Next.
package awsrules
