package token

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage"
)

// Token shape: "hvs." followed by tokenChars base62 characters
// (about 238 bits of entropy); accessors are accessorChars base62
// characters (about 143 bits).
const (
	tokenPrefix   = "hvs."
	tokenChars    = 40
	accessorChars = 24
	base62        = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// randomBase62 returns n characters drawn uniformly from base62 using
// crypto/rand and rejection sampling.
func randomBase62(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("token: random: %w", err)
		}
		for _, b := range buf {
			if b >= 248 { // 248 = 4*62: keep the draw uniform
				continue
			}
			out = append(out, base62[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// limits are the TTL bounds that apply to one creation or renewal.
type limits struct {
	def, max time.Duration
}

func (s *Store) defaultLimits() limits {
	return limits{def: s.opts.DefaultTTL, max: s.opts.MaxTTL}
}

// validateCustomID checks a caller-chosen token ID.
func validateCustomID(id string) error {
	if id == "" || len(id) > maxCustomIDLen {
		return logical.InvalidRequest("token ID must be 1 to %d characters long", maxCustomIDLen)
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return logical.InvalidRequest("token ID must not contain spaces or control characters")
		}
	}
	return nil
}

// applyTTL fixes TTL, ExplicitMaxTTL, ExpireTime and Renewable of a new
// entry from its request values and the limits, returning warnings for
// every value it capped. Periodic tokens ignore the max TTL (only an
// explicit max bounds them); root tokens without a TTL never expire.
func applyTTL(e *Entry, lim limits) []string {
	var warnings []string
	if e.Period > 0 {
		e.TTL = e.Period
	} else {
		if e.TTL == 0 && !IsRoot(e.Policies) {
			e.TTL = lim.def
		}
		if lim.max > 0 && e.TTL > lim.max {
			warnings = append(warnings, fmt.Sprintf("TTL of %d seconds is greater than the allowed maximum; capped to %d seconds",
				secs(e.TTL), secs(lim.max)))
			e.TTL = lim.max
		}
	}
	if e.ExplicitMaxTTL > 0 {
		if lim.max > 0 && e.ExplicitMaxTTL > lim.max && e.Period == 0 {
			warnings = append(warnings, fmt.Sprintf("Explicit max TTL of %d seconds is greater than the allowed maximum; capped to %d seconds",
				secs(e.ExplicitMaxTTL), secs(lim.max)))
			e.ExplicitMaxTTL = lim.max
		}
		switch {
		case e.TTL == 0:
			e.TTL = e.ExplicitMaxTTL
		case e.TTL > e.ExplicitMaxTTL:
			warnings = append(warnings, fmt.Sprintf("Requested TTL of %d seconds higher than explicit max TTL; value being capped to %d seconds",
				secs(e.TTL), secs(e.ExplicitMaxTTL)))
			e.TTL = e.ExplicitMaxTTL
		}
	}
	e.ExpireTime = time.Time{}
	if e.TTL > 0 {
		e.ExpireTime = e.CreationTime.Add(e.TTL)
	}
	e.Renewable = e.Renewable && e.TTL > 0
	return warnings
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

// Create mints a token for e: it sets e.ID (unless the caller chose one),
// e.Hash, e.Accessor, e.CreationTime, the effective TTL and ExpireTime,
// sanitises e.Policies, and persists the entry with its accessor and
// parent indexes. e.Parent, when set, is the Hash of a live parent token.
func (s *Store) Create(ctx context.Context, e *Entry) error {
	_, err := s.create(ctx, e, s.defaultLimits())
	return err
}

// CreateRoot creates a root token (policies ["root"], no TTL, orphan). id
// is the raw token to use (e.g. a dev-mode root token ID) or empty for a
// random one.
func (s *Store) CreateRoot(ctx context.Context, id string) (*Entry, error) {
	e := &Entry{ID: id, Policies: []string{"root"}, Path: "auth/token/root", DisplayName: "root"}
	if _, err := s.create(ctx, e, s.defaultLimits()); err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Store) create(ctx context.Context, e *Entry, lim limits) ([]string, error) {
	if e.NumUses < 0 {
		return nil, ErrNegativeUses
	}
	custom := e.ID != ""
	if custom {
		if err := validateCustomID(e.ID); err != nil {
			return nil, err
		}
	} else {
		r, err := randomBase62(tokenChars)
		if err != nil {
			return nil, err
		}
		e.ID = tokenPrefix + r
	}
	acc, err := randomBase62(accessorChars)
	if err != nil {
		return nil, err
	}
	k := s.hashToken(e.ID)
	e.Hash, e.Accessor = hex.EncodeToString(k[:]), acc
	e.Policies = SanitizePolicies(e.Policies, false)
	if e.CreationTime.IsZero() {
		e.CreationTime = s.now()
	}
	warnings := applyTTL(e, lim)
	e.Orphan = e.Parent == ""
	if !e.Orphan {
		p, err := s.lookupHash(ctx, e.Parent)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, ErrParentNotFound
		}
	}
	if err := s.persistNew(ctx, k, e, custom); err != nil {
		return nil, err
	}
	if !e.Orphan {
		// A parent revoked while we wrote would not have seen this child.
		if p, err := s.lookupHash(ctx, e.Parent); err != nil || p == nil {
			_, _ = s.revokeTree(ctx, e.Hash, e.Parent)
			if err != nil {
				return nil, err
			}
			return nil, ErrParentRevoked
		}
	}
	return warnings, nil
}

// persistNew writes a new entry after its indexes and caches it.
func (s *Store) persistNew(ctx context.Context, k [32]byte, e *Entry, custom bool) error {
	stored := e.clone()
	stored.ID = ""
	b, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("token: encode entry: %w", err)
	}
	idx, err := json.Marshal(accessorIndex{Accessor: e.Accessor, TokenHash: e.Hash})
	if err != nil {
		return fmt.Errorf("token: encode accessor: %w", err)
	}
	var ops []storage.Op
	if !e.Orphan {
		ops = append(ops, storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: parentPrefix + e.Parent + "/" + e.Hash, Value: []byte{}}})
	}
	ops = append(ops,
		storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: s.accessorKeyFor(e.Accessor), Value: idx}},
		storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: idPrefix + e.Hash, Value: b}},
	)
	sh := s.shard(k)
	sh.fill.Lock()
	defer sh.fill.Unlock()
	if custom {
		cur, err := s.current(ctx, k)
		if err != nil {
			return err
		}
		if cur != nil {
			return ErrDuplicateID
		}
	}
	if err := s.apply(ctx, ops); err != nil {
		return fmt.Errorf("token: persist: %w", err)
	}
	s.cachePut(k, stored)
	return nil
}

// displayName turns a requested display name into Vault's "token-<name>"
// form: characters other than letters, digits and '-' become '-', and a
// trailing '-' is dropped.
func displayName(name string) string {
	if name == "" {
		return "token"
	}
	full := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			return c
		}
		return '-'
	}, "token-"+name)
	return strings.TrimSuffix(full, "-")
}
