package store

import (
	"context"
	"slices"
	"sort"
	"time"
)

// GetSecretValueInput is the input of GetSecretValue. Without VersionId
// and VersionStage the AWSCURRENT version is read; with both they must
// name the same version.
type GetSecretValueInput struct {
	SecretId     string
	VersionId    string
	VersionStage string
}

// GetSecretValueOutput is the output of GetSecretValue; exactly one of
// SecretString and SecretBinary is set.
type GetSecretValueOutput struct {
	ARN           string
	Name          string
	VersionId     string
	SecretString  *string
	SecretBinary  []byte
	VersionStages []string
	CreatedDate   time.Time
}

// GetSecretValue reads one version's value and records the access (day
// precision) on the secret and the version.
func (s *Store) GetSecretValue(ctx context.Context, in GetSecretValueInput) (*GetSecretValueOutput, error) {
	if err := checkGet(in); err != nil {
		return nil, err
	}
	c, err := s.resolve(ctx, in.SecretId)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errNotFound()
	}
	if c.s.deleted() {
		return nil, errMarkedDeleted()
	}
	v, err := pickVersion(c, in.VersionId, in.VersionStage)
	if err != nil {
		return nil, err
	}
	if now := s.clock(); !sameDay(c.s.LastAccessedDate, now) || !sameDay(v.LastAccessedDate, now) {
		s.touch(ctx, c.s.ARN, v.VersionId, now)
	}
	return valueOutput(c.s, v), nil
}

func checkGet(in GetSecretValueInput) error {
	if err := checkSecretId(in.SecretId); err != nil {
		return err
	}
	if in.VersionId != "" {
		if err := checkToken("VersionId", in.VersionId); err != nil {
			return err
		}
	}
	if in.VersionStage != "" {
		return checkLabel(in.VersionStage)
	}
	return nil
}

func pickVersion(c *cached, id, stage string) (*Version, error) {
	if id != "" {
		v := c.s.Versions[id]
		if v == nil {
			return nil, errorf(CodeResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", id)
		}
		if stage != "" && !v.hasStage(stage) {
			return nil, errRequest("You provided a VersionStage that is not associated to the provided VersionId.")
		}
		return v, nil
	}
	if stage == "" {
		stage = StageCurrent
	}
	v := c.byLabel[stage]
	if v == nil {
		return nil, errorf(CodeResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
	}
	return v, nil
}

func valueOutput(sec *Secret, v *Version) *GetSecretValueOutput {
	out := &GetSecretValueOutput{
		ARN: sec.ARN, Name: sec.Name, VersionId: v.VersionId,
		VersionStages: v.stages(), CreatedDate: v.CreatedDate,
	}
	if v.SecretBinary != nil {
		out.SecretBinary = slices.Clone(v.SecretBinary)
	} else {
		str := v.SecretString
		out.SecretString = &str
	}
	return out
}

// touch records today as the last access of the secret and the version.
// It is best effort: a read does not fail because this write did.
func (s *Store) touch(ctx context.Context, arn, versionId string, now time.Time) {
	today := day(now)
	_, _ = s.mutate(ctx, arn, func(sec *Secret) (bool, error) {
		v := sec.Versions[versionId]
		if sec.deleted() || (sameDay(sec.LastAccessedDate, now) && (v == nil || sameDay(v.LastAccessedDate, now))) {
			return false, nil
		}
		sec.LastAccessedDate = &today
		if v != nil {
			v.LastAccessedDate = &today
		}
		return true, nil
	})
}

// SecretValueEntry is one value returned by BatchGetSecretValue.
type SecretValueEntry = GetSecretValueOutput

// APIError is one per-secret error of BatchGetSecretValue.
type APIError struct {
	SecretId  string
	ErrorCode string
	Message   string
}

// BatchGetSecretValueInput is the input of BatchGetSecretValue: either
// SecretIdList (1-20 IDs) or Filters (with MaxResults 1-20 and NextToken).
type BatchGetSecretValueInput struct {
	SecretIdList []string
	Filters      []Filter
	MaxResults   *int
	NextToken    string
}

// BatchGetSecretValueOutput is the output of BatchGetSecretValue.
type BatchGetSecretValueOutput struct {
	SecretValues []SecretValueEntry
	Errors       []APIError
	NextToken    string
}

// BatchGetSecretValue reads the AWSCURRENT value of several secrets. A
// secret that cannot be read is reported in Errors, not as the call's
// error.
func (s *Store) BatchGetSecretValue(ctx context.Context, in BatchGetSecretValueInput) (*BatchGetSecretValueOutput, error) {
	if (in.SecretIdList == nil) == (in.Filters == nil) {
		return nil, errParam("Either 'SecretIdList' or 'Filters' must be provided, but not both.")
	}
	if in.Filters == nil {
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, errParam("'Filters' must also be specified when 'MaxResults' or 'NextToken' is provided.")
		}
		if len(in.SecretIdList) < 1 || len(in.SecretIdList) > MaxBatchIds {
			return nil, errParam("SecretIdList must contain 1-%d secret IDs.", MaxBatchIds)
		}
		return s.batchGet(ctx, in.SecretIdList)
	}
	page, err := s.listPage(ctx, listQuery{
		op: "BatchGetSecretValue", filters: in.Filters, maxResults: in.MaxResults,
		maxLimit: MaxBatchIds, nextToken: in.NextToken,
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(page.secrets))
	for i, sec := range page.secrets {
		ids[i] = sec.ARN
	}
	out, err := s.batchGet(ctx, ids)
	if err != nil {
		return nil, err
	}
	out.NextToken = page.next
	return out, nil
}

func (s *Store) batchGet(ctx context.Context, ids []string) (*BatchGetSecretValueOutput, error) {
	out := &BatchGetSecretValueOutput{}
	for _, id := range ids {
		v, err := s.GetSecretValue(ctx, GetSecretValueInput{SecretId: id})
		if e, ok := AsError(err); ok {
			out.Errors = append(out.Errors, APIError{SecretId: id, ErrorCode: e.Code, Message: e.Message})
			continue
		}
		if err != nil {
			return nil, err
		}
		out.SecretValues = append(out.SecretValues, *v)
	}
	return out, nil
}

// DescribeSecretInput is the input of DescribeSecret.
type DescribeSecretInput struct {
	SecretId string
}

// DescribeSecretOutput is the output of DescribeSecret. VersionIdsToStages
// lists only versions that carry a label.
type DescribeSecretOutput struct {
	ARN                string
	Name               string
	Description        string
	KmsKeyId           string
	RotationEnabled    *bool
	RotationLambdaARN  string
	RotationRules      *RotationRules
	LastRotatedDate    *time.Time
	LastChangedDate    time.Time
	LastAccessedDate   *time.Time
	DeletedDate        *time.Time
	NextRotationDate   *time.Time
	Tags               []Tag
	VersionIdsToStages map[string][]string
	CreatedDate        time.Time
}

// DescribeSecret returns a secret's metadata, also while it is scheduled
// for deletion.
func (s *Store) DescribeSecret(ctx context.Context, in DescribeSecretInput) (*DescribeSecretOutput, error) {
	c, err := s.resolve(ctx, in.SecretId)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errNotFound()
	}
	e := listEntry(c.s)
	return &DescribeSecretOutput{
		ARN: e.ARN, Name: e.Name, Description: e.Description, KmsKeyId: e.KmsKeyId,
		RotationEnabled: e.RotationEnabled, RotationLambdaARN: e.RotationLambdaARN,
		RotationRules: e.RotationRules, LastRotatedDate: e.LastRotatedDate,
		LastChangedDate: e.LastChangedDate, LastAccessedDate: e.LastAccessedDate,
		DeletedDate: e.DeletedDate, NextRotationDate: e.NextRotationDate, Tags: e.Tags,
		VersionIdsToStages: e.SecretVersionsToStages, CreatedDate: e.CreatedDate,
	}, nil
}

// ListSecretVersionIdsInput is the input of ListSecretVersionIds.
type ListSecretVersionIdsInput struct {
	SecretId          string
	MaxResults        *int // 1-100, default 100
	NextToken         string
	IncludeDeprecated bool
}

// SecretVersionsListEntry is one version in ListSecretVersionIds.
type SecretVersionsListEntry struct {
	VersionId        string
	VersionStages    []string
	LastAccessedDate *time.Time
	CreatedDate      time.Time
}

// ListSecretVersionIdsOutput is the output of ListSecretVersionIds.
type ListSecretVersionIdsOutput struct {
	Versions  []SecretVersionsListEntry
	NextToken string
	ARN       string
	Name      string
}

// ListSecretVersionIds lists a secret's versions, newest first; versions
// without labels only with IncludeDeprecated.
func (s *Store) ListSecretVersionIds(ctx context.Context, in ListSecretVersionIdsInput) (*ListSecretVersionIdsOutput, error) {
	limit, err := checkMaxResults(in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	c, err := s.resolve(ctx, in.SecretId)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errNotFound()
	}
	fp := fingerprint("ListSecretVersionIds", c.s.ARN, in.IncludeDeprecated)
	var after *cursor
	if in.NextToken != "" {
		if after, err = decodeToken(in.NextToken, fp); err != nil {
			return nil, err
		}
	}
	var vs []*Version
	for _, v := range c.s.Versions {
		if (in.IncludeDeprecated || len(v.Stages) > 0) && (after == nil || newerFirst(v, after)) {
			vs = append(vs, v)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return versionOlder(vs[j], vs[i]) })
	out := &ListSecretVersionIdsOutput{ARN: c.s.ARN, Name: c.s.Name}
	if len(vs) > limit {
		last := vs[limit-1]
		out.NextToken = encodeToken(fp, cursor{T: last.CreatedDate.UnixNano(), N: last.VersionId})
		vs = vs[:limit]
	}
	for _, v := range vs {
		out.Versions = append(out.Versions, SecretVersionsListEntry{
			VersionId: v.VersionId, VersionStages: v.stages(),
			LastAccessedDate: clonePtr(v.LastAccessedDate), CreatedDate: v.CreatedDate,
		})
	}
	return out, nil
}

// newerFirst reports whether v comes after the cursor in newest-first
// order.
func newerFirst(v *Version, c *cursor) bool {
	t := v.CreatedDate.UnixNano()
	return t < c.T || (t == c.T && v.VersionId < c.N)
}
