package detect

import (
	"crypto/rand"
	"fmt"
	"hash/maphash"
	"time"
)

// engine is the rule state: identity profiles, counting windows and
// cooldowns. Only the detector goroutine touches it; every map in it is
// bounded by an LRU.
type engine struct {
	seed      maphash.Seed
	profiles  *lru[*profile]
	bursts    map[string]*lru[*burst] // by rule name
	cooldowns *lru[time.Time]         // rule + "\x00" + subject key → end
}

func newEngine(maxTracked int) *engine {
	e := &engine{
		seed:      maphash.MakeSeed(),
		profiles:  newLRU[*profile](maxTracked),
		bursts:    map[string]*lru[*burst]{},
		cooldowns: newLRU[time.Time](maxTracked),
	}
	for _, r := range []string{RuleDeniedBurst, RuleLoginFailureSpike} {
		e.bursts[r] = newLRU[*burst](maxTracked)
	}
	return e
}

// profileFor returns the profile of the event's identity, creating it
// (first seen now), or nil when the event has no identity.
func (e *engine) profileFor(ev *Event, now time.Time) *profile {
	k := identityKey(ev)
	if k == "" {
		return nil
	}
	if p, ok := e.profiles.get(k); ok {
		return p
	}
	p := &profile{first: now, paths: map[uint64]struct{}{}, nets: map[uint64]struct{}{}}
	e.profiles.put(k, p)
	return p
}

func cooldownKey(rule, key string) string { return rule + "\x00" + key }

func (e *engine) coolingDown(rule, key string, now time.Time) bool {
	until, ok := e.cooldowns.get(cooldownKey(rule, key))
	return ok && now.Before(until)
}

func (e *engine) cool(rule, key string, until time.Time) {
	e.cooldowns.put(cooldownKey(rule, key), until)
}

// newID returns a random UUID (version 4) from crypto/rand.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}
