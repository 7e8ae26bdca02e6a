package expiration

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Lease is one persisted lease.
type Lease struct {
	ID string `json:"id"`
	// Path is the full request path that created it ("database/creds/app").
	Path string `json:"path"`
	// TokenHash is the token store's hash of the creating token ("" for
	// leases not tied to a token); never the token itself.
	TokenHash    string         `json:"token_hash,omitempty"`
	InternalData map[string]any `json:"internal_data,omitempty"`
	IssueTime    time.Time      `json:"issue_time"`
	ExpireTime   time.Time      `json:"expire_time"`
	LastRenewal  time.Time      `json:"last_renewal,omitempty"`
	// MaxExpire bounds renewals (issue time plus the effective max TTL).
	MaxExpire time.Time `json:"max_expire,omitempty"`
	Renewable bool      `json:"renewable"`
	// Revocation state: attempts so far, when to try next, last error.
	RevokeAttempts int       `json:"revoke_attempts,omitempty"`
	NextAttempt    time.Time `json:"next_attempt,omitempty"`
	LastError      string    `json:"last_error,omitempty"`
}

// due is when the scheduler should act on the lease.
func (l *Lease) due() time.Time {
	if l.RevokeAttempts > 0 && l.NextAttempt.After(l.ExpireTime) {
		return l.NextAttempt
	}
	return l.ExpireTime
}

// TTL is the time left at now (never negative).
func (l *Lease) TTL(now time.Time) time.Duration {
	if d := l.ExpireTime.Sub(now); d > 0 {
		return d
	}
	return 0
}

// Secret is the lease as a backend sees it on renew and revoke.
func (l *Lease) secret(ttl time.Duration) *logical.Secret {
	return &logical.Secret{
		LeaseID:      l.ID,
		InternalData: l.InternalData,
		LeaseOptions: logical.LeaseOptions{TTL: ttl, Renewable: l.Renewable, IssueTime: l.IssueTime,
			MaxTTL: maxTTL(l)},
	}
}

func maxTTL(l *Lease) time.Duration {
	if l.MaxExpire.IsZero() {
		return 0
	}
	return l.MaxExpire.Sub(l.IssueTime)
}

// Errors a caller can act on.
var (
	// ErrNotFound: no such lease (never issued, revoked or expired).
	ErrNotFound = errors.New("invalid lease ID")
	// ErrNotRenewable: the engine issued the lease as not renewable.
	ErrNotRenewable = errors.New("lease is not renewable")
)

const (
	leasePrefix = "id/"
	tokenPrefix = "token/"
)

func leaseKey(id string) string { return leasePrefix + id }

func tokenIndexKey(tokenHash, id string) string {
	return tokenPrefix + tokenHash + "/" + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// ValidateID checks a lease ID or prefix from a caller: a relative path
// without empty, "." or ".." segments.
func ValidateID(id string, prefix bool) error {
	if id == "" {
		return logical.InvalidRequest("missing lease ID")
	}
	if len(id) > 1024 {
		return logical.InvalidRequest("lease ID is too long")
	}
	trimmed := id
	if prefix {
		trimmed = strings.TrimSuffix(id, "/")
	}
	for _, seg := range strings.Split(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return logical.InvalidRequest("invalid lease ID %q", id)
		}
	}
	return nil
}

func (m *Manager) load(ctx context.Context, id string) (*Lease, error) {
	var l Lease
	ok, err := logical.GetJSON(ctx, m.view, leaseKey(id), &l)
	if err != nil {
		return nil, fmt.Errorf("read lease: %w", err)
	}
	if !ok {
		return nil, nil
	}
	return &l, nil
}

func (m *Manager) save(ctx context.Context, l *Lease) error {
	return logical.PutJSON(ctx, m.view, leaseKey(l.ID), l)
}
