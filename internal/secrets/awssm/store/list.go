package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"
)

// Sort keys and orders of ListSecrets.
const (
	SortByCreatedDate      = "created-date"
	SortByLastAccessedDate = "last-accessed-date"
	SortByLastChangedDate  = "last-changed-date"
	SortByName             = "name"
	SortOrderAsc           = "asc"
	SortOrderDesc          = "desc"
)

// ListSecretsInput is the input of ListSecrets.
type ListSecretsInput struct {
	MaxResults             *int // 1-100, default 100
	NextToken              string
	Filters                []Filter
	IncludePlannedDeletion bool
	SortBy                 string // default created-date
	SortOrder              string // default asc
}

// SecretListEntry is one secret in ListSecrets.
type SecretListEntry struct {
	ARN                    string
	Name                   string
	Description            string
	KmsKeyId               string
	RotationEnabled        *bool
	RotationLambdaARN      string
	RotationRules          *RotationRules
	LastRotatedDate        *time.Time
	LastChangedDate        time.Time
	LastAccessedDate       *time.Time
	DeletedDate            *time.Time
	NextRotationDate       *time.Time
	Tags                   []Tag
	SecretVersionsToStages map[string][]string
	CreatedDate            time.Time
}

// ListSecretsOutput is the output of ListSecrets; NextToken is empty on the
// last page.
type ListSecretsOutput struct {
	SecretList []SecretListEntry
	NextToken  string
}

// ListSecrets lists secrets matching every filter, sorted and paginated.
// NextToken is opaque, tied to the filters and sort of the call that
// returned it; any other token fails with InvalidNextTokenException.
func (s *Store) ListSecrets(ctx context.Context, in ListSecretsInput) (*ListSecretsOutput, error) {
	page, err := s.listPage(ctx, listQuery{
		op: "ListSecrets", filters: in.Filters, includeDeleted: in.IncludePlannedDeletion,
		sortBy: in.SortBy, sortOrder: in.SortOrder, maxResults: in.MaxResults,
		maxLimit: 100, nextToken: in.NextToken,
	})
	if err != nil {
		return nil, err
	}
	out := &ListSecretsOutput{NextToken: page.next, SecretList: make([]SecretListEntry, 0, len(page.secrets))}
	for _, sec := range page.secrets {
		out.SecretList = append(out.SecretList, listEntry(sec))
	}
	return out, nil
}

func listEntry(sec *Secret) SecretListEntry {
	e := SecretListEntry{
		ARN: sec.ARN, Name: sec.Name, Description: sec.Description, KmsKeyId: sec.KmsKeyId,
		RotationEnabled: clonePtr(sec.RotationEnabled), RotationLambdaARN: sec.RotationLambdaARN,
		LastRotatedDate: clonePtr(sec.LastRotatedDate), LastChangedDate: sec.LastChangedDate,
		LastAccessedDate: clonePtr(sec.LastAccessedDate), DeletedDate: clonePtr(sec.DeletedDate),
		Tags: slices.Clone(sec.Tags), SecretVersionsToStages: sec.stageMap(), CreatedDate: sec.CreatedDate,
	}
	if sec.RotationEnabled != nil && *sec.RotationEnabled {
		e.NextRotationDate = clonePtr(sec.NextRotationDate)
	}
	if r := sec.RotationRules; r != nil {
		rc := *r
		rc.AutomaticallyAfterDays = clonePtr(r.AutomaticallyAfterDays)
		e.RotationRules = &rc
	}
	return e
}

type listQuery struct {
	op             string
	filters        []Filter
	includeDeleted bool
	sortBy         string
	sortOrder      string
	maxResults     *int
	maxLimit       int
	nextToken      string
}

type listResult struct {
	secrets []*Secret
	next    string
}

// listPage loads every secret, keeps those matching q, sorts them and
// returns the page after q.nextToken.
func (s *Store) listPage(ctx context.Context, q listQuery) (*listResult, error) {
	limit, err := q.check()
	if err != nil {
		return nil, err
	}
	fp := fingerprint(q.op, q.filters, q.includeDeleted, q.sortBy, q.sortOrder)
	var after *cursor
	if q.nextToken != "" {
		if after, err = decodeToken(q.nextToken, fp); err != nil {
			return nil, err
		}
	}
	all, err := s.loadAll(ctx)
	if err != nil {
		return nil, err
	}
	matched := make([]*Secret, 0, len(all))
	for _, sec := range all {
		if (q.includeDeleted || !sec.deleted()) && matchFilters(sec, s.region, q.filters) &&
			(after == nil || q.less(*after, q.cursorOf(sec))) {
			matched = append(matched, sec)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return q.less(q.cursorOf(matched[i]), q.cursorOf(matched[j])) })
	res := &listResult{secrets: matched}
	if len(matched) > limit {
		res.secrets = matched[:limit]
		res.next = encodeToken(fp, q.cursorOf(matched[limit-1]))
	}
	return res, nil
}

func (q *listQuery) check() (int, error) {
	limit, err := checkMaxResults(q.maxResults, q.maxLimit)
	if err != nil {
		return 0, err
	}
	if len(q.nextToken) > 4096 {
		return 0, errorf(CodeInvalidNextToken, "The NextToken value is invalid.")
	}
	if q.sortBy == "" {
		q.sortBy = SortByCreatedDate
	}
	if q.sortOrder == "" {
		q.sortOrder = SortOrderAsc
	}
	switch q.sortBy {
	case SortByCreatedDate, SortByLastAccessedDate, SortByLastChangedDate, SortByName:
	default:
		return 0, errParam("SortBy must be one of created-date, last-accessed-date, last-changed-date, name.")
	}
	if q.sortOrder != SortOrderAsc && q.sortOrder != SortOrderDesc {
		return 0, errParam("SortOrder must be asc or desc.")
	}
	return limit, checkFilters(q.filters)
}

func checkMaxResults(p *int, max int) (int, error) {
	if p == nil {
		return max, nil
	}
	if *p < 1 || *p > max {
		return 0, errParam("MaxResults must be between 1 and %d.", max)
	}
	return *p, nil
}

// loadAll returns every stored secret (from the cache where possible).
func (s *Store) loadAll(ctx context.Context) ([]*Secret, error) {
	keys, err := s.st.List(ctx, keyPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]*Secret, 0, len(keys))
	for _, k := range keys {
		if strings.HasSuffix(k, "/") {
			continue
		}
		c, err := s.get(ctx, nameFromKey(k))
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, c.s)
		}
	}
	return out, nil
}

// cursor is a position in a sorted listing: the sort key (T, unused when
// sorting by name) and the name (or version ID) that breaks ties.
type cursor struct {
	F string `json:"f"`
	T int64  `json:"t,omitempty"`
	N string `json:"n"`
}

func (q *listQuery) cursorOf(sec *Secret) cursor {
	c := cursor{N: sec.Name}
	switch q.sortBy {
	case SortByCreatedDate:
		c.T = sec.CreatedDate.UnixNano()
	case SortByLastChangedDate:
		c.T = sec.LastChangedDate.UnixNano()
	case SortByLastAccessedDate:
		if sec.LastAccessedDate != nil {
			c.T = sec.LastAccessedDate.UnixNano()
		}
	}
	return c
}

// less orders cursors by (T, N), reversed for descending order.
func (q *listQuery) less(a, b cursor) bool {
	if q.sortOrder == SortOrderDesc {
		a, b = b, a
	}
	if a.T != b.T {
		return a.T < b.T
	}
	return a.N < b.N
}

// fingerprint binds a token to the parameters of the listing it pages.
func fingerprint(parts ...any) string {
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func encodeToken(fp string, c cursor) string {
	c.F = fp
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(tok, fp string) (*cursor, error) {
	bad := errorf(CodeInvalidNextToken, "The NextToken value is invalid.")
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.F != fp {
		return nil, bad
	}
	return &c, nil
}

// Filter keys.
const (
	FilterDescription   = "description"
	FilterName          = "name"
	FilterTagKey        = "tag-key"
	FilterTagValue      = "tag-value"
	FilterPrimaryRegion = "primary-region"
	FilterOwningService = "owning-service"
	FilterAll           = "all"
)

func checkFilters(fs []Filter) error {
	if len(fs) > MaxFilters {
		return errParam("You can specify at most %d filters.", MaxFilters)
	}
	for _, f := range fs {
		switch f.Key {
		case FilterDescription, FilterName, FilterTagKey, FilterTagValue,
			FilterPrimaryRegion, FilterOwningService, FilterAll:
		default:
			return errParam("Invalid filter key %q.", f.Key)
		}
		if len(f.Values) < 1 || len(f.Values) > MaxFilterValues {
			return errParam("A filter must have 1-%d values.", MaxFilterValues)
		}
		for _, v := range f.Values {
			if err := checkFilterValue(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkFilterValue enforces ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$, ≤ 512.
func checkFilterValue(v string) error {
	if len(v) > MaxFilterValueLen {
		return errParam("Filter values must be at most %d characters long.", MaxFilterValueLen)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(nameChar(c) || c == ' ' || c == ':' || c == '!') {
			return errParam("Invalid character %q in filter value.", c)
		}
	}
	return nil
}
