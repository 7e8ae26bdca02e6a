package userpass

import (
	"crypto/sha256"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// lockoutConfig is the effective user-lockout policy of a mount.
type lockoutConfig struct {
	Threshold    int
	Duration     time.Duration
	CounterReset time.Duration
	Disable      bool
}

// defaultLockout is Vault's default user lockout.
var defaultLockout = lockoutConfig{Threshold: 5, Duration: 15 * time.Minute, CounterReset: 15 * time.Minute}

// lockoutOverrides are lockout settings that replace lower-precedence ones
// field by field; nil fields inherit. Precedence: the mount's tune
// (sys/auth/:path/tune user_lockout_config), then config/lockout, then the
// mount options, then defaultLockout.
type lockoutOverrides struct {
	Threshold    *int           `json:"lockout_threshold,omitempty"`
	Duration     *time.Duration `json:"lockout_duration,omitempty"`
	CounterReset *time.Duration `json:"lockout_counter_reset,omitempty"`
	Disable      *bool          `json:"lockout_disable,omitempty"`
}

func (o lockoutOverrides) apply(c lockoutConfig) lockoutConfig {
	if o.Threshold != nil {
		c.Threshold = *o.Threshold
	}
	if o.Duration != nil {
		c.Duration = *o.Duration
	}
	if o.CounterReset != nil {
		c.CounterReset = *o.CounterReset
	}
	if o.Disable != nil {
		c.Disable = *o.Disable
	}
	return c
}

// tunedOverrides are the settings of a mount's tuned user_lockout_config
// (zero fields are unset).
func tunedOverrides(lc *logical.UserLockoutConfig) lockoutOverrides {
	var o lockoutOverrides
	if lc == nil {
		return o
	}
	if n := lc.Threshold; n > 0 {
		o.Threshold = &n
	}
	if d := lc.Duration; d > 0 {
		o.Duration = &d
	}
	if d := lc.CounterReset; d > 0 {
		o.CounterReset = &d
	}
	if lc.Disable != nil {
		dis := *lc.Disable
		o.Disable = &dis
	}
	return o
}

// parseMountOptions reads the lockout settings from the mount options.
// As with Vault's tune options, a zero threshold or duration means "not
// set".
func parseMountOptions(opts map[string]string) (lockoutOverrides, error) {
	var o lockoutOverrides
	if v, ok := opts["lockout_threshold"]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return o, logical.InvalidRequest("invalid lockout_threshold option %q: use a whole number of failed attempts", v)
		}
		if n > 0 {
			o.Threshold = &n
		}
	}
	for _, f := range []struct {
		name string
		dst  **time.Duration
	}{{"lockout_duration", &o.Duration}, {"lockout_counter_reset", &o.CounterReset}} {
		v, ok := opts[f.name]
		if !ok || v == "" {
			continue
		}
		d, err := logical.ParseDuration(v)
		if err != nil || d < 0 {
			return o, logical.InvalidRequest("invalid %s option %q: use a duration like \"15m\" or a number of seconds", f.name, v)
		}
		if d > 0 {
			*f.dst = &d
		}
	}
	if v, ok := opts["lockout_disable"]; ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, logical.InvalidRequest("invalid lockout_disable option %q: use true or false", v)
		}
		o.Disable = &b
	}
	return o, nil
}

// maxUnknownCounters bounds the counters kept for usernames that do not
// exist, so spraying random names costs bounded memory and never evicts
// the counters of real users.
const maxUnknownCounters = 4096

// counterKey names one counter: a hash of the lower-case username (so the
// memory per counter is fixed whatever the name's length) and whether the
// user existed when the attempt began.
type counterKey struct {
	known bool
	name  [sha256.Size]byte
}

func newCounterKey(username string, known bool) counterKey {
	return counterKey{known: known, name: sha256.Sum256([]byte(username))}
}

// failureCounter is the failed-login state of one username.
type failureCounter struct {
	name     string    // the username, kept for known users only (sys/locked-users)
	count    int       // failures since the counter last reset
	last     time.Time // time of the latest failure
	inflight int       // attempts reserved by begin and not yet ended
}

// recent is the failure count still in force at now.
func (c *failureCounter) recent(now time.Time, cfg lockoutConfig) int {
	if c.count > 0 && now.After(c.last.Add(cfg.CounterReset)) {
		return 0
	}
	return c.count
}

// lockedOut applies Vault's rule: at least threshold failures, the latest
// less than the lockout duration ago.
func (c *failureCounter) lockedOut(now time.Time, cfg lockoutConfig) bool {
	return c.count >= cfg.Threshold && now.Before(c.last.Add(cfg.Duration))
}

// stale reports whether the counter no longer affects anything.
func (c *failureCounter) stale(now time.Time, cfg lockoutConfig) bool {
	return c.inflight == 0 && now.After(c.last.Add(max(cfg.Duration, cfg.CounterReset)))
}

// outcome is how a login attempt ended.
type outcome int

const (
	attemptFailed    outcome = iota // wrong credentials: counts
	attemptSucceeded                // resets the counter
	attemptAborted                  // neither (storage error, refused source)
)

// lockoutTracker holds the failure counters of one mount in memory.
type lockoutTracker struct {
	mu       sync.Mutex
	counters map[counterKey]*failureCounter
	unknown  int // counters with known == false
	sweepAt  int // sweep stale counters when the map reaches this size
}

func newLockoutTracker() *lockoutTracker {
	return &lockoutTracker{counters: map[counterKey]*failureCounter{}, sweepAt: 1024}
}

// begin reserves one attempt for k, the key of name. It reports false
// when k is locked out, or when as many attempts are already in flight as
// k has left before the threshold: concurrent guesses cannot overshoot it.
func (t *lockoutTracker) begin(k counterKey, name string, now time.Time, cfg lockoutConfig) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counters[k]
	if c == nil {
		if !t.makeRoom(k, now, cfg) {
			return false
		}
		c = &failureCounter{}
		t.counters[k] = c
		if k.known {
			c.name = name
		} else {
			t.unknown++
		}
	}
	if c.lockedOut(now, cfg) || c.inflight >= max(1, cfg.Threshold-c.recent(now, cfg)) {
		return false
	}
	c.inflight++
	return true
}

// end releases the attempt begin reserved and records its outcome.
func (t *lockoutTracker) end(k counterKey, now time.Time, cfg lockoutConfig, o outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counters[k]
	if c == nil {
		return
	}
	c.inflight--
	switch o {
	case attemptFailed:
		c.count = c.recent(now, cfg) + 1
		c.last = now
	case attemptSucceeded:
		c.count = 0
	}
	if c.count == 0 && c.inflight == 0 {
		t.remove(k)
	}
}

func (t *lockoutTracker) remove(k counterKey) {
	delete(t.counters, k)
	if !k.known {
		t.unknown--
	}
}

// makeRoom prunes stale counters when the map has grown, and keeps the
// unknown-username counters under maxUnknownCounters by evicting the one
// with the oldest failure. It reports false if no room could be made.
func (t *lockoutTracker) makeRoom(k counterKey, now time.Time, cfg lockoutConfig) bool {
	if len(t.counters) >= t.sweepAt {
		for key, c := range t.counters {
			if c.stale(now, cfg) {
				t.remove(key)
			}
		}
		t.sweepAt = max(1024, 2*len(t.counters))
	}
	if k.known || t.unknown < maxUnknownCounters {
		return true
	}
	var victim *counterKey
	var oldest time.Time
	for key, c := range t.counters {
		if !key.known && c.inflight == 0 && (victim == nil || c.last.Before(oldest)) {
			victim, oldest = &key, c.last
		}
	}
	if victim == nil {
		return false
	}
	t.remove(*victim)
	return true
}

// locked returns the known usernames locked out at now, sorted. Unknown
// usernames are locked too but never listed: they name no user, and
// listing what callers typed as usernames could show mistyped passwords.
func (t *lockoutTracker) locked(now time.Time, cfg lockoutConfig) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for k, c := range t.counters {
		if k.known && c.lockedOut(now, cfg) {
			out = append(out, c.name)
		}
	}
	slices.Sort(out)
	return out
}

// unlock clears the failure count of name, known or not. A counter with
// attempts in flight stays (cleared) so their end finds it.
func (t *lockoutTracker) unlock(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, known := range []bool{true, false} {
		k := newCounterKey(name, known)
		c := t.counters[k]
		if c == nil {
			continue
		}
		c.count, c.last = 0, time.Time{}
		if c.inflight == 0 {
			t.remove(k)
		}
	}
}

// size is the number of counters held (for tests).
func (t *lockoutTracker) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.counters)
}
