package detect

import (
	"fmt"
	"time"
)

// trigger is what a rule reports when an event makes it fire. key names
// the subject within the rule, for de-duplication.
type trigger struct {
	key      string
	summary  string
	subject  Subject
	evidence []string
}

// evalFunc applies one rule to an event: it updates the rule's state (even
// when the rule is disabled, so enabling it later needs no relearning) and
// returns the triggers, most specific first. p is the caller's profile, or
// nil when the event carries no identity.
type evalFunc func(e *engine, ev *Event, now time.Time, c *RuleConfig, p *profile) []trigger

// specs lists every rule in evaluation order, with its defaults. The
// defaults are chosen to stay silent on ordinary traffic (see
// TestOrdinaryTrafficHasNoFinding).
var specs = []*ruleSpec{
	{
		name:        RuleDeniedBurst,
		description: "threshold or more permission-denied requests (logins aside) within window from one token accessor or one remote address",
		params:      []string{paramThreshold, paramWindow},
		limits:      limits{minThreshold: 2, maxThreshold: 1000, minWindow: time.Second, maxWindow: day},
		actions:     allActions,
		defaults: RuleConfig{Enabled: true, Severity: SeverityMedium, Response: ActionNone,
			Cooldown: 10 * time.Minute, Threshold: 10, Window: time.Minute},
		eval: evalDeniedBurst,
	},
	{
		name: RuleNewSecretAccess,
		description: "an identity (entity, else token accessor) reads a secret path it never read before, " +
			"once its profile is learned (known for learning_period, and its last min_events reads were of known paths)",
		params:  []string{paramLearningPeriod, paramMinEvents},
		actions: allActions,
		defaults: RuleConfig{Enabled: true, Severity: SeverityLow, Response: ActionNone,
			Cooldown: time.Hour, LearningPeriod: day, MinEvents: defaultLearned},
		eval: evalNewSecretAccess,
	},
	{
		name: RuleVolumeSpike,
		description: "an identity's reads within window reach threshold and exceed multiplier times its baseline " +
			"(an exponentially weighted average of its reads per active window), once its profile is learned",
		params:  []string{paramThreshold, paramWindow, paramMultiplier, paramLearningPeriod, paramMinEvents},
		limits:  limits{minThreshold: 1, maxThreshold: 1_000_000, minWindow: 10 * time.Second, maxWindow: day},
		actions: allActions,
		defaults: RuleConfig{Enabled: true, Severity: SeverityMedium, Response: ActionNone, Cooldown: time.Hour,
			Threshold: 100, Window: time.Minute, Multiplier: 10, LearningPeriod: day, MinEvents: defaultLearned},
		eval: evalVolumeSpike,
	},
	{
		name: RuleNewCIDR,
		description: "an identity sends a request from a network (IPv4 /24, IPv6 /64) never seen for it, " +
			"once its profile is learned",
		params:  []string{paramLearningPeriod, paramMinEvents},
		actions: allActions,
		defaults: RuleConfig{Enabled: true, Severity: SeverityMedium, Response: ActionNone,
			Cooldown: day, LearningPeriod: day, MinEvents: defaultLearned},
		eval: evalNewCIDR,
	},
	{
		name:        RuleRootTokenUse,
		description: "a request made with a root token, except to allowed_paths",
		params:      []string{paramAllowedPaths},
		actions:     allActions,
		defaults: RuleConfig{Enabled: true, Severity: SeverityHigh, Response: ActionNone,
			Cooldown: 15 * time.Minute},
		eval: evalRootTokenUse,
	},
	{
		name:        RuleLoginFailureSpike,
		description: "threshold or more failed logins within window from one remote address or to one login path",
		params:      []string{paramThreshold, paramWindow},
		limits:      limits{minThreshold: 2, maxThreshold: 1000, minWindow: time.Second, maxWindow: day},
		// A failed login has no token or entity to act on.
		actions: []Action{ActionNone},
		defaults: RuleConfig{Enabled: true, Severity: SeverityMedium, Response: ActionNone,
			Cooldown: 10 * time.Minute, Threshold: 20, Window: time.Minute},
		eval: evalLoginFailureSpike,
	},
	{
		name:        RuleRevokedParentUse,
		description: "a request carrying a token that was revoked because its parent token was revoked",
		actions:     allActions,
		defaults: RuleConfig{Enabled: true, Severity: SeverityHigh, Response: ActionNone,
			Cooldown: 15 * time.Minute},
		eval: evalRevokedParentUse,
	},
}

func init() {
	for _, s := range specs {
		s.defaults.Name = s.name
	}
}

// countBurst adds ev to the window of key under rule and returns a trigger
// when the window holds threshold events.
func (e *engine) countBurst(rule, key string, ev *Event, now time.Time, c *RuleConfig) (int, []string, bool) {
	m := e.bursts[rule]
	b, ok := m.get(key)
	if !ok {
		b = &burst{}
		m.put(key, b)
	}
	n := b.add(now, ev.RequestID, c.Threshold, c.Window)
	if n < c.Threshold {
		return n, nil, false
	}
	return n, b.ev.list(), true
}

func evalDeniedBurst(e *engine, ev *Event, now time.Time, c *RuleConfig, _ *profile) []trigger {
	// Refused logins are login_failure_spike's to count.
	if !ev.Denied || ev.Login {
		return nil
	}
	var out []trigger
	if ev.Accessor != "" {
		if n, ids, ok := e.countBurst(RuleDeniedBurst, "accessor:"+ev.Accessor, ev, now, c); ok {
			out = append(out, trigger{key: "accessor:" + ev.Accessor, evidence: ids,
				summary: fmt.Sprintf("%d permission-denied requests within %s from token accessor %s", n, c.Window, ev.Accessor),
				subject: Subject{Accessor: ev.Accessor, EntityID: ev.EntityID, RemoteAddr: ev.RemoteAddr}})
		}
	}
	if ev.RemoteAddr != "" {
		if n, ids, ok := e.countBurst(RuleDeniedBurst, "ip:"+ev.RemoteAddr, ev, now, c); ok {
			out = append(out, trigger{key: "ip:" + ev.RemoteAddr, evidence: ids,
				summary: fmt.Sprintf("%d permission-denied requests within %s from %s", n, c.Window, ev.RemoteAddr),
				subject: Subject{RemoteAddr: ev.RemoteAddr}})
		}
	}
	return out
}

func evalLoginFailureSpike(e *engine, ev *Event, now time.Time, c *RuleConfig, _ *profile) []trigger {
	if !ev.Login || !(ev.Failed || ev.Denied) {
		return nil
	}
	var out []trigger
	if ev.RemoteAddr != "" {
		if n, ids, ok := e.countBurst(RuleLoginFailureSpike, "ip:"+ev.RemoteAddr, ev, now, c); ok {
			out = append(out, trigger{key: "ip:" + ev.RemoteAddr, evidence: ids,
				summary: fmt.Sprintf("%d failed logins within %s from %s", n, c.Window, ev.RemoteAddr),
				subject: Subject{RemoteAddr: ev.RemoteAddr}})
		}
	}
	if p := normalizePath(ev.Path); p != "" {
		if n, ids, ok := e.countBurst(RuleLoginFailureSpike, "path:"+p, ev, now, c); ok {
			out = append(out, trigger{key: "path:" + p, evidence: ids,
				summary: fmt.Sprintf("%d failed logins within %s to %s", n, c.Window, p),
				subject: Subject{Path: p}})
		}
	}
	return out
}

func evalRootTokenUse(_ *engine, ev *Event, _ time.Time, c *RuleConfig, _ *profile) []trigger {
	if !ev.Root || pathAllowed(c.AllowedPaths, ev.Path) {
		return nil
	}
	return tokenUseTrigger(ev, "root token used")
}

func evalRevokedParentUse(_ *engine, ev *Event, _ time.Time, _ *RuleConfig, _ *profile) []trigger {
	if !ev.RevokedParent {
		return nil
	}
	return tokenUseTrigger(ev, "token revoked with its parent used")
}

// tokenUseTrigger reports one use of a token (by accessor, else address).
func tokenUseTrigger(ev *Event, what string) []trigger {
	key := "accessor:" + ev.Accessor
	if ev.Accessor == "" {
		key = "ip:" + ev.RemoteAddr
	}
	path := normalizePath(ev.Path)
	return []trigger{{key: key, evidence: []string{ev.RequestID},
		summary: fmt.Sprintf("%s for %s %s from %s", what, ev.Operation, path, orUnknown(ev.RemoteAddr)),
		subject: Subject{Accessor: ev.Accessor, EntityID: ev.EntityID, RemoteAddr: ev.RemoteAddr, Path: path}}}
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown address"
	}
	return s
}
