package detect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func TestResponses(t *testing.T) {
	rootEv := Event{RequestID: "r1", Time: t0, Operation: "update", Path: "sys/policies/acl/x", Accessor: "acc-root", EntityID: "ent-1", Root: true}
	cases := []struct {
		name         string
		action       Action
		ev           Event
		fail         bool
		noResponder  bool
		wantRevoked  []string
		wantDisabled []string
		wantAction   string
	}{
		{name: "none", action: ActionNone, ev: rootEv},
		{name: "revoke token", action: ActionRevokeToken, ev: rootEv, wantRevoked: []string{"acc-root"}, wantAction: "revoked token accessor acc-root"},
		{name: "disable entity", action: ActionDisableEntity, ev: rootEv, wantDisabled: []string{"ent-1"}, wantAction: "disabled entity ent-1"},
		{name: "no entity to disable", action: ActionDisableEntity,
			ev:         Event{RequestID: "r1", Time: t0, Operation: "read", Path: "sys/health", Accessor: "acc-root", Root: true},
			wantAction: "disable_entity skipped: the finding names no entity"},
		{name: "responder fails", action: ActionRevokeToken, ev: rootEv, fail: true, wantAction: "revoke_token of acc-root failed"},
		{name: "no responder", action: ActionRevokeToken, ev: rootEv, noResponder: true, wantAction: "revoke_token skipped: no responder is configured"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			if tc.noResponder {
				f.d.Stop()
				f.d.responder = nil
				f.d.Start(bg)
			}
			f.resp.fail = tc.fail
			f.setRule(RuleRootTokenUse, func(c *RuleConfig) { c.Response = tc.action })
			f.feed(tc.ev)
			got := f.findings(RuleRootTokenUse)
			if len(got) != 1 {
				t.Fatalf("%d findings", len(got))
			}
			if !slices.Equal(f.resp.revoked, tc.wantRevoked) || !slices.Equal(f.resp.disabled, tc.wantDisabled) {
				t.Errorf("revoked %v disabled %v", f.resp.revoked, f.resp.disabled)
			}
			var want []string
			if tc.wantAction != "" {
				want = []string{tc.wantAction}
			}
			if !slices.Equal(got[0].Actions, want) {
				t.Errorf("actions %q, want %q", got[0].Actions, want)
			}
		})
	}
}

func TestDeniedBurstRevokesToken(t *testing.T) {
	f := newFx(t)
	f.setRule(RuleDeniedBurst, func(c *RuleConfig) { c.Response = ActionRevokeToken })
	f.feed(repeat(&seq{}, denied("stolen", "192.0.2.66"), 50, t0, time.Second, nil)...)
	if !slices.Equal(f.resp.revoked, []string{"stolen"}) {
		t.Fatalf("revoked %v, want the accessor once", f.resp.revoked)
	}
}

func TestPersistence(t *testing.T) {
	st := inmem.New()
	f := newFxOpts(t, Options{Storage: st})
	f.setRule(RuleDeniedBurst, func(c *RuleConfig) {
		c.Threshold, c.Window, c.Severity, c.Response = 3, 30*time.Second, SeverityCritical, ActionRevokeToken
	})
	f.setRule(RuleRootTokenUse, func(c *RuleConfig) { c.AllowedPaths = []string{"sys/health"} })
	f.feed(repeat(&seq{}, denied("a1", "192.0.2.1"), 3, t0, time.Second, nil)...)
	before := f.d.Findings(FindingQuery{})
	if len(before) != 1 {
		t.Fatalf("%d findings", len(before))
	}
	f.d.Stop()

	g := newFxOpts(t, Options{Storage: st})
	c, _ := g.d.Rule(RuleDeniedBurst)
	if c.Threshold != 3 || c.Window != 30*time.Second || c.Severity != SeverityCritical || c.Response != ActionRevokeToken {
		t.Errorf("rule after restart: %+v", c)
	}
	if c, _ := g.d.Rule(RuleRootTokenUse); !slices.Equal(c.AllowedPaths, []string{"sys/health"}) {
		t.Errorf("allowed paths after restart: %v", c.AllowedPaths)
	}
	after := g.d.Findings(FindingQuery{})
	if len(after) != 1 || after[0].ID != before[0].ID || !slices.Equal(after[0].Evidence, before[0].Evidence) ||
		!after[0].Time.Equal(before[0].Time) {
		t.Errorf("findings after restart: %+v, before %+v", after, before)
	}
	if err := g.d.ResetRule(bg, RuleDeniedBurst); err != nil {
		t.Fatal(err)
	}
	h := newFxOpts(t, Options{Storage: st})
	if c, _ := h.d.Rule(RuleDeniedBurst); c.Threshold != 10 || c.Severity != SeverityMedium {
		t.Errorf("rule after reset and restart: %+v", c)
	}
}

func TestInvalidStoredRuleFallsBackToDefault(t *testing.T) {
	st := inmem.New()
	if err := st.Put(bg, &logical.StorageEntry{Key: ruleKey(RuleDeniedBurst), Value: []byte(`{"threshold":-4,"severity":"low"}`)}); err != nil {
		t.Fatal(err)
	}
	f := newFxOpts(t, Options{Storage: st})
	if c, _ := f.d.Rule(RuleDeniedBurst); c.Threshold != 10 || c.Severity != SeverityMedium {
		t.Fatalf("rule %+v", c)
	}
	if err := st.Put(bg, &logical.StorageEntry{Key: ruleKey(RuleDeniedBurst), Value: []byte(`{not json`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Storage: st}); err == nil {
		t.Fatal("corrupt rule setting accepted")
	}
}

func TestFindingRetention(t *testing.T) {
	st := inmem.New()
	f := newFxOpts(t, Options{Storage: st, MaxFindings: 5})
	f.setRule(RuleRootTokenUse, func(c *RuleConfig) { c.Cooldown = 0 })
	f.feed(repeat(&seq{}, Event{Operation: "read", Path: "sys/health", Accessor: "r", Root: true}, 8, t0, time.Second, nil)...)
	got := f.d.Findings(FindingQuery{})
	if len(got) != 5 || !got[0].Time.Equal(t0.Add(7*time.Second)) || !got[4].Time.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("retained %+v", got)
	}
	keys, err := st.List(bg, findingPrefix)
	if err != nil || len(keys) != 5 {
		t.Fatalf("stored keys %v %v", keys, err)
	}
	g := newFxOpts(t, Options{Storage: st, MaxFindings: 3})
	if n := len(g.d.Findings(FindingQuery{})); n != 3 {
		t.Fatalf("after restart with a smaller cap: %d", n)
	}
	if keys, _ := st.List(bg, findingPrefix); len(keys) != 3 {
		t.Fatalf("stored keys after trim %v", keys)
	}
}

func TestObserveNeverBlocks(t *testing.T) {
	d, err := New(Options{Storage: inmem.New(), QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(bg); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("flush before start: %v", err)
	}
	for range 5 {
		d.Observe(Event{Operation: "read", Path: "secret/data/x"})
	}
	if s := d.Stats(); s.Observed != 5 || s.Dropped != 3 || s.QueueLength != 2 || s.Processed != 0 {
		t.Fatalf("stats %+v", s)
	}
	d.Start(bg)
	d.Start(bg) // idempotent
	defer d.Stop()
	if err := d.Flush(bg); err != nil {
		t.Fatal(err)
	}
	if s := d.Stats(); s.Processed != 2 || s.QueueLength != 0 {
		t.Fatalf("stats %+v", s)
	}
	d.Stop()
	d.Stop()
	if err := d.Flush(bg); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("flush after stop: %v", err)
	}
	ctx, cancel := context.WithCancel(bg)
	d.Start(ctx)
	cancel()
	d.Stop()
}

func TestTrackedIdentitiesAreBounded(t *testing.T) {
	f := newFxOpts(t, Options{MaxTracked: 50})
	s := &seq{}
	var evs []Event
	for i := range 500 {
		evs = append(evs, read(s, t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("e%d", i), "secret/data/x", "192.0.2.1"))
		evs = append(evs, denied(fmt.Sprintf("a%d", i), fmt.Sprintf("10.1.%d.%d", i/250, i%250)))
	}
	f.feed(evs...)
	if n := f.d.Stats().TrackedIdentities; n != 50 {
		t.Fatalf("tracked %d identities, want 50", n)
	}
	if n := f.d.eng.bursts[RuleDeniedBurst].len(); n != 50 {
		t.Fatalf("tracked %d denial keys, want 50", n)
	}
}

func TestProfileSetsSaturate(t *testing.T) {
	f := newFx(t)
	s := &seq{}
	var evs []Event
	for i := range maxPathsPerIdentity + 10 {
		evs = append(evs, read(s, t0.Add(time.Duration(i)*time.Minute), "crawler", fmt.Sprintf("secret/data/p%d", i), "192.0.2.1"))
	}
	more, _ := history(s, t0.Add(2*day), 200, time.Minute, "crawler", "192.0.2.1", "secret/data/p1")
	evs = append(append(evs, more...), read(s, t0.Add(3*day), "crawler", "secret/data/new", "192.0.2.1"))
	f.feed(evs...)
	if got := f.findings(RuleNewSecretAccess); len(got) != 0 {
		t.Fatalf("saturated profile fired: %+v", got)
	}
	p, _ := f.d.eng.profiles.get("entity:crawler")
	if p.paths != nil {
		t.Fatalf("path set holds %d entries, want saturated", len(p.paths))
	}
}

func TestCollector(t *testing.T) {
	f := newFx(t)
	f.feed(Event{Operation: "read", Path: "sys/health", Accessor: "r", Root: true})
	reg := prometheus.NewRegistry()
	if err := reg.Register(f.d); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for name, want := range map[string]float64{
		"kinko_detect_events_observed_total":              1,
		"kinko_detect_events_processed_total":             1,
		"kinko_detect_events_dropped_total":               0,
		"kinko_detect_findings_total/root_token_use":      1,
		"kinko_detect_findings_total/denied_burst":        0,
		"kinko_detect_findings_suppressed_total/new_cidr": 0,
		"kinko_detect_tracked_identities":                 1,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := t0
	cases := []struct {
		in   string
		want time.Time
		err  string
	}{
		{in: "", want: time.Time{}},
		{in: "2026-03-01T10:00:00Z", want: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{in: "2026-03-01T10:00:00.5+01:00", want: time.Date(2026, 3, 1, 9, 0, 0, 5e8, time.UTC)},
		{in: "1700000000", want: time.Unix(1_700_000_000, 0)},
		{in: "90m", want: now.Add(-90 * time.Minute)},
		{in: " 7d ", want: now.Add(-7 * day)},
		{in: "-5m", err: "duration"},
		{in: "-1", err: "out of range"},
		{in: "yesterday", err: "duration"},
		{in: strings.Repeat("9", 100), err: "too long"},
		{in: "99999999999999999", err: "out of range"},
	}
	for _, tc := range cases {
		got, err := ParseSince(tc.in, now)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}
