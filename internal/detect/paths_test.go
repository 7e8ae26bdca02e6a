package detect

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

type pathCase struct {
	name    string
	op      logical.Operation
	path    string
	data    map[string]any
	wantErr error
	errText string
	check   func(t *testing.T, r *logical.Response)
}

func TestRulePaths(t *testing.T) {
	f := newFx(t)
	for _, tc := range rulePathCases(f) {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.do(tc.op, tc.path, tc.data)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("error %v, want %v containing %q", err, tc.wantErr, tc.errText)
				}
				if _, ok := logical.UserMessage(err); !ok {
					t.Fatalf("error %v is not user-facing", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// rulePathCases run in order against one detector.
func rulePathCases(f *fx) []pathCase {
	return []pathCase{
		{name: "list", op: logical.ListOperation, path: "detect/rules/", check: func(t *testing.T, r *logical.Response) {
			if !slices.Equal(r.Data["keys"].([]string), RuleNames()) || len(r.Data["key_info"].(map[string]any)) != len(specs) {
				t.Errorf("list %v", r.Data)
			}
		}},
		{name: "read all", op: logical.ReadOperation, path: "detect/rules", check: func(t *testing.T, r *logical.Response) {
			rules := r.Data["rules"].(map[string]any)
			db := rules[RuleDeniedBurst].(map[string]any)
			if len(rules) != len(specs) || db["threshold"] != 10 || db["window"] != int64(60) {
				t.Errorf("rules %v", rules)
			}
		}},
		{name: "read one", op: logical.ReadOperation, path: "detect/rules/root_token_use", check: func(t *testing.T, r *logical.Response) {
			if r.Data["severity"] != "high" || r.Data["enabled"] != true || r.Data["cooldown"] != int64(900) {
				t.Errorf("rule %v", r.Data)
			}
			if _, ok := r.Data["window"]; ok {
				t.Error("root_token_use shows a window it does not use")
			}
		}},
		{name: "unknown rule", op: logical.ReadOperation, path: "detect/rules/nope", wantErr: logical.ErrNotFound},
		{name: "update unknown rule", op: logical.UpdateOperation, path: "detect/rules/nope", data: map[string]any{"enabled": false}, wantErr: logical.ErrNotFound},
		{name: "update", op: logical.UpdateOperation, path: "detect/rules/denied_burst",
			data: map[string]any{"threshold": "25", "window": "5m", "severity": "high", "cooldown": 120, "response": "revoke_token"},
			check: func(t *testing.T, r *logical.Response) {
				c, _ := f.d.Rule(RuleDeniedBurst)
				if c.Threshold != 25 || c.Window != 5*time.Minute || c.Severity != SeverityHigh || c.Cooldown != 2*time.Minute ||
					c.Response != ActionRevokeToken || r.Data["threshold"] != 25 {
					t.Errorf("rule %+v, response %v", c, r.Data)
				}
			}},
		{name: "partial update keeps the rest", op: logical.UpdateOperation, path: "detect/rules/denied_burst",
			data: map[string]any{"enabled": "false"},
			check: func(t *testing.T, r *logical.Response) {
				if c, _ := f.d.Rule(RuleDeniedBurst); c.Enabled || c.Threshold != 25 {
					t.Errorf("rule %+v", c)
				}
			}},
		{name: "unknown field warns", op: logical.UpdateOperation, path: "detect/rules/new_cidr",
			data: map[string]any{"bogus": 1, "learning_period": "48h"},
			check: func(t *testing.T, r *logical.Response) {
				if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "bogus") {
					t.Errorf("warnings %v", r.Warnings)
				}
				if c, _ := f.d.Rule(RuleNewCIDR); c.LearningPeriod != 48*time.Hour {
					t.Errorf("rule %+v", c)
				}
			}},
		{name: "negative window", op: logical.UpdateOperation, path: "detect/rules/denied_burst", data: map[string]any{"window": -5}, wantErr: logical.ErrInvalidRequest, errText: "window"},
		{name: "negative window string", op: logical.UpdateOperation, path: "detect/rules/denied_burst", data: map[string]any{"window": "-5m"}, wantErr: logical.ErrInvalidRequest},
		{name: "zero threshold", op: logical.UpdateOperation, path: "detect/rules/login_failure_spike", data: map[string]any{"threshold": 0}, wantErr: logical.ErrInvalidRequest, errText: "threshold"},
		{name: "threshold not a number", op: logical.UpdateOperation, path: "detect/rules/login_failure_spike", data: map[string]any{"threshold": "many"}, wantErr: logical.ErrInvalidRequest},
		{name: "bad severity", op: logical.UpdateOperation, path: "detect/rules/new_cidr", data: map[string]any{"severity": "urgent"}, wantErr: logical.ErrInvalidRequest},
		{name: "bad response", op: logical.UpdateOperation, path: "detect/rules/new_cidr", data: map[string]any{"response": "shutdown"}, wantErr: logical.ErrInvalidRequest},
		{name: "response the rule cannot take", op: logical.UpdateOperation, path: "detect/rules/login_failure_spike", data: map[string]any{"response": "revoke_token"}, wantErr: logical.ErrInvalidRequest, errText: "cannot take"},
		{name: "setting the rule does not use", op: logical.UpdateOperation, path: "detect/rules/root_token_use", data: map[string]any{"window": "1m"}, wantErr: logical.ErrInvalidRequest, errText: "no setting"},
		{name: "multiplier too small", op: logical.UpdateOperation, path: "detect/rules/volume_spike", data: map[string]any{"multiplier": 1}, wantErr: logical.ErrInvalidRequest},
		{name: "cooldown too long", op: logical.UpdateOperation, path: "detect/rules/volume_spike", data: map[string]any{"cooldown": "400d"}, wantErr: logical.ErrInvalidRequest},
		{name: "star inside an allowed path", op: logical.UpdateOperation, path: "detect/rules/root_token_use", data: map[string]any{"allowed_paths": "sys/*/x"}, wantErr: logical.ErrInvalidRequest},
		{name: "allowed paths", op: logical.UpdateOperation, path: "detect/rules/root_token_use", data: map[string]any{"allowed_paths": "/sys/health/, sys/leases/*"},
			check: func(t *testing.T, r *logical.Response) {
				if c, _ := f.d.Rule(RuleRootTokenUse); !slices.Equal(c.AllowedPaths, []string{"sys/health", "sys/leases/*"}) {
					t.Errorf("allowed %v", c.AllowedPaths)
				}
			}},
		{name: "reset", op: logical.DeleteOperation, path: "detect/rules/denied_burst", check: func(t *testing.T, r *logical.Response) {
			if c, _ := f.d.Rule(RuleDeniedBurst); !c.Enabled || c.Threshold != 10 {
				t.Errorf("rule after reset %+v", c)
			}
		}},
		{name: "reset unknown", op: logical.DeleteOperation, path: "detect/rules/nope", wantErr: logical.ErrNotFound},
		{name: "status", op: logical.ReadOperation, path: "detect/status", check: func(t *testing.T, r *logical.Response) {
			if _, ok := r.Data["events_dropped"]; !ok {
				t.Errorf("status %v", r.Data)
			}
		}},
	}
}

// findingsFx holds three root-token findings an hour apart from t0 and a
// denied burst at t0+90m; its clock reads t0+3h.
func findingsFx(t *testing.T) (*fx, []Finding) {
	f := newFx(t)
	s := &seq{}
	f.setRule(RuleRootTokenUse, func(c *RuleConfig) { c.Cooldown = 0 })
	f.feed(repeat(s, Event{Operation: "read", Path: "sys/health", Accessor: "r", Root: true}, 3, t0, time.Hour, nil)...)
	f.feed(repeat(s, denied("a1", "192.0.2.1"), 10, t0.Add(90*time.Minute), time.Second, nil)...)
	f.clock.Set(t0.Add(3 * time.Hour))
	all := f.d.Findings(FindingQuery{})
	if len(all) != 4 {
		t.Fatalf("%d findings", len(all))
	}
	return f, all
}

func TestFindingFilters(t *testing.T) {
	f, all := findingsFx(t)
	list := func(data map[string]any) []string {
		t.Helper()
		r, err := f.do(logical.ListOperation, "detect/findings/", data)
		if err != nil {
			t.Fatal(err)
		}
		return r.Data["keys"].([]string)
	}
	ids := func(fs []Finding) []string {
		var out []string
		for _, x := range fs {
			out = append(out, x.ID)
		}
		return out
	}
	if got := list(nil); !slices.Equal(got, ids(all)) {
		t.Errorf("list %v, want %v", got, ids(all))
	}
	if got := list(map[string]any{"rule": "denied_burst"}); len(got) != 1 || got[0] != all[1].ID {
		t.Errorf("rule filter %v", got)
	}
	if got := list(map[string]any{"severity": "high"}); len(got) != 3 {
		t.Errorf("severity filter %v", got)
	}
	if got := list(map[string]any{"min_severity": "medium"}); len(got) != 4 {
		t.Errorf("min_severity filter %v", got)
	}
	if got := list(map[string]any{"since": "100m"}); len(got) != 2 { // t0+80m onwards
		t.Errorf("since filter %v", got)
	}
	if got := list(map[string]any{"since": "2026-03-02T09:00:00Z", "limit": "1"}); len(got) != 1 || got[0] != all[0].ID {
		t.Errorf("since+limit %v", got)
	}
	for _, bad := range []map[string]any{{"since": "soon"}, {"limit": 0}, {"limit": 20000}, {"rule": "nope"}, {"severity": "x"}} {
		if _, err := f.do(logical.ListOperation, "detect/findings/", bad); !errors.Is(err, logical.ErrInvalidRequest) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestFindingReadDelete(t *testing.T) {
	f, all := findingsFx(t)
	r, err := f.do(logical.ReadOperation, "detect/findings", map[string]any{"rule": "denied_burst"})
	if err != nil {
		t.Fatal(err)
	}
	full := r.Data["findings"].([]map[string]any)
	if len(full) != 1 || full[0]["subject"].(map[string]any)["accessor"] != "a1" || len(full[0]["evidence"].([]string)) != 10 {
		t.Errorf("read findings %v", full)
	}
	id := all[1].ID
	r, err = f.do(logical.ReadOperation, "detect/findings/"+id, nil)
	if err != nil || r.Data["id"] != id || r.Data["rule"] != RuleDeniedBurst {
		t.Fatalf("read %v %v", r, err)
	}
	if _, err := f.do(logical.DeleteOperation, "detect/findings/"+id, nil); err != nil {
		t.Fatal(err)
	}
	for _, op := range []logical.Operation{logical.ReadOperation, logical.DeleteOperation} {
		if _, err := f.do(op, "detect/findings/"+id, nil); !errors.Is(err, logical.ErrNotFound) {
			t.Errorf("%s after delete: %v", op, err)
		}
	}
	if e, _ := f.st.Get(bg, findingPrefix+id); e != nil {
		t.Error("dismissed finding still stored")
	}
	if got := f.d.Findings(FindingQuery{}); len(got) != 3 {
		t.Errorf("list after delete %v", got)
	}
}

func TestPathHelp(t *testing.T) {
	f := newFx(t)
	for _, p := range []string{"detect/rules/denied_burst", "detect/findings", "detect/findings/x", "detect/rules", "detect/status"} {
		r, err := f.do(logical.HelpOperation, p, nil)
		if err != nil || r.Data["help"] == "" {
			t.Errorf("help %s: %v %v", p, r, err)
		}
	}
}
