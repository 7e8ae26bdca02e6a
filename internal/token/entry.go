package token

import (
	"slices"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Entry is one token as the store keeps it.
type Entry struct {
	// ID is the raw token. It is set only on the entry passed to (or
	// returned by) Create and CreateRoot, and is never persisted or cached.
	ID string `json:"-"`
	// Hash is the keyed hash of ID (hex); it names the entry in storage.
	Hash     string `json:"hash"`
	Accessor string `json:"accessor"`
	// Parent is the Hash of the parent token; empty for an orphan.
	Parent       string            `json:"parent,omitempty"`
	Policies     []string          `json:"policies"`
	Meta         map[string]string `json:"meta,omitempty"`
	DisplayName  string            `json:"display_name"`
	NumUses      int               `json:"num_uses"`
	CreationTime time.Time         `json:"creation_time"`
	// TTL is the TTL the token was created with (creation_ttl).
	TTL            time.Duration `json:"ttl"`
	ExplicitMaxTTL time.Duration `json:"explicit_max_ttl"`
	Period         time.Duration `json:"period"`
	Renewable      bool          `json:"renewable"`
	Orphan         bool          `json:"orphan"`
	Role           string        `json:"role,omitempty"`
	// Path is where the token was made, e.g. "auth/token/create" or
	// "auth/userpass/login/bob".
	Path     string `json:"path"`
	EntityID string `json:"entity_id,omitempty"`
	// ExpireTime is when the token stops working; zero means never.
	ExpireTime time.Time `json:"expire_time"`
	// LastRenewal is the time of the last successful renewal, if any.
	LastRenewal  time.Time      `json:"last_renewal,omitzero"`
	InternalData map[string]any `json:"internal_data,omitempty"`
	// BoundCIDRs, when set, are the only client networks the token works
	// from (CIDR notation); core enforces them.
	BoundCIDRs []string `json:"bound_cidrs,omitempty"`
}

// revokePending is the NumUses value of an entry whose revocation has
// started; such an entry never authenticates anything.
const revokePending = -1

// TokenType is the only token type kinko issues.
const TokenType = "service"

// Errors returned by the store. They are user-facing (logical.Error) so the
// HTTP layer can show them; errors.Is matches both the value and its kind.
var (
	ErrParentNotFound  = logical.Errorf(logical.ErrInvalidRequest, "parent token lookup failed: no parent found")
	ErrParentRevoked   = logical.Errorf(logical.ErrInvalidRequest, "parent token was revoked while the child was being created")
	ErrDuplicateID     = logical.Errorf(logical.ErrInvalidRequest, "cannot create a token with a duplicate ID")
	ErrInvalidAccessor = logical.Errorf(logical.ErrInvalidRequest, "invalid accessor")
	ErrNotRenewable    = logical.Errorf(logical.ErrInvalidRequest, "lease is not renewable")
	ErrPastMaxTTL      = logical.Errorf(logical.ErrInvalidRequest, "past the max TTL, cannot renew")
	ErrBadToken        = logical.Errorf(logical.ErrPermissionDenied, "bad token")
	ErrTokenNotFound   = logical.Errorf(logical.ErrInvalidRequest, "token not found")
	ErrNegativeUses    = logical.Errorf(logical.ErrInvalidRequest, "number of uses cannot be negative")
)

// maxTokenLen bounds what Lookup hashes; longer input cannot be a token.
const maxTokenLen = 1024

// maxCustomIDLen bounds caller-chosen token IDs.
const maxCustomIDLen = 256

// clone returns a shallow copy; callers replace (never modify) slices and
// maps of a cached entry.
func (e *Entry) clone() *Entry {
	c := *e
	return &c
}

// expired reports whether e has an expiry at or before now.
func (e *Entry) expired(now time.Time) bool {
	return !e.ExpireTime.IsZero() && !now.Before(e.ExpireTime)
}

// valid reports whether e may authenticate at now.
func (e *Entry) valid(now time.Time) bool {
	return e != nil && e.NumUses >= 0 && !e.expired(now)
}

// remaining is the time left before expiry, in whole seconds (0 for
// non-expiring or expired tokens).
func (e *Entry) remaining(now time.Time) int64 {
	if e.ExpireTime.IsZero() || !now.Before(e.ExpireTime) {
		return 0
	}
	return int64(e.ExpireTime.Sub(now).Round(time.Second) / time.Second)
}

// IsRoot reports whether the policies grant root.
func IsRoot(policies []string) bool {
	return slices.Contains(policies, "root")
}

// SanitizePolicies trims, lowercases, deduplicates and sorts policy names,
// dropping empty ones. A list containing "root" becomes just ["root"].
// When addDefault is set, "default" is added (unless the result is root).
func SanitizePolicies(in []string, addDefault bool) []string {
	out := make([]string, 0, len(in)+1)
	for _, p := range in {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if p == "root" {
			return []string{"root"}
		}
		out = append(out, p)
	}
	if addDefault {
		out = append(out, "default")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// subset reports whether every element of sub is in set.
func subset(set, sub []string) bool {
	for _, s := range sub {
		if !slices.Contains(set, s) {
			return false
		}
	}
	return true
}

// globMatch reports whether s matches pattern, where '*' matches any run
// of characters (including none) and every other character is literal.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// matchesAny reports whether s equals one of names or matches one of globs.
func matchesAny(s string, names, globs []string) bool {
	if slices.Contains(names, s) {
		return true
	}
	for _, g := range globs {
		if globMatch(g, s) {
			return true
		}
	}
	return false
}
