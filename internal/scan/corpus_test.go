package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCorpus measures recall and precision over testdata/corpus, a tree
// of realistic files holding fake credentials (listed with their file,
// line and rule in testdata/expected.json) and decoys that must not be
// found: placeholders, environment lookups, fixtures marked kinko:allow,
// UUIDs, hashes in lockfiles, checksums and image digests.
func TestCorpus(t *testing.T) {
	raw, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var expected []struct {
		File string `json:"file"`
		Line int    `json:"line"`
		Rule string `json:"rule"`
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, e := range expected {
		want[fmt.Sprintf("%s:%d:%s", e.File, e.Line, e.Rule)] = true
	}
	root := filepath.Join("testdata", "corpus")
	s, err := New(Options{Base: root})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Paths(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range res.Findings {
		rel, _ := filepath.Rel(root, f.File)
		got[fmt.Sprintf("%s:%d:%s", filepath.ToSlash(rel), f.Line, f.RuleID)] = true
	}
	tp := 0
	var missed, extra []string
	for k := range want {
		if got[k] {
			tp++
		} else {
			missed = append(missed, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missed)
	slices.Sort(extra)
	recall := float64(tp) / float64(len(want))
	precision := 1.0
	if len(got) > 0 {
		precision = float64(tp) / float64(len(got))
	}
	t.Logf("corpus: %d expected, %d found, %d true positives: recall %.1f%%, precision %.1f%% (%d files, %d skipped)",
		len(want), len(got), tp, 100*recall, 100*precision, res.Files, res.Skipped)
	for _, m := range missed {
		t.Logf("missed: %s", m)
	}
	for _, x := range extra {
		t.Logf("false positive: %s", x)
	}
	if recall < 0.95 || precision < 0.90 {
		t.Fatalf("recall %.1f%% (want >= 95%%), precision %.1f%% (want >= 90%%)", 100*recall, 100*precision)
	}
}
