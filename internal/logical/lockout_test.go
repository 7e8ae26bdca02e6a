package logical

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestApplyUserLockoutConfig(t *testing.T) {
	yes, no := true, false
	base := &UserLockoutConfig{Threshold: 3, Duration: time.Minute, Disable: &no}
	tests := []struct {
		name string
		cur  *UserLockoutConfig
		raw  map[string]any
		want *UserLockoutConfig
	}{
		{"strings as Vault's client sends", nil,
			map[string]any{"lockout_threshold": "2", "lockout_duration": "15m", "lockout_counter_reset_duration": "30s", "lockout_disable": false},
			&UserLockoutConfig{Threshold: 2, Duration: 15 * time.Minute, CounterReset: 30 * time.Second, Disable: &no}},
		{"numbers and the documented key", nil,
			map[string]any{"lockout_threshold": json.Number("7"), "lockout_duration": json.Number("600"), "lockout_counter_reset": 60},
			&UserLockoutConfig{Threshold: 7, Duration: 10 * time.Minute, CounterReset: time.Minute}},
		{"both reset keys agreeing", nil,
			map[string]any{"lockout_counter_reset": "90", "lockout_counter_reset_duration": "90"},
			&UserLockoutConfig{CounterReset: 90 * time.Second}},
		{"fields not sent are kept", base, map[string]any{"lockout_disable": "true"},
			&UserLockoutConfig{Threshold: 3, Duration: time.Minute, Disable: &yes}},
		{"system and 0 unset", base, map[string]any{"lockout_duration": "system", "lockout_threshold": 0},
			&UserLockoutConfig{Disable: &no}},
		{"nothing left is nil", &UserLockoutConfig{Threshold: 4}, map[string]any{"lockout_threshold": "0"}, nil},
		{"empty object changes nothing", base, map[string]any{}, base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before UserLockoutConfig
			if tt.cur != nil {
				before = *tt.cur
			}
			got, err := ApplyUserLockoutConfig(tt.cur, tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if !sameLockout(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if tt.cur != nil && !sameLockout(tt.cur, &before) {
				t.Errorf("cur was modified: %+v", tt.cur)
			}
		})
	}
}

func TestApplyUserLockoutConfigErrors(t *testing.T) {
	tests := []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"lockout_threshold": "-1"}, "invalid user_lockout_config.lockout_threshold \"-1\""},
		{map[string]any{"lockout_threshold": "many"}, "lockout_threshold \"many\": use a whole number"},
		{map[string]any{"lockout_threshold": 1 << 21}, "lockout_threshold"},
		{map[string]any{"lockout_duration": "soon"}, "invalid user_lockout_config.lockout_duration \"soon\""},
		{map[string]any{"lockout_duration": "-5m"}, "lockout_duration"},
		{map[string]any{"lockout_counter_reset": "100000h"}, "up to 10 years"},
		{map[string]any{"lockout_duration": "10ms"}, "the shortest duration is 1s"},
		{map[string]any{"lockout_disable": "perhaps"}, "lockout_disable \"perhaps\": use true or false"},
		{map[string]any{"lockout_treshold": 3}, "unknown user_lockout_config field(s) \"lockout_treshold\""},
		{map[string]any{"lockout_counter_reset": "1m", "lockout_counter_reset_duration": "2m"}, "differ"},
		{map[string]any{"lockout_duration": strings.Repeat("x", 1000)}, "...\""},
	}
	for _, tt := range tests {
		_, err := ApplyUserLockoutConfig(nil, tt.raw)
		if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want an invalid request containing %q", tt.raw, err, tt.want)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("%v: error message of %d bytes", tt.raw, len(err.Error()))
		}
	}
}

func sameLockout(a, b *UserLockoutConfig) bool {
	if a == nil || b == nil {
		return a == b
	}
	if (a.Disable == nil) != (b.Disable == nil) || (a.Disable != nil && *a.Disable != *b.Disable) {
		return false
	}
	return a.Threshold == b.Threshold && a.Duration == b.Duration && a.CounterReset == b.CounterReset
}

// FuzzApplyUserLockoutConfig feeds arbitrary JSON objects, as a tune
// request decodes them: the parser never panics, errors are invalid
// requests of bounded size, and results stay within the limits.
func FuzzApplyUserLockoutConfig(f *testing.F) {
	for _, s := range []string{
		`{"lockout_threshold":"2","lockout_duration":"15m"}`,
		`{"lockout_counter_reset":900,"lockout_disable":true}`,
		`{"lockout_duration":"system","lockout_counter_reset_duration":"1h"}`,
		`{"lockout_threshold":-1}`, `{"x":1}`, `{"lockout_duration":1e300}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var raw map[string]any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if dec.Decode(&raw) != nil {
			return
		}
		got, err := ApplyUserLockoutConfig(nil, raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) || len(err.Error()) > 400 {
				t.Fatalf("error %v", err)
			}
			return
		}
		if got == nil {
			return
		}
		if got.Threshold < 0 || got.Threshold > MaxLockoutThreshold {
			t.Fatalf("threshold %d", got.Threshold)
		}
		for _, d := range []time.Duration{got.Duration, got.CounterReset} {
			if d < 0 || d > MaxLockoutDuration || (d > 0 && d < time.Second) {
				t.Fatalf("duration %v", d)
			}
		}
	})
}
