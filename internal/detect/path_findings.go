package detect

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

const (
	defaultListLimit = 100
	maxListLimit     = DefaultMaxFindings
	maxSinceLen      = 64
	maxUnix          = 253402300799 // 9999-12-31T23:59:59Z, the last RFC 3339 second
)

var severityValues = []string{"low", "medium", "high", "critical"}

func (d *Detector) findingsPath() *logical.Path {
	return &logical.Path{
		Pattern: "detect/findings/?",
		Fields: map[string]*logical.FieldSchema{
			"rule":         {Type: logical.TypeString, Description: "only findings of this rule"},
			"severity":     {Type: logical.TypeString, Description: "only findings of exactly this severity", AllowedValues: severityValues},
			"min_severity": {Type: logical.TypeString, Description: "only findings of this severity or higher", AllowedValues: severityValues},
			"since": {Type: logical.TypeString, Description: "only findings at or after this time: RFC 3339 (2026-01-02T15:04:05Z), " +
				"Unix seconds, or a duration back from now (90m, 12h, 7d)"},
			"limit": {Type: logical.TypeInt, Default: defaultListLimit, Description: "at most this many findings (1 to 10000)"},
		},
		Operations: opMap{
			logical.ListOperation: d.handleFindingList,
			logical.ReadOperation: d.handleFindingsRead,
		},
		HelpSynopsis: "List detection findings, newest first.",
		HelpDescription: "LIST gives finding IDs with a summary in key_info; GET gives the findings in full. " +
			"Filters: rule, severity, min_severity, since, limit.",
	}
}

func (d *Detector) findingPath() *logical.Path {
	return &logical.Path{
		Pattern: "detect/findings/(?P<id>[^/]+)",
		Fields: map[string]*logical.FieldSchema{
			"id": {Type: logical.TypeString, Description: "ID of the finding"},
		},
		Operations: opMap{
			logical.ReadOperation:   d.handleFindingRead,
			logical.DeleteOperation: d.handleFindingDelete,
		},
		HelpSynopsis: "Read a finding, or dismiss it (DELETE) once handled.",
	}
}

// findingQuery decodes and checks the list filters.
func (d *Detector) findingQuery(fd *logical.FieldData) (FindingQuery, error) {
	q := FindingQuery{
		Rule:        strings.TrimSpace(fd.Get("rule").(string)),
		Severity:    Severity(fd.Get("severity").(string)),
		MinSeverity: Severity(fd.Get("min_severity").(string)),
		Limit:       fd.Get("limit").(int),
	}
	if q.Rule != "" && specFor(q.Rule) == nil {
		return q, logical.InvalidRequest("unknown rule %q", q.Rule)
	}
	if q.Limit < 1 || q.Limit > maxListLimit {
		return q, logical.InvalidRequest("limit must be between 1 and %d", maxListLimit)
	}
	since, err := ParseSince(fd.Get("since").(string), d.now())
	if err != nil {
		return q, logical.InvalidRequest("invalid since: %v", err)
	}
	q.Since = since
	return q, nil
}

func (d *Detector) handleFindingList(_ context.Context, _ *logical.Request, fd *logical.FieldData) (*logical.Response, error) {
	q, err := d.findingQuery(fd)
	if err != nil {
		return nil, err
	}
	keys := []string{}
	info := map[string]any{}
	for _, f := range d.Findings(q) {
		keys = append(keys, f.ID)
		info[f.ID] = map[string]any{"rule": f.Rule, "severity": string(f.Severity),
			"time": f.Time.Format(time.RFC3339Nano), "summary": f.Summary}
	}
	return &logical.Response{Data: map[string]any{"keys": keys, "key_info": info}}, nil
}

func (d *Detector) handleFindingsRead(_ context.Context, _ *logical.Request, fd *logical.FieldData) (*logical.Response, error) {
	q, err := d.findingQuery(fd)
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, f := range d.Findings(q) {
		list = append(list, findingData(f))
	}
	return logical.DataResponse(map[string]any{"findings": list}), nil
}

func (d *Detector) handleFindingRead(_ context.Context, _ *logical.Request, fd *logical.FieldData) (*logical.Response, error) {
	id := fd.Get("id").(string)
	f, ok := d.Finding(id)
	if !ok {
		return nil, logical.Errorf(logical.ErrNotFound, "no finding with this id")
	}
	return logical.DataResponse(findingData(f)), nil
}

func (d *Detector) handleFindingDelete(ctx context.Context, _ *logical.Request, fd *logical.FieldData) (*logical.Response, error) {
	ok, err := d.DeleteFinding(ctx, fd.Get("id").(string))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, logical.Errorf(logical.ErrNotFound, "no finding with this id")
	}
	return nil, nil
}

// findingData is the API representation of a finding.
func findingData(f Finding) map[string]any {
	sub := map[string]any{}
	for k, v := range map[string]string{"accessor": f.Subject.Accessor, "entity_id": f.Subject.EntityID,
		"remote_address": f.Subject.RemoteAddr, "path": f.Subject.Path} {
		if v != "" {
			sub[k] = v
		}
	}
	actions := append([]string{}, f.Actions...)
	return map[string]any{
		"id": f.ID, "rule": f.Rule, "severity": string(f.Severity), "time": f.Time.Format(time.RFC3339Nano),
		"summary": f.Summary, "subject": sub, "evidence": append([]string{}, f.Evidence...), "actions": actions,
	}
}

// ParseSince reads a "since" filter relative to now: empty (no filter),
// an RFC 3339 time, Unix seconds, or a duration back from now with a unit
// ("90m", "12h", "7d").
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case len(s) > maxSinceLen:
		return time.Time{}, errSince("too long")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > maxUnix {
			return time.Time{}, errSince("Unix time out of range")
		}
		return time.Unix(n, 0).UTC(), nil
	}
	dur, err := logical.ParseDuration(s)
	if err != nil {
		return time.Time{}, errSince("use an RFC 3339 time, Unix seconds, or a duration such as 12h or 7d")
	}
	if dur > 100*365*day {
		return time.Time{}, errSince("duration out of range")
	}
	return now.Add(-dur), nil
}

type errSince string

func (e errSince) Error() string { return string(e) }
