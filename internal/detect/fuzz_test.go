package detect

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// FuzzRuleUpdate sends arbitrary JSON bodies to detect/rules/<name>: the
// update either fails with a user-facing error and changes nothing, or
// leaves a valid setting that survives a restart unchanged.
func FuzzRuleUpdate(f *testing.F) {
	for _, seed := range []struct {
		rule uint8
		body string
	}{
		{0, `{"threshold": 25, "window": "5m"}`},
		{0, `{"window": -5}`},
		{1, `{"learning_period": "7d", "min_events": "10"}`},
		{2, `{"multiplier": 3, "threshold": 1e3, "cooldown": 0}`},
		{3, `{"severity": "critical", "response": "disable_entity", "enabled": "false"}`},
		{4, `{"allowed_paths": ["sys/health", "/sys/leases/*"]}`},
		{4, `{"allowed_paths": "a,b*,*"}`},
		{5, `{"response": "revoke_token"}`},
		{6, `{"cooldown": "1.5h", "unknown": true}`},
		{2, `{"window": 99999999999999999999}`},
	} {
		f.Add(seed.rule, seed.body)
	}
	f.Fuzz(func(t *testing.T, rule uint8, body string) {
		dec := json.NewDecoder(bytes.NewReader([]byte(body)))
		dec.UseNumber()
		var data map[string]any
		if dec.Decode(&data) != nil {
			return
		}
		st := inmem.New()
		d, err := New(Options{Storage: st})
		if err != nil {
			t.Fatal(err)
		}
		fw := (&logical.Framework{PathList: d.Paths()}).Compile()
		name := specs[int(rule)%len(specs)].name
		before, _ := d.Rule(name)
		_, err = fw.HandleRequest(bg, &logical.Request{Operation: logical.UpdateOperation, Path: "detect/rules/" + name, Data: data})
		after, _ := d.Rule(name)
		if err != nil {
			if _, ok := logical.UserMessage(err); !ok {
				t.Fatalf("internal error for %s: %v", body, err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("failed update changed the rule: %+v → %+v", before, after)
			}
			return
		}
		if err := after.Validate(); err != nil {
			t.Fatalf("accepted an invalid setting %+v: %v", after, err)
		}
		again, err := New(Options{Storage: st})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := again.Rule(name); !reflect.DeepEqual(normalizeNil(got), normalizeNil(after)) {
			t.Fatalf("setting changed over a restart: %+v → %+v", after, got)
		}
	})
}

func normalizeNil(c RuleConfig) RuleConfig {
	if len(c.AllowedPaths) == 0 {
		c.AllowedPaths = nil
	}
	return c
}

// FuzzParseSince checks that a parsed since time formats back to itself.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00.123+05:30", "1700000000", "90m", "7d", "-1", "1e9", "5x"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err != nil || got.IsZero() {
			return
		}
		back, err := ParseSince(got.Format(time.RFC3339Nano), now)
		if err != nil || !back.Equal(got) {
			t.Fatalf("%q → %v → %v, %v", s, got, back, err)
		}
	})
}
