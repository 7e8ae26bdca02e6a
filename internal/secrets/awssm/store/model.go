package store

import (
	"crypto/subtle"
	"slices"
	"sort"
	"time"
)

// Well-known staging labels.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// Secret is the stored record of one secret (JSON under secret/<name>).
// Records held by the Store's cache are never modified: a write clones the
// record, changes the clone and swaps it in.
type Secret struct {
	Name        string
	ARN         string
	Description string `json:",omitempty"`
	KmsKeyId    string `json:",omitempty"`
	Tags        []Tag  `json:",omitempty"`

	CreatedDate      time.Time
	LastChangedDate  time.Time
	LastAccessedDate *time.Time `json:",omitempty"` // UTC day
	// DeletedDate is when the secret will be deleted for good (the end of
	// its recovery window); nil when it is not scheduled for deletion.
	DeletedDate *time.Time `json:",omitempty"`

	// RotationEnabled is nil until rotation was configured once.
	RotationEnabled   *bool          `json:",omitempty"`
	RotationLambdaARN string         `json:",omitempty"`
	RotationRules     *RotationRules `json:",omitempty"`
	LastRotatedDate   *time.Time     `json:",omitempty"`
	NextRotationDate  *time.Time     `json:",omitempty"`

	ResourcePolicy string `json:",omitempty"`

	Versions map[string]*Version
}

// Version is one immutable value of a secret and the labels on it.
type Version struct {
	VersionId        string
	SecretString     string `json:",omitempty"` // set unless SecretBinary is
	SecretBinary     []byte `json:",omitempty"`
	CreatedDate      time.Time
	LastAccessedDate *time.Time `json:",omitempty"` // UTC day
	Stages           []string   `json:",omitempty"`
}

// Tag is one key/value tag; a secret's tags keep their order.
type Tag struct {
	Key   string
	Value string
}

// RotationRules is the rotation schedule of a secret.
type RotationRules struct {
	AutomaticallyAfterDays *int64 `json:",omitempty"`
	ScheduleExpression     string `json:",omitempty"`
	Duration               string `json:",omitempty"`
}

// Filter is one ListSecrets / BatchGetSecretValue filter.
type Filter struct {
	Key    string
	Values []string
}

func (v *Version) sameValue(s *string, b []byte) bool {
	if v.SecretBinary != nil {
		return s == nil && b != nil && subtle.ConstantTimeCompare(v.SecretBinary, b) == 1
	}
	return s != nil && b == nil && subtle.ConstantTimeCompare([]byte(v.SecretString), []byte(*s)) == 1
}

func (v *Version) hasStage(label string) bool { return slices.Contains(v.Stages, label) }

func (v *Version) stages() []string { return slices.Clone(v.Stages) }

// clone returns a deep copy of s except value bytes, which are immutable.
func (s *Secret) clone() *Secret {
	c := *s
	c.Tags = slices.Clone(s.Tags)
	c.RotationEnabled = clonePtr(s.RotationEnabled)
	if s.RotationRules != nil {
		r := *s.RotationRules
		r.AutomaticallyAfterDays = clonePtr(r.AutomaticallyAfterDays)
		c.RotationRules = &r
	}
	c.Versions = make(map[string]*Version, len(s.Versions))
	for id, v := range s.Versions {
		vc := *v
		vc.Stages = slices.Clone(v.Stages)
		c.Versions[id] = &vc
	}
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (s *Secret) deleted() bool { return s.DeletedDate != nil }

// holder returns the version carrying label, or nil.
func (s *Secret) holder(label string) *Version {
	for _, v := range s.Versions {
		if v.hasStage(label) {
			return v
		}
	}
	return nil
}

// detach removes label from whichever version carries it.
func (s *Secret) detach(label string) {
	for _, v := range s.Versions {
		if i := slices.Index(v.Stages, label); i >= 0 {
			v.Stages = slices.Delete(v.Stages, i, i+1)
		}
	}
}

// attach moves label onto v (from any other version). Moving AWSCURRENT
// puts AWSPREVIOUS on the version it left.
func (s *Secret) attach(label string, v *Version) {
	if v.hasStage(label) {
		return
	}
	old := s.holder(label)
	s.detach(label)
	v.Stages = append(v.Stages, label)
	if label == StageCurrent && old != nil {
		s.detach(StagePrevious)
		old.Stages = append(old.Stages, StagePrevious)
	}
}

// stageMap is VersionIdsToStages: labelled versions only.
func (s *Secret) stageMap() map[string][]string {
	m := make(map[string][]string, len(s.Versions))
	for id, v := range s.Versions {
		if len(v.Stages) > 0 {
			m[id] = v.stages()
		}
	}
	return m
}

// prune removes the oldest deprecated (unlabelled) versions created at
// least 24 hours before now while the secret has more than keep versions.
func (s *Secret) prune(now time.Time, keep int) {
	if len(s.Versions) <= keep {
		return
	}
	var old []*Version
	for _, v := range s.Versions {
		if len(v.Stages) == 0 && !v.CreatedDate.After(now.Add(-24*time.Hour)) {
			old = append(old, v)
		}
	}
	sort.Slice(old, func(i, j int) bool { return versionOlder(old[i], old[j]) })
	for _, v := range old {
		if len(s.Versions) <= keep {
			return
		}
		delete(s.Versions, v.VersionId)
	}
}

func versionOlder(a, b *Version) bool {
	if !a.CreatedDate.Equal(b.CreatedDate) {
		return a.CreatedDate.Before(b.CreatedDate)
	}
	return a.VersionId < b.VersionId
}

// day truncates t to its UTC day, the precision of LastAccessedDate.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func sameDay(p *time.Time, t time.Time) bool { return p != nil && p.Equal(day(t)) }
