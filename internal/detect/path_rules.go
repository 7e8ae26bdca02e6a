package detect

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

type opMap = map[logical.Operation]logical.OperationFunc

// Paths returns the detection API, patterns relative to sys/: the rules
// (detect/rules, detect/rules/<name>), the findings (detect/findings,
// detect/findings/<id>) and the counters (detect/status). Handlers use the
// detector's own storage, not req.Storage.
func (d *Detector) Paths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "detect/rules/?", Operations: opMap{
			logical.ListOperation: d.handleRuleList,
			logical.ReadOperation: d.handleRulesRead,
		}, HelpSynopsis: "List the detection rules with their settings.",
			HelpDescription: "LIST gives the rule names with a summary in key_info; GET gives every rule's full setting."},
		{Pattern: "detect/rules/" + logical.GenericNameRegex("name"), Fields: ruleFields(), Operations: opMap{
			logical.ReadOperation:   d.handleRuleRead,
			logical.UpdateOperation: d.handleRuleUpdate,
			logical.DeleteOperation: d.handleRuleReset,
		}, ExistenceCheck: d.ruleExists,
			HelpSynopsis: "Read, change, or reset (DELETE) one detection rule.",
			HelpDescription: "Only the fields sent are changed. threshold, window, multiplier, learning_period, " +
				"min_events and allowed_paths apply to some rules only; sending one a rule does not use is an error."},
		d.findingsPath(),
		d.findingPath(),
		{Pattern: "detect/status", Operations: opMap{logical.ReadOperation: d.handleStatus},
			HelpSynopsis: "Read the detector's counters: events observed, dropped, processed; findings by rule."},
	}
}

func ruleFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"name":     {Type: logical.TypeNameString, Description: "name of the rule"},
		"enabled":  {Type: logical.TypeBool, Description: "whether the rule raises findings"},
		"severity": {Type: logical.TypeString, Description: "severity of the rule's findings", AllowedValues: []string{"low", "medium", "high", "critical"}},
		"response": {Type: logical.TypeString, Description: "automatic response when the rule fires: none, revoke_token (the subject's token) or disable_entity (the subject's entity)",
			AllowedValues: []string{string(ActionNone), string(ActionRevokeToken), string(ActionDisableEntity)}},
		"cooldown":          {Type: logical.TypeDurationSecond, Description: "after a finding, the same rule stays silent about the same subject this long (0: never)"},
		paramThreshold:      {Type: logical.TypeInt, Description: "number of events within window that fires the rule (volume_spike: the least number of reads)"},
		paramWindow:         {Type: logical.TypeDurationSecond, Description: "length of the counting window"},
		paramMultiplier:     {Type: logical.TypeInt, Description: "volume_spike: how many times its baseline an identity's reads must exceed"},
		paramLearningPeriod: {Type: logical.TypeDurationSecond, Description: "how long an identity is known before its profile can be learned"},
		paramMinEvents:      {Type: logical.TypeInt, Description: "how many events without novelty (volume_spike: reads) an identity needs before its profile is learned"},
		paramAllowedPaths:   {Type: logical.TypeCommaStringSlice, Description: "root_token_use: API paths exempt from the rule; a trailing * matches a prefix"},
	}
}

func (d *Detector) ruleExists(_ context.Context, _ *logical.Request, fd *logical.FieldData) (bool, error) {
	_, ok := d.Rule(fd.Get("name").(string))
	return ok, nil
}

func (d *Detector) handleRuleList(context.Context, *logical.Request, *logical.FieldData) (*logical.Response, error) {
	var keys []string
	info := map[string]any{}
	for _, c := range d.Rules() {
		keys = append(keys, c.Name)
		info[c.Name] = map[string]any{"enabled": c.Enabled, "severity": string(c.Severity),
			"response": string(c.Response), "description": specFor(c.Name).description}
	}
	return &logical.Response{Data: map[string]any{"keys": keys, "key_info": info}}, nil
}

func (d *Detector) handleRulesRead(context.Context, *logical.Request, *logical.FieldData) (*logical.Response, error) {
	rules := map[string]any{}
	for _, c := range d.Rules() {
		rules[c.Name] = ruleData(c)
	}
	return logical.DataResponse(map[string]any{"rules": rules}), nil
}

func (d *Detector) handleRuleRead(_ context.Context, _ *logical.Request, fd *logical.FieldData) (*logical.Response, error) {
	name := fd.Get("name").(string)
	c, ok := d.Rule(name)
	if !ok {
		return nil, logical.Errorf(logical.ErrNotFound, "unknown rule %q", name)
	}
	return logical.DataResponse(ruleData(c)), nil
}

func (d *Detector) handleRuleUpdate(ctx context.Context, _ *logical.Request, fd *logical.FieldData) (*logical.Response, error) {
	name := fd.Get("name").(string)
	c, err := d.UpdateRule(ctx, name, func(c *RuleConfig) error { return applyRuleFields(c, fd) })
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(ruleData(c)), nil
}

func (d *Detector) handleRuleReset(ctx context.Context, _ *logical.Request, fd *logical.FieldData) (*logical.Response, error) {
	return nil, d.ResetRule(ctx, fd.Get("name").(string))
}

func (d *Detector) handleStatus(context.Context, *logical.Request, *logical.FieldData) (*logical.Response, error) {
	s := d.Stats()
	return logical.DataResponse(map[string]any{
		"events_observed": s.Observed, "events_dropped": s.Dropped, "events_processed": s.Processed,
		"queue_length": s.QueueLength, "tracked_identities": s.TrackedIdentities,
		"findings": s.Findings, "suppressed": s.Suppressed,
	}), nil
}

// applyRuleFields copies the sent fields into c, refusing the parameters
// the rule does not use. Limits are checked by RuleConfig.Validate.
func applyRuleFields(c *RuleConfig, fd *logical.FieldData) error {
	s := specFor(c.Name)
	for _, n := range []string{paramThreshold, paramWindow, paramMultiplier, paramLearningPeriod, paramMinEvents, paramAllowedPaths} {
		if _, sent, _ := fd.GetOk(n); sent && !s.has(n) {
			return logical.InvalidRequest("rule %s has no setting %q; its settings are: %s", c.Name, n, strings.Join(s.settings(), ", "))
		}
	}
	set := func(n string, apply func(v any)) {
		if v, sent, _ := fd.GetOk(n); sent {
			apply(v)
		}
	}
	set("enabled", func(v any) { c.Enabled = v.(bool) })
	set("severity", func(v any) { c.Severity = Severity(v.(string)) })
	set("response", func(v any) { c.Response = Action(v.(string)) })
	set("cooldown", func(v any) { c.Cooldown = v.(time.Duration) })
	set(paramThreshold, func(v any) { c.Threshold = v.(int) })
	set(paramWindow, func(v any) { c.Window = v.(time.Duration) })
	set(paramMultiplier, func(v any) { c.Multiplier = v.(int) })
	set(paramLearningPeriod, func(v any) { c.LearningPeriod = v.(time.Duration) })
	set(paramMinEvents, func(v any) { c.MinEvents = v.(int) })
	set(paramAllowedPaths, func(v any) { c.AllowedPaths = normalizeAllowed(v.([]string)) })
	return nil
}

// normalizeAllowed trims the slashes around each allow-list entry (keeping
// a trailing "*") and drops empty ones.
func normalizeAllowed(in []string) []string {
	out := []string{}
	for _, p := range in {
		star := strings.HasSuffix(p, "*")
		p = strings.TrimLeft(strings.TrimSpace(p), "/")
		if !star {
			p = strings.TrimRight(p, "/")
		}
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *ruleSpec) settings() []string {
	return append([]string{"enabled", "severity", "response", "cooldown"}, s.params...)
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// ruleData is the API representation of a setting; durations in seconds.
func ruleData(c RuleConfig) map[string]any {
	s := specFor(c.Name)
	allowed := make([]string, len(s.actions))
	for i, a := range s.actions {
		allowed[i] = string(a)
	}
	m := map[string]any{
		"name": c.Name, "description": s.description, "enabled": c.Enabled,
		"severity": string(c.Severity), "response": string(c.Response), "cooldown": seconds(c.Cooldown),
		"allowed_responses": allowed, "settings": s.settings(),
	}
	for _, p := range s.params {
		m[p] = paramValue(&c, p)
	}
	return m
}

func paramValue(c *RuleConfig, p string) any {
	switch p {
	case paramThreshold:
		return c.Threshold
	case paramWindow:
		return seconds(c.Window)
	case paramMultiplier:
		return c.Multiplier
	case paramLearningPeriod:
		return seconds(c.LearningPeriod)
	case paramMinEvents:
		return c.MinEvents
	case paramAllowedPaths:
		return append([]string{}, c.AllowedPaths...)
	}
	panic(fmt.Sprintf("detect: unknown parameter %q", p))
}
