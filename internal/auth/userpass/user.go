package userpass

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

// user is the stored record of one user.
type user struct {
	tokenutil.Params
	// PasswordHash is the bcrypt hash of the password; the password itself
	// is never stored.
	PasswordHash []byte `json:"password_hash"`

	// Copies of Vault's deprecated fields, kept only while the user was
	// last set through them, so a read shows them as Vault does. The token_*
	// fields always hold the effective values.
	Policies   []string      `json:"policies,omitempty"`
	TTL        time.Duration `json:"ttl,omitempty"`
	MaxTTL     time.Duration `json:"max_ttl,omitempty"`
	BoundCIDRs []string      `json:"bound_cidrs,omitempty"`
}

// normalizeUsername is the storage form of a username: Vault's userpass
// is case-insensitive.
func normalizeUsername(name string) string { return strings.ToLower(name) }

// readUser returns the user named name (already normalised), or nil.
func readUser(ctx context.Context, s logical.Storage, name string) (*user, error) {
	var u user
	found, err := logical.GetJSON(ctx, s, userPrefix+name, &u)
	if err != nil {
		return nil, fmt.Errorf("userpass: read user: %w", err)
	}
	if !found {
		return nil, nil
	}
	return &u, nil
}

func writeUser(ctx context.Context, s logical.Storage, name string, u *user) error {
	if err := logical.PutJSON(ctx, s, userPrefix+name, u); err != nil {
		return fmt.Errorf("userpass: write user: %w", err)
	}
	return nil
}

// response is the data of a user read, as Vault shows it: the token
// settings, plus the deprecated fields the user was set through.
func (u *user) response() map[string]any {
	data := map[string]any{}
	u.Params.Response(data)
	if u.TTL > 0 {
		data["ttl"] = int64(u.TTL / time.Second)
	}
	if u.MaxTTL > 0 {
		data["max_ttl"] = int64(u.MaxTTL / time.Second)
	}
	if len(u.Policies) > 0 {
		data["policies"] = data["token_policies"]
	}
	if len(u.BoundCIDRs) > 0 {
		data["bound_cidrs"] = u.BoundCIDRs
	}
	return data
}

// parseTokenFields applies the sent token_* and deprecated fields onto u
// with Vault's upgrade rule: a token_* field wins and clears the copy of
// its deprecated twin; a deprecated field alone sets both.
func (u *user) parseTokenFields(d *logical.FieldData) error {
	// tokenutil.Parse reads policies, ttl and max_ttl as fallbacks of their
	// token_* names; bound_cidrs is userpass's own.
	if v, ok, _ := d.GetOk("bound_cidrs"); ok {
		if _, set, _ := d.GetOk("token_bound_cidrs"); !set {
			u.TokenBoundCIDRs = v.([]string)
		}
	}
	if err := u.Params.Parse(d); err != nil {
		return err
	}
	upgrade(d, "policies", "token_policies", &u.Policies, u.TokenPolicies)
	upgrade(d, "ttl", "token_ttl", &u.TTL, u.TokenTTL)
	upgrade(d, "max_ttl", "token_max_ttl", &u.MaxTTL, u.TokenMaxTTL)
	upgrade(d, "bound_cidrs", "token_bound_cidrs", &u.BoundCIDRs, u.TokenBoundCIDRs)
	return nil
}

// upgrade sets the deprecated copy *old: cleared when the new field was
// sent, the effective value when only the old one was.
func upgrade[T any](d *logical.FieldData, oldName, newName string, old *T, effective T) {
	if _, ok, _ := d.GetOk(newName); ok {
		var zero T
		*old = zero
		return
	}
	if _, ok, _ := d.GetOk(oldName); ok {
		*old = effective
	}
}

// deprecatedFields are Vault's pre-tokenutil user fields.
func deprecatedFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"policies":    {Type: logical.TypeCommaStringSlice, Description: "Deprecated: use token_policies."},
		"ttl":         {Type: logical.TypeDurationSecond, Description: "Deprecated: use token_ttl."},
		"max_ttl":     {Type: logical.TypeDurationSecond, Description: "Deprecated: use token_max_ttl."},
		"bound_cidrs": {Type: logical.TypeCommaStringSlice, Description: "Deprecated: use token_bound_cidrs."},
	}
}
