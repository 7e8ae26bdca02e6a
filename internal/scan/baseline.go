package scan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/kinko-dev/kinko/internal/atomicfile"
)

// ErrInvalidBaseline is wrapped by errors about a bad baseline file.
var ErrInvalidBaseline = errors.New("invalid baseline")

// maxBaselineSize bounds a baseline file.
const maxBaselineSize = 64 << 20

// Baseline is a set of accepted findings, by fingerprint. The file holds
// no secret: only fingerprints and where each finding was.
type Baseline struct {
	Version  int             `json:"version"`
	Findings []BaselineEntry `json:"findings"`

	set map[string]bool
}

// BaselineEntry records one accepted finding.
type BaselineEntry struct {
	Fingerprint string `json:"fingerprint"`
	Rule        string `json:"rule"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	Commit      string `json:"commit,omitempty"`
}

// NewBaseline records findings (one entry per fingerprint).
func NewBaseline(fs []Finding) *Baseline {
	b := &Baseline{Version: 1, Findings: []BaselineEntry{}, set: map[string]bool{}}
	for _, f := range fs {
		if b.set[f.Fingerprint] {
			continue
		}
		b.set[f.Fingerprint] = true
		b.Findings = append(b.Findings, BaselineEntry{Fingerprint: f.Fingerprint, Rule: f.RuleID, File: f.File, Line: f.Line, Commit: f.Commit})
	}
	slices.SortFunc(b.Findings, func(x, y BaselineEntry) int {
		if x.Fingerprint < y.Fingerprint {
			return -1
		}
		if x.Fingerprint > y.Fingerprint {
			return 1
		}
		return 0
	})
	return b
}

// ParseBaseline parses a baseline file (JSON).
func ParseBaseline(data []byte) (*Baseline, error) {
	b := &Baseline{}
	if err := json.Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidBaseline, err)
	}
	if b.Version != 1 {
		return nil, fmt.Errorf("%w: version %d is not supported (want 1)", ErrInvalidBaseline, b.Version)
	}
	b.set = make(map[string]bool, len(b.Findings))
	for i, e := range b.Findings {
		if e.Fingerprint == "" {
			return nil, fmt.Errorf("%w: entry %d has no fingerprint", ErrInvalidBaseline, i+1)
		}
		b.set[e.Fingerprint] = true
	}
	return b, nil
}

// LoadBaseline reads a baseline file.
func LoadBaseline(path string) (*Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBaselineSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBaselineSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ErrInvalidBaseline, maxBaselineSize)
	}
	b, err := ParseBaseline(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// Contains reports whether f is in the baseline.
func (b *Baseline) Contains(f *Finding) bool { return b != nil && b.set[f.Fingerprint] }

// Filter returns the findings not in the baseline.
func (b *Baseline) Filter(fs []Finding) []Finding {
	if b == nil {
		return fs
	}
	return slices.DeleteFunc(fs, func(f Finding) bool { return b.set[f.Fingerprint] })
}

// Write stores the baseline atomically at path (mode 0644).
func (b *Baseline) Write(path string) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o644)
}
