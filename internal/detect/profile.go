package detect

import (
	"fmt"
	"hash/maphash"
	"net/netip"
	"strings"
	"time"
)

// Bounds of one identity's profile. A profile whose set reaches its bound
// is saturated: the identity is too broad to judge "new" by, and the rule
// using that set stops evaluating it (it never starts firing on evictions).
const (
	maxPathsPerIdentity = 256
	maxNetsPerIdentity  = 64
	// ewmaAlpha weighs the newest active window in a volume baseline.
	ewmaAlpha = 0.2
)

// profile is what the detector has learned about one identity. Profiles
// live in memory only: after a restart every identity learns again, so a
// restart never causes findings.
type profile struct {
	first time.Time

	// new_secret_access: hashes of the secret paths read.
	paths        map[uint64]struct{}
	pathStreak   int // reads of known paths since the last new one
	pathsLearned bool

	// new_cidr: hashes of the networks seen.
	nets        map[uint64]struct{}
	netStreak   int
	netsLearned bool

	// volume_spike: the current window and the baseline.
	reads    int
	winStart time.Time
	winCount int
	winEv    evidence
	baseline float64
	haveBase bool
}

// identityKey names the identity of an event: its entity, else its token
// accessor. Logins and anonymous requests have none.
func identityKey(ev *Event) string {
	switch {
	case ev.Login:
		return ""
	case ev.EntityID != "":
		return "entity:" + ev.EntityID
	case ev.Accessor != "":
		return "accessor:" + ev.Accessor
	}
	return ""
}

// identityLabel describes the identity of an event for a summary.
func identityLabel(ev *Event) string {
	var s string
	if ev.EntityID != "" {
		s = "entity " + ev.EntityID
	} else {
		s = "token accessor " + ev.Accessor
	}
	if ev.DisplayName != "" {
		s += " (" + ev.DisplayName + ")"
	}
	return s
}

func identitySubject(ev *Event) Subject {
	return Subject{Accessor: ev.Accessor, EntityID: ev.EntityID, RemoteAddr: ev.RemoteAddr}
}

// nonSecretPrefixes are the API areas whose reads are not secret reads:
// kinko's own configuration, the token store and auth methods, the
// identity store, and each token's private cubbyhole.
var nonSecretPrefixes = []string{"sys/", "auth/", "identity/", "cubbyhole/"}

// isSecretRead reports a successful read below a secrets engine.
func isSecretRead(ev *Event) bool {
	if ev.Operation != "read" || ev.Denied || ev.Failed || ev.Login {
		return false
	}
	p := normalizePath(ev.Path) + "/"
	for _, x := range nonSecretPrefixes {
		if strings.HasPrefix(p, x) {
			return false
		}
	}
	return p != "/"
}

// network returns the /24 (IPv4) or /64 (IPv6) network of addr.
func network(addr string) (netip.Prefix, bool) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		ap, perr := netip.ParseAddrPort(addr)
		if perr != nil {
			return netip.Prefix{}, false
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

func (e *engine) hashPrefix(p netip.Prefix) uint64 {
	b := p.Addr().As16()
	var h maphash.Hash
	h.SetSeed(e.seed)
	_, _ = h.Write(b[:])
	_ = h.WriteByte(byte(p.Bits()))
	return h.Sum64()
}

// learned decides whether a set-based profile is learned: it is sticky,
// and otherwise needs the identity known for the learning period and a
// streak of min_events events that brought nothing new.
func learned(sticky bool, streak int, first, now time.Time, c *RuleConfig) bool {
	return sticky || (streak >= c.MinEvents && now.Sub(first) >= c.LearningPeriod)
}

// addToSet records h in *set, saturating (nil) at max. It reports whether
// h was new; a saturated set reports false.
func addToSet(set *map[uint64]struct{}, h uint64, max int) bool {
	if *set == nil {
		return false
	}
	if _, ok := (*set)[h]; ok {
		return false
	}
	if len(*set) >= max {
		*set = nil
		return false
	}
	(*set)[h] = struct{}{}
	return true
}

func evalNewSecretAccess(e *engine, ev *Event, now time.Time, c *RuleConfig, p *profile) []trigger {
	if p == nil || p.paths == nil || !isSecretRead(ev) {
		return nil
	}
	path := normalizePath(ev.Path)
	if !addToSet(&p.paths, maphash.String(e.seed, path), maxPathsPerIdentity) {
		p.pathStreak++
		p.pathsLearned = p.paths != nil && learned(p.pathsLearned, p.pathStreak, p.first, now, c)
		return nil
	}
	p.pathsLearned = learned(p.pathsLearned, p.pathStreak, p.first, now, c)
	if !p.pathsLearned {
		p.pathStreak = 0
		return nil
	}
	sub := identitySubject(ev)
	sub.Path = path
	return []trigger{{key: identityKey(ev), subject: sub, evidence: []string{ev.RequestID},
		summary: fmt.Sprintf("%s read %s, a secret path it never read before", identityLabel(ev), path)}}
}

func evalNewCIDR(e *engine, ev *Event, now time.Time, c *RuleConfig, p *profile) []trigger {
	if p == nil || p.nets == nil {
		return nil
	}
	n, ok := network(ev.RemoteAddr)
	if !ok {
		return nil
	}
	if !addToSet(&p.nets, e.hashPrefix(n), maxNetsPerIdentity) {
		p.netStreak++
		p.netsLearned = p.nets != nil && learned(p.netsLearned, p.netStreak, p.first, now, c)
		return nil
	}
	p.netsLearned = learned(p.netsLearned, p.netStreak, p.first, now, c)
	if !p.netsLearned {
		p.netStreak = 0
		return nil
	}
	return []trigger{{key: identityKey(ev), subject: identitySubject(ev), evidence: []string{ev.RequestID},
		summary: fmt.Sprintf("%s sent a request from %s, a network never seen for it", identityLabel(ev), n)}}
}

// closeWindow folds a finished window into the baseline. Only active
// windows count, so an identity that works in bursts (a nightly job) is
// compared with its bursts, not with its idle hours.
func (p *profile) closeWindow() {
	if p.winCount > 0 {
		if !p.haveBase {
			p.baseline, p.haveBase = float64(p.winCount), true
		} else {
			p.baseline += ewmaAlpha * (float64(p.winCount) - p.baseline)
		}
	}
	p.winCount = 0
	p.winEv.reset()
}

func evalVolumeSpike(_ *engine, ev *Event, now time.Time, c *RuleConfig, p *profile) []trigger {
	if p == nil || !isSecretRead(ev) {
		return nil
	}
	if p.winStart.IsZero() || now.Sub(p.winStart) >= c.Window {
		p.closeWindow()
		p.winStart = now
	}
	p.reads++
	p.winCount++
	p.winEv.add(ev.RequestID)
	ready := p.haveBase && p.reads > c.MinEvents && now.Sub(p.first) >= c.LearningPeriod
	if !ready || p.winCount < c.Threshold || float64(p.winCount) <= float64(c.Multiplier)*p.baseline {
		return nil
	}
	return []trigger{{key: identityKey(ev), subject: identitySubject(ev), evidence: p.winEv.list(),
		summary: fmt.Sprintf("%s made %d secret reads within %s, over %d times its baseline of %.1f",
			identityLabel(ev), p.winCount, c.Window, c.Multiplier, p.baseline)}}
}
