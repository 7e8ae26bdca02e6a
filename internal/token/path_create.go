package token

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// createInput is the decoded body of auth/token/create*.
type createInput struct {
	ID              string            `json:"id"`
	RoleName        string            `json:"role_name"`
	Policies        []string          `json:"policies"`
	Meta            map[string]string `json:"meta"`
	NoParent        bool              `json:"no_parent"`
	NoDefaultPolicy bool              `json:"no_default_policy"`
	Renewable       bool              `json:"renewable"`
	Lease           time.Duration     `json:"lease"`
	TTL             time.Duration     `json:"ttl"`
	Type            string            `json:"type"`
	ExplicitMaxTTL  time.Duration     `json:"explicit_max_ttl"`
	DisplayName     string            `json:"display_name"`
	NumUses         int               `json:"num_uses"`
	Period          time.Duration     `json:"period"`
	EntityAlias     string            `json:"entity_alias"`
}

func createFields() map[string]*logical.FieldSchema {
	dur := func(desc string) *logical.FieldSchema {
		return &logical.FieldSchema{Type: logical.TypeDurationSecond, Description: desc}
	}
	return map[string]*logical.FieldSchema{
		"id":                {Type: logical.TypeString, Description: "Token ID to use instead of a random one (root or sudo only)."},
		"role_name":         {Type: logical.TypeString, Description: "Name of the token role to create the token against."},
		"policies":          {Type: logical.TypeCommaStringSlice, Description: "Policies of the token; defaults to the caller's."},
		"meta":              {Type: logical.TypeKVPairs, Description: "String metadata kept with the token."},
		"no_parent":         {Type: logical.TypeBool, Description: "Create an orphan token (root or sudo only)."},
		"no_default_policy": {Type: logical.TypeBool, Description: "Do not add the default policy."},
		"renewable":         {Type: logical.TypeBool, Default: true, Description: "Allow the token to be renewed."},
		"lease":             dur("Deprecated: use ttl."),
		"ttl":               dur("TTL of the token."),
		"type":              {Type: logical.TypeString, Description: `Token type; only "service" is supported.`},
		"explicit_max_ttl":  dur("Hard upper bound on the token's lifetime."),
		"display_name":      {Type: logical.TypeString, Description: "Display name; stored as token-<name>."},
		"num_uses":          {Type: logical.TypeInt, Description: "Maximum number of uses (0 = unlimited)."},
		"period":            dur("Make the token periodic (root or sudo only)."),
		"entity_alias":      {Type: logical.TypeString, Description: "Accepted for compatibility; ignored."},
	}
}

// createMode tells the create handler which endpoint was called.
type createMode int

const (
	createNormal createMode = iota
	createOrphan
)

// handleCreate serves create, create-orphan and create/:role_name.
func (s *Store) handleCreate(mode createMode) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		var in createInput
		if err := d.Decode(&in); err != nil {
			return nil, logical.InvalidRequest("invalid request body: %v", err)
		}
		parent, err := s.Lookup(ctx, req.ClientToken)
		if err != nil {
			return nil, err
		}
		if parent == nil {
			return nil, ErrParentNotFound
		}
		if parent.NumUses > 0 {
			return nil, logical.InvalidRequest("restricted use token cannot generate child tokens")
		}
		var role *Role
		if in.RoleName != "" {
			if role, err = s.role(ctx, in.RoleName); err != nil {
				return nil, err
			}
			if role == nil {
				return nil, logical.InvalidRequest("unknown role %s", in.RoleName)
			}
		}
		sudo := req.Sudo || IsRoot(parent.Policies)
		e, err := buildChild(&in, req, d, parent, role, sudo, mode)
		if err != nil {
			return nil, err
		}
		warnings, err := s.create(ctx, e, s.limitsFor(req))
		if err != nil {
			return nil, err
		}
		return &logical.Response{Auth: authFor(e, e.ID, e.TTL), Warnings: warnings}, nil
	}
}

// buildChild turns a create request into an Entry for Store.create.
func buildChild(in *createInput, req *logical.Request, d *logical.FieldData, parent *Entry, role *Role, sudo bool, mode createMode) (*Entry, error) {
	switch in.Type {
	case "", "service", "default", "default-service":
	case "batch":
		return nil, logical.InvalidRequest("batch tokens are not supported by kinko; use type \"service\" (the default)")
	default:
		return nil, logical.InvalidRequest("invalid token type %q: use \"service\"", in.Type)
	}
	if in.NumUses < 0 {
		return nil, ErrNegativeUses
	}
	e := &Entry{
		Path: "auth/token/" + strings.TrimSuffix(req.Path, "/"), Meta: in.Meta, DisplayName: displayName(in.DisplayName),
		NumUses: in.NumUses, EntityID: parent.EntityID, Parent: parent.Hash,
		Renewable: in.Renewable && (role == nil || role.Renewable),
	}
	if len(e.Meta) == 0 {
		e.Meta = nil
	}
	if mode == createOrphan || (role != nil && role.Orphan) || (in.NoParent && sudo) {
		e.Parent = ""
	}
	if in.ID != "" {
		if !sudo {
			return nil, logical.InvalidRequest("root or sudo privileges required to specify token id")
		}
		if strings.Contains(in.ID, ".") {
			return nil, logical.InvalidRequest("token IDs can not contain a '.'")
		}
		e.ID = in.ID
	}
	if err := childTimes(e, in, d, role, sudo); err != nil {
		return nil, err
	}
	policies, err := childPolicies(in, parent, role, sudo)
	if err != nil {
		return nil, err
	}
	e.Policies = policies
	if role != nil {
		e.Role = role.Name
		e.Path = "auth/token/create/" + role.Name
		if role.PathSuffix != "" {
			e.Path += "/" + role.PathSuffix
		}
		if role.TokenNumUses > 0 && (e.NumUses == 0 || role.TokenNumUses < e.NumUses) {
			e.NumUses = role.TokenNumUses
		}
	}
	return e, nil
}

// childTimes sets TTL, Period and ExplicitMaxTTL from the request and role.
func childTimes(e *Entry, in *createInput, d *logical.FieldData, role *Role, sudo bool) error {
	e.TTL = in.TTL
	if _, sent, _ := d.GetOk("ttl"); !sent {
		e.TTL = in.Lease
	}
	e.ExplicitMaxTTL = in.ExplicitMaxTTL
	switch {
	case role != nil && role.TokenPeriod > 0:
		e.Period = role.TokenPeriod
	case in.Period > 0:
		if !sudo {
			return logical.InvalidRequest("root or sudo privileges required to create periodic token")
		}
		e.Period = in.Period
	}
	if role != nil && role.TokenExplicitMaxTTL > 0 && (e.ExplicitMaxTTL == 0 || role.TokenExplicitMaxTTL < e.ExplicitMaxTTL) {
		e.ExplicitMaxTTL = role.TokenExplicitMaxTTL
	}
	return nil
}

// childPolicies decides the policies of a new child token, after Vault:
// a role with allowed policies bounds them (and supplies the default set);
// otherwise they default to the parent's and, unless the caller has sudo,
// must be a subset of the parent's (plus "default"). "root" needs a root
// parent. "default" is added unless no_default_policy (or the role) says
// otherwise.
func childPolicies(in *createInput, parent *Entry, role *Role, sudo bool) ([]string, error) {
	requested := SanitizePolicies(in.Policies, false)
	roleBounds := role != nil && (len(role.AllowedPolicies) > 0 || len(role.AllowedPoliciesGlob) > 0)
	switch {
	case roleBounds && len(requested) == 0:
		requested = SanitizePolicies(role.AllowedPolicies, false)
	case roleBounds:
		for _, p := range requested {
			if !matchesAny(p, role.AllowedPolicies, role.AllowedPoliciesGlob) {
				return nil, logical.InvalidRequest("token policies (%q) must be subset of the role's allowed policies (%q)",
					requested, append(slices.Clone(role.AllowedPolicies), role.AllowedPoliciesGlob...))
			}
		}
	case len(requested) == 0:
		requested = SanitizePolicies(parent.Policies, false)
		if role != nil { // inherited, not requested: drop what the role forbids
			requested = slices.DeleteFunc(requested, func(p string) bool {
				return matchesAny(p, role.DisallowedPolicies, role.DisallowedPoliciesGlob)
			})
		}
	}
	addDefault := !in.NoDefaultPolicy
	if role != nil {
		for _, p := range requested {
			if matchesAny(p, role.DisallowedPolicies, role.DisallowedPoliciesGlob) {
				return nil, logical.InvalidRequest("token policy %q is disallowed by this role", p)
			}
		}
		addDefault = addDefault && !role.TokenNoDefaultPolicy &&
			!matchesAny("default", role.DisallowedPolicies, role.DisallowedPoliciesGlob)
	}
	final := SanitizePolicies(requested, addDefault)
	if !addDefault {
		final = slices.DeleteFunc(final, func(p string) bool { return p == "default" })
	}
	if !roleBounds && !sudo && !subset(SanitizePolicies(parent.Policies, true), final) {
		return nil, logical.InvalidRequest("child policies must be subset of parent")
	}
	if IsRoot(final) && !IsRoot(parent.Policies) {
		return nil, logical.InvalidRequest("root tokens may not be created without parent token being root")
	}
	if len(final) == 0 {
		return nil, logical.InvalidRequest("token must have at least one policy")
	}
	return final, nil
}

// authFor renders an entry as the auth block of a response.
func authFor(e *Entry, raw string, ttl time.Duration) *logical.Auth {
	return &logical.Auth{
		LeaseOptions:   logical.LeaseOptions{TTL: ttl, Renewable: e.Renewable, IssueTime: e.CreationTime},
		ClientToken:    raw,
		Accessor:       e.Accessor,
		Policies:       e.Policies,
		TokenPolicies:  e.Policies,
		Metadata:       e.Meta,
		DisplayName:    e.DisplayName,
		EntityID:       e.EntityID,
		Orphan:         e.Parent == "",
		NumUses:        e.NumUses,
		Period:         e.Period,
		ExplicitMaxTTL: e.ExplicitMaxTTL,
		TokenType:      TokenType,
	}
}
