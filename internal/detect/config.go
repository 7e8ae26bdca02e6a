package detect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Rule names.
const (
	RuleDeniedBurst       = "denied_burst"
	RuleNewSecretAccess   = "new_secret_access"
	RuleVolumeSpike       = "volume_spike"
	RuleNewCIDR           = "new_cidr"
	RuleRootTokenUse      = "root_token_use"
	RuleLoginFailureSpike = "login_failure_spike"
	RuleRevokedParentUse  = "revoked_parent_token_use"
)

// Action is an automatic response a rule takes when it fires.
type Action string

// Actions. ActionRevokeToken revokes the token of the finding's subject
// accessor; ActionDisableEntity disables its identity entity.
const (
	ActionNone          Action = "none"
	ActionRevokeToken   Action = "revoke_token"
	ActionDisableEntity Action = "disable_entity"
)

// Rule settings: the names of the optional parameters a rule may use.
const (
	paramThreshold      = "threshold"
	paramWindow         = "window"
	paramMultiplier     = "multiplier"
	paramLearningPeriod = "learning_period"
	paramMinEvents      = "min_events"
	paramAllowedPaths   = "allowed_paths"
)

// RuleConfig is the persisted setting of one rule. Which of the optional
// parameters apply depends on the rule (see Rules); the others stay zero.
type RuleConfig struct {
	Name     string        `json:"name"`
	Enabled  bool          `json:"enabled"`
	Severity Severity      `json:"severity"`
	Response Action        `json:"response"`
	Cooldown time.Duration `json:"cooldown"`
	// Threshold is a count of events within Window (for volume_spike: the
	// absolute floor of reads within Window).
	Threshold int           `json:"threshold"`
	Window    time.Duration `json:"window"`
	// Multiplier is how many times its baseline an identity's read volume
	// must reach (volume_spike).
	Multiplier int `json:"multiplier"`
	// LearningPeriod and MinEvents say when an identity's profile is
	// learned. For new_secret_access and new_cidr: the identity has been
	// known for LearningPeriod and its last MinEvents secret reads
	// (requests, for new_cidr) brought no new path (network). For
	// volume_spike: it has been known for LearningPeriod, made more than
	// MinEvents secret reads and has a baseline.
	LearningPeriod time.Duration `json:"learning_period"`
	MinEvents      int           `json:"min_events"`
	// AllowedPaths are exempt from root_token_use: exact paths, or
	// prefixes ending in "*".
	AllowedPaths []string `json:"allowed_paths"`
}

// limits bounds a rule's integer and duration parameters.
type limits struct {
	minThreshold, maxThreshold int
	minWindow, maxWindow       time.Duration
}

// ruleSpec is the static description of a rule.
type ruleSpec struct {
	name        string
	description string
	params      []string
	limits      limits
	// actions lists the responses that make sense: the subject a rule
	// reports must carry what the response acts on.
	actions  []Action
	defaults RuleConfig
	eval     evalFunc
}

const (
	day            = 24 * time.Hour
	maxCooldown    = 30 * day
	maxLearning    = 90 * day
	maxMinEvents   = 1_000_000
	maxAllowed     = 100
	maxAllowedLen  = 512
	maxMultiplier  = 1000
	defaultLearned = 50
)

var allActions = []Action{ActionNone, ActionRevokeToken, ActionDisableEntity}

func (s *ruleSpec) has(param string) bool {
	for _, p := range s.params {
		if p == param {
			return true
		}
	}
	return false
}

func (s *ruleSpec) allows(a Action) bool {
	for _, x := range s.actions {
		if x == a {
			return true
		}
	}
	return false
}

func specFor(name string) *ruleSpec {
	for _, s := range specs {
		if s.name == name {
			return s
		}
	}
	return nil
}

// RuleNames returns the rule names in evaluation order.
func RuleNames() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.name
	}
	return out
}

// DefaultRuleConfig returns the built-in setting of a rule.
func DefaultRuleConfig(name string) (RuleConfig, bool) {
	s := specFor(name)
	if s == nil {
		return RuleConfig{}, false
	}
	return s.defaults.clone(), true
}

func (c RuleConfig) clone() RuleConfig {
	c.AllowedPaths = append([]string(nil), c.AllowedPaths...)
	return c
}

func severityRank(s Severity) int {
	switch s {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// Validate checks a rule setting against its rule's limits.
func (c *RuleConfig) Validate() error {
	s := specFor(c.Name)
	if s == nil {
		return logical.Errorf(logical.ErrNotFound, "unknown rule %q", c.Name)
	}
	if severityRank(c.Severity) == 0 {
		return logical.InvalidRequest("severity must be one of low, medium, high, critical")
	}
	if !s.allows(c.Response) {
		return logical.InvalidRequest("rule %s cannot take response %q: allowed are %s", c.Name, c.Response, joinActions(s.actions))
	}
	if c.Cooldown < 0 || c.Cooldown > maxCooldown {
		return logical.InvalidRequest("cooldown must be between 0 and %s", maxCooldown)
	}
	return s.validateParams(c)
}

func (s *ruleSpec) validateParams(c *RuleConfig) error {
	l := s.limits
	if s.has(paramThreshold) && (c.Threshold < l.minThreshold || c.Threshold > l.maxThreshold) {
		return logical.InvalidRequest("threshold must be between %d and %d", l.minThreshold, l.maxThreshold)
	}
	if s.has(paramWindow) && (c.Window < l.minWindow || c.Window > l.maxWindow) {
		return logical.InvalidRequest("window must be between %s and %s", l.minWindow, l.maxWindow)
	}
	if s.has(paramMultiplier) && (c.Multiplier < 2 || c.Multiplier > maxMultiplier) {
		return logical.InvalidRequest("multiplier must be between 2 and %d", maxMultiplier)
	}
	if s.has(paramLearningPeriod) && (c.LearningPeriod < 0 || c.LearningPeriod > maxLearning) {
		return logical.InvalidRequest("learning_period must be between 0 and %s", maxLearning)
	}
	if s.has(paramMinEvents) && (c.MinEvents < 0 || c.MinEvents > maxMinEvents) {
		return logical.InvalidRequest("min_events must be between 0 and %d", maxMinEvents)
	}
	if s.has(paramAllowedPaths) {
		return validateAllowedPaths(c.AllowedPaths)
	}
	return nil
}

func validateAllowedPaths(paths []string) error {
	if len(paths) > maxAllowed {
		return logical.InvalidRequest("allowed_paths takes at most %d entries", maxAllowed)
	}
	for _, p := range paths {
		if p == "" || len(p) > maxAllowedLen {
			return logical.InvalidRequest("allowed_paths entries must be 1 to %d characters", maxAllowedLen)
		}
		if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
			return logical.InvalidRequest("allowed_paths entry %q: '*' may only end a prefix", p)
		}
		for _, r := range p {
			if r < 0x20 || r == 0x7f {
				return logical.InvalidRequest("allowed_paths entries must not contain control characters")
			}
		}
	}
	return nil
}

// normalizePath trims the slashes around an API path.
func normalizePath(p string) string { return strings.Trim(p, "/") }

// pathAllowed reports whether path matches an allow-list entry.
func pathAllowed(list []string, path string) bool {
	path = normalizePath(path)
	for _, p := range list {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(path, strings.TrimLeft(prefix, "/")) {
				return true
			}
		} else if normalizePath(p) == path {
			return true
		}
	}
	return false
}

func joinActions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// ruleKey is where a rule's setting is stored.
func ruleKey(name string) string { return "rules/" + name }

// loadRules reads every stored rule setting over the defaults. A stored
// setting that no longer validates is logged and replaced by the default.
func (d *Detector) loadRules(ctx context.Context) (map[string]RuleConfig, error) {
	out := make(map[string]RuleConfig, len(specs))
	for _, s := range specs {
		c := s.defaults.clone()
		ok, err := logical.GetJSON(ctx, d.storage, ruleKey(s.name), &c)
		if err != nil {
			return nil, fmt.Errorf("detect: load rule %s: %w", s.name, err)
		}
		c.Name = s.name
		if ok {
			if err := c.Validate(); err != nil {
				d.logger.Warn("detect: stored rule setting is invalid, using the default", "rule", s.name, "error", err)
				c = s.defaults.clone()
			}
		}
		out[s.name] = c
	}
	return out, nil
}

// Rules returns every rule's setting, in evaluation order.
func (d *Detector) Rules() []RuleConfig {
	rs := *d.rules.Load()
	out := make([]RuleConfig, len(rs))
	for i, c := range rs {
		out[i] = c.clone()
	}
	return out
}

// Rule returns one rule's setting.
func (d *Detector) Rule(name string) (RuleConfig, bool) {
	for _, c := range *d.rules.Load() {
		if c.Name == name {
			return c.clone(), true
		}
	}
	return RuleConfig{}, false
}

// SetRule validates, stores and applies a rule setting. Events processed
// after it returns see the new setting.
func (d *Detector) SetRule(ctx context.Context, c RuleConfig) error {
	_, err := d.UpdateRule(ctx, c.Name, func(cur *RuleConfig) error {
		*cur = c.clone()
		return nil
	})
	return err
}

// UpdateRule applies change to the current setting of a rule, then
// validates, stores and applies the result, all under one lock so
// concurrent updates of different fields are not lost.
func (d *Detector) UpdateRule(ctx context.Context, name string, change func(*RuleConfig) error) (RuleConfig, error) {
	d.rulesMu.Lock()
	defer d.rulesMu.Unlock()
	c, ok := d.Rule(name)
	if !ok {
		return RuleConfig{}, logical.Errorf(logical.ErrNotFound, "unknown rule %q", name)
	}
	if err := change(&c); err != nil {
		return RuleConfig{}, err
	}
	c.Name = name
	if err := c.Validate(); err != nil {
		return RuleConfig{}, err
	}
	if err := logical.PutJSON(ctx, d.storage, ruleKey(c.Name), &c); err != nil {
		return RuleConfig{}, fmt.Errorf("detect: store rule %s: %w", c.Name, err)
	}
	d.publish(c)
	return c.clone(), nil
}

// ResetRule restores a rule's built-in setting.
func (d *Detector) ResetRule(ctx context.Context, name string) error {
	def, ok := DefaultRuleConfig(name)
	if !ok {
		return logical.Errorf(logical.ErrNotFound, "unknown rule %q", name)
	}
	d.rulesMu.Lock()
	defer d.rulesMu.Unlock()
	if err := d.storage.Delete(ctx, ruleKey(name)); err != nil {
		return fmt.Errorf("detect: reset rule %s: %w", name, err)
	}
	d.publish(def)
	return nil
}

// publish swaps in a rule set with c replacing its rule; rulesMu is held.
func (d *Detector) publish(c RuleConfig) {
	next := slices.Clone(*d.rules.Load())
	for i := range next {
		if next[i].Name == c.Name {
			next[i] = c
		}
	}
	d.rules.Store(&next)
}
