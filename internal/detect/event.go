// Package detect is kinko's detective control: it reads the stream of
// audited requests in-process, applies configurable rules (bursts of
// denials, first access to a secret by an identity, volume far above an
// identity's baseline, a new source network, root-token use, login-failure
// spikes, use of a token revoked with its parent) and records findings with
// their evidence, which alert sinks deliver and optional responses act on.
//
// Contracts: Observe never blocks the request path; rules see events in the
// order they were audited; findings and rule settings live in the storage
// view the detector is given, so they survive restart.
//
// # Use
//
// New builds a Detector on a storage view; Start runs its one goroutine,
// Stop ends it. Core calls Observe with one Event per audited request; the
// event goes onto a bounded queue and is dropped (and counted) when the
// queue is full. The goroutine applies the rules in the order of
// RuleNames; a rule that fires yields a Finding, which is stored, acted on
// through the Responder when the rule has a response, and handed to
// Options.Notify. Paths returns the sys/detect API (patterns relative to
// sys/); Stats and the prometheus.Collector methods expose the counters.
//
// # Noise and memory
//
// The same rule fires at most once per cooldown for the same subject, so a
// burst is one finding. Rules about an identity's habits (new secret path,
// new network, read volume) stay silent until its profile is learned: the
// identity has been known for a learning period and its recent events
// brought nothing new. Profiles are kept in memory only (a restart starts
// learning again, which can only suppress findings), capped in number with
// least-recently-seen eviction and in size per identity; counting windows
// and cooldowns are capped the same way, and stored findings are capped
// with the oldest deleted first.
package detect

import "time"

// Event is one audited request as the detector sees it, after the response.
// Token material never appears here: Accessor identifies the caller's token.
type Event struct {
	// RequestID is the audit request id (the evidence a finding cites).
	RequestID string
	Time      time.Time
	Operation string
	// Path is the full API path below /v1/ ("secret/data/app").
	Path string
	// MountPoint is the mount the path routed to ("secret/", "auth/userpass/").
	MountPoint string
	MountType  string
	// RemoteAddr is the client IP (no port).
	RemoteAddr  string
	Accessor    string
	EntityID    string
	DisplayName string
	Policies    []string
	// Root is set when the caller's token carries the root policy.
	Root bool
	// Login is set for requests to an auth method's login path.
	Login bool
	// Denied is set when the request was refused for lack of permission
	// (HTTP 403), including invalid or expired tokens.
	Denied bool
	// Failed is set when the request ended in any error.
	Failed bool
	// RevokedParent is set when the request carried a token that was
	// revoked because its parent token was revoked.
	RevokedParent bool
}

// Severity ranks a finding.
type Severity string

// Severities, lowest first.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Finding is one detected anomaly.
type Finding struct {
	ID       string    `json:"id"`
	Rule     string    `json:"rule"`
	Severity Severity  `json:"severity"`
	Time     time.Time `json:"time"`
	Summary  string    `json:"summary"`
	// Subject is who or what the finding is about.
	Subject Subject `json:"subject"`
	// Evidence lists the audit request ids that triggered the finding.
	Evidence []string `json:"evidence"`
	// Actions lists the automatic responses taken ("revoked token accessor …").
	Actions []string `json:"actions,omitempty"`
}

// Subject names the actor of a finding; empty fields are unknown.
type Subject struct {
	Accessor   string `json:"accessor,omitempty"`
	EntityID   string `json:"entity_id,omitempty"`
	RemoteAddr string `json:"remote_address,omitempty"`
	Path       string `json:"path,omitempty"`
}
