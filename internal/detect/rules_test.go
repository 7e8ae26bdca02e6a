package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// ruleCase is a recorded pattern of events and how many findings of rule
// it must raise.
type ruleCase struct {
	name   string
	rule   string
	setup  func(f *fx)
	events func(s *seq) []Event
	want   int
	check  func(t *testing.T, got []Finding)
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			f.feed(tc.events(&seq{})...)
			got := f.findings(tc.rule)
			if len(got) != tc.want {
				t.Fatalf("%s: %d findings, want %d: %+v", tc.rule, len(got), tc.want, got)
			}
			if all := f.d.Findings(FindingQuery{}); len(all) != len(got) {
				t.Errorf("findings of other rules: %+v", all)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func denied(acc, ip string) Event {
	return Event{Operation: "read", Path: "secret/data/other", RemoteAddr: ip, Accessor: acc, EntityID: "ent-" + acc,
		Denied: true, Failed: true}
}

func failedLogin(user, ip string) Event {
	return Event{Operation: "update", Path: "auth/userpass/login/" + user, MountPoint: "auth/userpass/",
		RemoteAddr: ip, Login: true, Failed: true, Denied: true}
}

func TestCountingRules(t *testing.T) {
	ipN := func(i int, ev *Event) { ev.RemoteAddr = fmt.Sprintf("10.0.%d.%d", i/200, i%200+1) }
	accN := func(i int, ev *Event) { ev.Accessor = fmt.Sprintf("acc-%d", i); ev.EntityID = "" }
	userN := func(i int, ev *Event) { ev.Path = fmt.Sprintf("auth/userpass/login/user%d", i) }
	runRuleCases(t, []ruleCase{
		{name: "denied burst from one accessor", rule: RuleDeniedBurst, want: 1,
			events: func(s *seq) []Event { return repeat(s, denied("a1", ""), 10, t0, 6*time.Second, ipN) },
			check: func(t *testing.T, got []Finding) {
				if got[0].Subject.Accessor != "a1" || len(got[0].Evidence) != 10 || got[0].Severity != SeverityMedium {
					t.Errorf("finding %+v", got[0])
				}
			}},
		{name: "nine denials are below threshold", rule: RuleDeniedBurst, want: 0,
			events: func(s *seq) []Event { return repeat(s, denied("a1", ""), 9, t0, 6*time.Second, ipN) }},
		{name: "ten denials spread over ten minutes", rule: RuleDeniedBurst, want: 0,
			events: func(s *seq) []Event { return repeat(s, denied("a1", "192.0.2.1"), 10, t0, time.Minute, nil) }},
		{name: "denied burst from one address, many tokens", rule: RuleDeniedBurst, want: 1,
			events: func(s *seq) []Event { return repeat(s, denied("", "192.0.2.7"), 10, t0, time.Second, accN) },
			check: func(t *testing.T, got []Finding) {
				if got[0].Subject != (Subject{RemoteAddr: "192.0.2.7"}) {
					t.Errorf("subject %+v", got[0].Subject)
				}
			}},
		{name: "one accessor at one address is one finding", rule: RuleDeniedBurst, want: 1,
			events: func(s *seq) []Event { return repeat(s, denied("a1", "192.0.2.1"), 200, t0, 100*time.Millisecond, nil) },
			check: func(t *testing.T, got []Finding) {
				if len(got[0].Evidence) != 10 {
					t.Errorf("evidence: %d ids", len(got[0].Evidence))
				}
			}},
		{name: "login failures from one address", rule: RuleLoginFailureSpike, want: 1,
			events: func(s *seq) []Event { return repeat(s, failedLogin("", "198.51.100.9"), 20, t0, 2*time.Second, userN) },
			check: func(t *testing.T, got []Finding) {
				if got[0].Subject.RemoteAddr != "198.51.100.9" {
					t.Errorf("subject %+v", got[0].Subject)
				}
			}},
		{name: "nineteen login failures", rule: RuleLoginFailureSpike, want: 0,
			events: func(s *seq) []Event { return repeat(s, failedLogin("", "198.51.100.9"), 19, t0, 2*time.Second, userN) }},
		{name: "login failures against one user from many addresses", rule: RuleLoginFailureSpike, want: 1,
			events: func(s *seq) []Event { return repeat(s, failedLogin("alice", ""), 20, t0, time.Second, ipN) },
			check: func(t *testing.T, got []Finding) {
				if got[0].Subject.Path != "auth/userpass/login/alice" {
					t.Errorf("subject %+v", got[0].Subject)
				}
			}},
		{name: "successful logins do not count", rule: RuleLoginFailureSpike, want: 0,
			events: func(s *seq) []Event {
				return repeat(s, failedLogin("alice", "198.51.100.9"), 50, t0, time.Second, func(_ int, ev *Event) { ev.Failed, ev.Denied = false, false })
			}},
		{name: "lower threshold", rule: RuleDeniedBurst, want: 1,
			setup:  func(f *fx) { f.setRule(RuleDeniedBurst, func(c *RuleConfig) { c.Threshold = 3 }) },
			events: func(s *seq) []Event { return repeat(s, denied("a1", ""), 3, t0, time.Second, nil) }},
		{name: "evidence is bounded", rule: RuleDeniedBurst, want: 1,
			setup:  func(f *fx) { f.setRule(RuleDeniedBurst, func(c *RuleConfig) { c.Threshold = 50 }) },
			events: func(s *seq) []Event { return repeat(s, denied("a1", ""), 50, t0, time.Second, nil) },
			check: func(t *testing.T, got []Finding) {
				if len(got[0].Evidence) != maxEvidence || got[0].Evidence[maxEvidence-1] != "req-000050" {
					t.Errorf("evidence %v", got[0].Evidence)
				}
			}},
		{name: "disabled rule", rule: RuleDeniedBurst, want: 0,
			setup:  func(f *fx) { f.setRule(RuleDeniedBurst, func(c *RuleConfig) { c.Enabled = false }) },
			events: func(s *seq) []Event { return repeat(s, denied("a1", ""), 30, t0, time.Second, nil) }},
	})
}

func TestSingleEventRules(t *testing.T) {
	root := Event{Operation: "update", Path: "sys/mounts/x", RemoteAddr: "192.0.2.1", Accessor: "root-acc", Root: true, Policies: []string{"root"}}
	runRuleCases(t, []ruleCase{
		{name: "root token use", rule: RuleRootTokenUse, want: 1,
			events: func(s *seq) []Event { return repeat(s, root, 1, t0, 0, nil) },
			check: func(t *testing.T, got []Finding) {
				if got[0].Severity != SeverityHigh || got[0].Subject.Accessor != "root-acc" || got[0].Subject.Path != "sys/mounts/x" {
					t.Errorf("finding %+v", got[0])
				}
			}},
		{name: "root token on an allowed prefix", rule: RuleRootTokenUse, want: 0,
			setup: func(f *fx) {
				f.setRule(RuleRootTokenUse, func(c *RuleConfig) { c.AllowedPaths = []string{"sys/mounts/*"} })
			},
			events: func(s *seq) []Event { return repeat(s, root, 3, t0, time.Second, nil) }},
		{name: "root token next to an allowed path", rule: RuleRootTokenUse, want: 1,
			setup: func(f *fx) {
				f.setRule(RuleRootTokenUse, func(c *RuleConfig) { c.AllowedPaths = []string{"sys/mounts"} })
			},
			events: func(s *seq) []Event { return repeat(s, root, 3, t0, time.Second, nil) }},
		{name: "no root", rule: RuleRootTokenUse, want: 0,
			events: func(s *seq) []Event {
				return repeat(s, root, 3, t0, time.Second, func(_ int, ev *Event) { ev.Root = false })
			}},
		{name: "token revoked with its parent", rule: RuleRevokedParentUse, want: 1,
			events: func(s *seq) []Event {
				return []Event{{RequestID: s.id(), Time: t0, Operation: "read", Path: "secret/data/x", Accessor: "child", RevokedParent: true, Denied: true}}
			}},
		{name: "ordinary token", rule: RuleRevokedParentUse, want: 0,
			events: func(s *seq) []Event {
				return []Event{{RequestID: s.id(), Time: t0, Operation: "read", Path: "secret/data/x", Accessor: "child"}}
			}},
	})
}

// learnedHistory is 25 hours of reads of two paths every 10 minutes
// (150 reads) from one address.
func learnedHistory(s *seq, entity, ip string) ([]Event, time.Time) {
	return history(s, t0, 150, 10*time.Minute, entity, ip, "secret/data/app/db", "secret/data/app/api")
}

func TestNewSecretAccess(t *testing.T) {
	then := func(mod func(ev *Event)) func(s *seq) []Event {
		return func(s *seq) []Event {
			evs, at := learnedHistory(s, "e1", "192.0.2.10")
			ev := read(s, at, "e1", "secret/data/payroll", "192.0.2.10")
			if mod != nil {
				mod(&ev)
			}
			return append(evs, ev)
		}
	}
	runRuleCases(t, []ruleCase{
		{name: "new path after learning", rule: RuleNewSecretAccess, want: 1, events: then(nil),
			check: func(t *testing.T, got []Finding) {
				s := got[0].Subject
				if s.EntityID != "e1" || s.Path != "secret/data/payroll" || len(got[0].Evidence) != 1 || got[0].Severity != SeverityLow {
					t.Errorf("finding %+v", got[0])
				}
			}},
		{name: "denied read of a new path", rule: RuleNewSecretAccess, want: 0, events: then(func(ev *Event) { ev.Denied = true })},
		{name: "new sys path", rule: RuleNewSecretAccess, want: 0, events: then(func(ev *Event) { ev.Path = "sys/policies/acl/x" })},
		{name: "new path written, not read", rule: RuleNewSecretAccess, want: 0, events: then(func(ev *Event) { ev.Operation = "update" })},
		{name: "other identity", rule: RuleNewSecretAccess, want: 0, events: then(func(ev *Event) { ev.EntityID = "e2" })},
		{name: "identity younger than the learning period", rule: RuleNewSecretAccess, want: 0,
			events: func(s *seq) []Event {
				evs, at := history(s, t0, 150, 9*time.Minute, "e1", "192.0.2.10", "secret/data/app/db") // 22.5 h
				return append(evs, read(s, at, "e1", "secret/data/payroll", "192.0.2.10"))
			}},
		{name: "path set still growing", rule: RuleNewSecretAccess, want: 0,
			events: func(s *seq) []Event {
				evs, at := history(s, t0, 100, 10*time.Minute, "e1", "192.0.2.10", "secret/data/app/db")
				evs = append(evs, read(s, at, "e1", "secret/data/app/cache", "192.0.2.10"))
				// over a day in, but one known read short of min_events since
				// the last new path
				more, at := history(s, at, defaultLearned-1, 10*time.Minute, "e1", "192.0.2.10", "secret/data/app/db")
				return append(append(evs, more...), read(s, at, "e1", "secret/data/payroll", "192.0.2.10"))
			}},
		{name: "path set stable again", rule: RuleNewSecretAccess, want: 1,
			events: func(s *seq) []Event {
				evs, at := history(s, t0, 100, 10*time.Minute, "e1", "192.0.2.10", "secret/data/app/db")
				evs = append(evs, read(s, at, "e1", "secret/data/app/cache", "192.0.2.10"))
				more, at := history(s, at, defaultLearned, 10*time.Minute, "e1", "192.0.2.10", "secret/data/app/db")
				return append(append(evs, more...), read(s, at, "e1", "secret/data/payroll", "192.0.2.10"))
			}},
		{name: "a burst of new paths is one finding", rule: RuleNewSecretAccess, want: 1,
			events: func(s *seq) []Event {
				evs, at := learnedHistory(s, "e1", "192.0.2.10")
				for i := range 30 {
					evs = append(evs, read(s, at.Add(time.Duration(i)*time.Second), "e1", fmt.Sprintf("secret/data/x%d", i), "192.0.2.10"))
				}
				return evs
			}},
		{name: "token without entity", rule: RuleNewSecretAccess, want: 1,
			events: func(s *seq) []Event {
				evs, at := learnedHistory(s, "", "192.0.2.10")
				return append(evs, read(s, at, "", "secret/data/payroll", "192.0.2.10"))
			},
			check: func(t *testing.T, got []Finding) {
				if got[0].Subject.Accessor != "acc-" || !strings.Contains(got[0].Summary, "token accessor") {
					t.Errorf("finding %+v", got[0])
				}
			}},
	})
}

func TestVolumeSpike(t *testing.T) {
	spike := func(n int, perWindow int) func(s *seq) []Event {
		return func(s *seq) []Event {
			var evs []Event
			at := t0
			for w := 0; w < 150; w++ { // 25 h of active minutes every 10 minutes
				more, _ := history(s, at, perWindow, time.Second, "e1", "192.0.2.10", "secret/data/app/db", "secret/data/app/api")
				evs = append(evs, more...)
				at = at.Add(10 * time.Minute)
			}
			more, _ := history(s, at, n, 500*time.Millisecond, "e1", "192.0.2.10", "secret/data/app/db", "secret/data/app/api")
			return append(evs, more...)
		}
	}
	runRuleCases(t, []ruleCase{
		{name: "100 reads in a minute against a baseline of 2", rule: RuleVolumeSpike, want: 1, events: spike(100, 2),
			check: func(t *testing.T, got []Finding) {
				if got[0].Subject.EntityID != "e1" || len(got[0].Evidence) != maxEvidence {
					t.Errorf("finding %+v", got[0])
				}
			}},
		{name: "99 reads: below the floor", rule: RuleVolumeSpike, want: 0, events: spike(99, 2)},
		{name: "150 reads against a baseline of 20", rule: RuleVolumeSpike, want: 0, events: spike(110, 20)},
		{name: "a new identity's first burst", rule: RuleVolumeSpike, want: 0,
			events: func(s *seq) []Event {
				evs, _ := history(s, t0, 500, 100*time.Millisecond, "e1", "192.0.2.10", "secret/data/app/db")
				return evs
			}},
	})
}

func TestNewCIDR(t *testing.T) {
	from := func(ip string) func(s *seq) []Event {
		return func(s *seq) []Event {
			// learned from two networks: 10 requests from one, then 25
			// hours from the other
			evs, at := history(s, t0, 10, time.Minute, "e1", "192.0.2.10", "secret/data/app/db")
			more, at := history(s, at, 150, 10*time.Minute, "e1", "2001:db8:1:2::10", "secret/data/app/db")
			evs = append(evs, more...)
			return append(evs, read(s, at, "e1", "secret/data/app/db", ip))
		}
	}
	runRuleCases(t, []ruleCase{
		{name: "new IPv4 network", rule: RuleNewCIDR, want: 1, events: from("203.0.113.5"),
			check: func(t *testing.T, got []Finding) {
				if got[0].Subject.RemoteAddr != "203.0.113.5" || !strings.Contains(got[0].Summary, "203.0.113.0/24") {
					t.Errorf("finding %+v", got[0])
				}
			}},
		{name: "same IPv4 /24", rule: RuleNewCIDR, want: 0, events: from("192.0.2.200")},
		{name: "IPv4-mapped IPv6 of a known network", rule: RuleNewCIDR, want: 0, events: from("::ffff:192.0.2.99")},
		{name: "same IPv6 /64", rule: RuleNewCIDR, want: 0, events: from("2001:db8:1:2:ffff::1")},
		{name: "new IPv6 /64", rule: RuleNewCIDR, want: 1, events: from("2001:db8:1:3::10")},
		{name: "address with a port", rule: RuleNewCIDR, want: 1, events: from("203.0.113.5:4431")},
		{name: "unparseable address", rule: RuleNewCIDR, want: 0, events: from("not-an-ip")},
	})
}

func TestCooldown(t *testing.T) {
	f := newFx(t)
	s := &seq{}
	f.feed(repeat(s, denied("a1", "192.0.2.1"), 300, t0, 200*time.Millisecond, nil)...) // one minute
	if got := f.findings(RuleDeniedBurst); len(got) != 1 {
		t.Fatalf("burst gave %d findings, want 1", len(got))
	}
	if st := f.d.Stats(); st.Suppressed[RuleDeniedBurst] == 0 || st.Findings[RuleDeniedBurst] != 1 {
		t.Fatalf("stats %+v", st)
	}
	// still inside the 10 minute cooldown
	f.feed(repeat(s, denied("a1", "192.0.2.1"), 20, t0.Add(9*time.Minute), time.Second, nil)...)
	if got := f.findings(RuleDeniedBurst); len(got) != 1 {
		t.Fatalf("within cooldown: %d findings", len(got))
	}
	// after the cooldown a new burst is a new finding
	f.feed(repeat(s, denied("a1", "192.0.2.1"), 20, t0.Add(11*time.Minute), time.Second, nil)...)
	if got := f.findings(RuleDeniedBurst); len(got) != 2 {
		t.Fatalf("after cooldown: %d findings", len(got))
	}
	// a different subject is not held back by another's cooldown
	f.feed(repeat(s, denied("a2", "192.0.2.2"), 10, t0.Add(12*time.Minute), time.Second, nil)...)
	if got := f.findings(RuleDeniedBurst); len(got) != 3 {
		t.Fatalf("other subject: %d findings", len(got))
	}
	if f.notifiedCount() != 3 {
		t.Fatalf("notified %d", f.notifiedCount())
	}
}

func (f *fx) notifiedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.notified)
}

func TestZeroCooldownFiresEveryTime(t *testing.T) {
	f := newFx(t)
	f.setRule(RuleRootTokenUse, func(c *RuleConfig) { c.Cooldown = 0 })
	f.feed(repeat(&seq{}, Event{Operation: "read", Path: "sys/health", Accessor: "r", Root: true}, 5, t0, time.Second, nil)...)
	if got := f.findings(RuleRootTokenUse); len(got) != 5 {
		t.Fatalf("%d findings, want 5", len(got))
	}
	ids := map[string]bool{}
	for _, fd := range f.findings("") {
		ids[fd.ID] = true
	}
	if len(ids) != 5 {
		t.Fatalf("ids not unique: %v", ids)
	}
	got := f.findings("")
	if !slices.IsSortedFunc(got, func(a, b Finding) int { return b.Time.Compare(a.Time) }) {
		t.Fatal("findings not newest first")
	}
}
