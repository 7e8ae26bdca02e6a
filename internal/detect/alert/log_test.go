package alert

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/kinko-dev/kinko/internal/detect"
)

// captureHandler is a slog.Handler that keeps every record.
type captureHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func (h *captureHandler) all() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.records...)
}

// flatAttrs resolves a record's attributes into "group.key" → value.
func flatAttrs(r slog.Record) map[string]slog.Value {
	out := map[string]slog.Value{}
	var walk func(prefix string, a slog.Attr)
	walk = func(prefix string, a slog.Attr) {
		v := a.Value.Resolve()
		if v.Kind() == slog.KindGroup {
			for _, g := range v.Group() {
				walk(prefix+a.Key+".", g)
			}
			return
		}
		out[prefix+a.Key] = v
	}
	r.Attrs(func(a slog.Attr) bool { walk("", a); return true })
	return out
}

func TestLogSinkLevels(t *testing.T) {
	tests := []struct {
		sev  detect.Severity
		want slog.Level
	}{
		{detect.SeverityLow, slog.LevelWarn},
		{detect.SeverityMedium, slog.LevelWarn},
		{detect.SeverityHigh, slog.LevelError},
		{detect.SeverityCritical, slog.LevelError},
		{"", slog.LevelWarn},
		{"bogus", slog.LevelWarn},
	}
	for _, tc := range tests {
		h := &captureHandler{}
		f := testFinding()
		f.Severity = tc.sev
		if err := NewLog("log", slog.New(h)).Send(context.Background(), f); err != nil {
			t.Fatal(err)
		}
		recs := h.all()
		if len(recs) != 1 || recs[0].Level != tc.want || recs[0].Message != LogMessage {
			t.Fatalf("severity %q: records %+v, want one at %v", tc.sev, recs, tc.want)
		}
	}
}

func TestLogSinkAttributes(t *testing.T) {
	h := &captureHandler{}
	f := testFinding()
	f.Actions = []string{"revoked accessor acc-1"}
	if err := NewLog("log", slog.New(h)).Send(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	a := flatAttrs(h.all()[0])
	for k, want := range map[string]string{
		"finding_id": "f-1", "rule": "denied_burst", "severity": "high", "summary": f.Summary,
		"subject.accessor": "acc-1", "subject.entity_id": "ent-1",
		"subject.remote_address": "10.0.0.9", "subject.path": "secret/data/app",
	} {
		if got, ok := a[k]; !ok || got.String() != want {
			t.Errorf("%s = %v, want %q", k, got, want)
		}
	}
	if !a["finding_time"].Time().Equal(f.Time) {
		t.Errorf("finding_time = %v", a["finding_time"])
	}
	if ev, ok := a["evidence"].Any().([]string); !ok || len(ev) != 2 || ev[1] != "req-2" {
		t.Errorf("evidence = %v", a["evidence"])
	}
	if ac, ok := a["actions"].Any().([]string); !ok || ac[0] != "revoked accessor acc-1" {
		t.Errorf("actions = %v", a["actions"])
	}
}

func TestLogSinkDefaultLogger(t *testing.T) {
	if NewLog("x", nil).logger != slog.Default() {
		t.Fatal("nil logger does not fall back to slog.Default()")
	}
}
