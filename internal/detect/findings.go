package detect

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

const findingPrefix = "findings/"

// findingStore keeps the retained findings in memory, oldest first, and
// each one in storage under findingPrefix + ID.
type findingStore struct {
	storage logical.Storage
	max     int

	mu   sync.RWMutex
	list []*Finding // sorted by Time, oldest first
	byID map[string]*Finding
}

// load reads the stored findings, deleting any beyond the retention.
func (s *findingStore) load(ctx context.Context) error {
	s.byID = map[string]*Finding{}
	err := logical.ScanKeys(ctx, s.storage, findingPrefix, func(key string) error {
		f := &Finding{}
		ok, err := logical.GetJSON(ctx, s.storage, key, f)
		if err != nil || !ok || f.ID == "" || findingPrefix+f.ID != key {
			return err
		}
		s.list = append(s.list, f)
		s.byID[f.ID] = f
		return nil
	})
	if err != nil {
		return fmt.Errorf("detect: load findings: %w", err)
	}
	slices.SortStableFunc(s.list, func(a, b *Finding) int { return a.Time.Compare(b.Time) })
	return s.trim(ctx)
}

// add stores a finding and drops the oldest beyond the retention.
func (s *findingStore) add(ctx context.Context, f Finding) error {
	err := logical.PutJSON(ctx, s.storage, findingPrefix+f.ID, &f)
	s.mu.Lock()
	i := len(s.list)
	for i > 0 && s.list[i-1].Time.After(f.Time) {
		i--
	}
	s.list = slices.Insert(s.list, i, &f)
	s.byID[f.ID] = &f
	s.mu.Unlock()
	if terr := s.trim(ctx); err == nil {
		err = terr
	}
	return err
}

func (s *findingStore) trim(ctx context.Context) error {
	s.mu.Lock()
	var old []*Finding
	if n := len(s.list) - s.max; n > 0 {
		old = slices.Clone(s.list[:n])
		s.list = slices.Delete(s.list, 0, n)
		for _, f := range old {
			delete(s.byID, f.ID)
		}
	}
	s.mu.Unlock()
	for _, f := range old {
		if err := s.storage.Delete(ctx, findingPrefix+f.ID); err != nil {
			return fmt.Errorf("detect: delete old finding: %w", err)
		}
	}
	return nil
}

func (s *findingStore) get(id string) (Finding, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f, ok := s.byID[id]
	if !ok {
		return Finding{}, false
	}
	return f.clone(), true
}

func (s *findingStore) remove(ctx context.Context, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.byID[id]
	if !ok {
		return false, nil
	}
	if err := s.storage.Delete(ctx, findingPrefix+id); err != nil {
		return false, fmt.Errorf("detect: delete finding: %w", err)
	}
	delete(s.byID, id)
	s.list = slices.DeleteFunc(s.list, func(x *Finding) bool { return x == f })
	return true, nil
}

// FindingQuery selects findings; zero fields do not filter.
type FindingQuery struct {
	Rule string
	// Severity keeps findings of exactly this severity, MinSeverity those
	// of this severity or higher.
	Severity    Severity
	MinSeverity Severity
	// Since keeps findings at or after this time.
	Since time.Time
	// Limit caps the number returned (no cap when zero).
	Limit int
}

func (q *FindingQuery) match(f *Finding) bool {
	return (q.Rule == "" || f.Rule == q.Rule) &&
		(q.Severity == "" || f.Severity == q.Severity) &&
		(q.MinSeverity == "" || severityRank(f.Severity) >= severityRank(q.MinSeverity)) &&
		(q.Since.IsZero() || !f.Time.Before(q.Since))
}

func (s *findingStore) query(q FindingQuery) []Finding {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []Finding{}
	for i := len(s.list) - 1; i >= 0; i-- {
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
		if f := s.list[i]; q.match(f) {
			out = append(out, f.clone())
		}
	}
	return out
}

// Findings returns the retained findings matching q, newest first.
func (d *Detector) Findings(q FindingQuery) []Finding { return d.findings.query(q) }

// Finding returns one retained finding.
func (d *Detector) Finding(id string) (Finding, bool) { return d.findings.get(id) }

// DeleteFinding dismisses a finding; it reports whether it existed.
func (d *Detector) DeleteFinding(ctx context.Context, id string) (bool, error) {
	return d.findings.remove(ctx, id)
}
