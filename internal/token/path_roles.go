package token

import (
	"context"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Role is a named set of token-creation rules (auth/token/roles/:name).
type Role struct {
	Name                   string        `json:"name"`
	AllowedPolicies        []string      `json:"allowed_policies"`
	DisallowedPolicies     []string      `json:"disallowed_policies"`
	AllowedPoliciesGlob    []string      `json:"allowed_policies_glob"`
	DisallowedPoliciesGlob []string      `json:"disallowed_policies_glob"`
	AllowedEntityAliases   []string      `json:"allowed_entity_aliases"`
	Orphan                 bool          `json:"orphan"`
	Renewable              bool          `json:"renewable"`
	PathSuffix             string        `json:"path_suffix"`
	TokenPeriod            time.Duration `json:"token_period"`
	TokenExplicitMaxTTL    time.Duration `json:"token_explicit_max_ttl"`
	TokenNoDefaultPolicy   bool          `json:"token_no_default_policy"`
	TokenNumUses           int           `json:"token_num_uses"`
	TokenType              string        `json:"token_type"`
}

// role loads a role by name (case-insensitive), or nil.
func (s *Store) role(ctx context.Context, name string) (*Role, error) {
	name = strings.ToLower(name)
	if name == "" {
		return nil, nil
	}
	var r Role
	ok, err := logical.GetJSON(ctx, s.view, rolePrefix+name, &r)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

func roleFields() map[string]*logical.FieldSchema {
	list := func(desc string) *logical.FieldSchema {
		return &logical.FieldSchema{Type: logical.TypeCommaStringSlice, Description: desc}
	}
	dur := func(desc string) *logical.FieldSchema {
		return &logical.FieldSchema{Type: logical.TypeDurationSecond, Description: desc}
	}
	return map[string]*logical.FieldSchema{
		"role_name":                {Type: logical.TypeString, Required: true, Description: "Name of the role."},
		"allowed_policies":         list("Policies tokens of this role may have instead of a subset of the caller's."),
		"disallowed_policies":      list("Policies tokens of this role may never have."),
		"allowed_policies_glob":    list("Glob patterns of policies tokens of this role may have."),
		"disallowed_policies_glob": list("Glob patterns of policies tokens of this role may never have."),
		"allowed_entity_aliases":   list("Entity aliases allowed at creation (accepted, not used)."),
		"orphan":                   {Type: logical.TypeBool, Description: "Create tokens without a parent."},
		"renewable":                {Type: logical.TypeBool, Default: true, Description: "Allow tokens of this role to be renewed."},
		"path_suffix":              {Type: logical.TypeString, Description: "Suffix appended to the token path."},
		"period":                   dur("Deprecated: use token_period."),
		"token_period":             dur("Make tokens periodic with this period."),
		"explicit_max_ttl":         dur("Deprecated: use token_explicit_max_ttl."),
		"token_explicit_max_ttl":   dur("Hard upper bound on the lifetime of tokens of this role."),
		"token_no_default_policy":  {Type: logical.TypeBool, Description: "Do not add the default policy."},
		"token_num_uses":           {Type: logical.TypeInt, Description: "Maximum uses of each token (0 = unlimited)."},
		"token_type":               {Type: logical.TypeString, Description: `Token type: "service" or "default-service".`},
		"bound_cidrs":              list("Not supported; must be empty."),
		"token_bound_cidrs":        list("Not supported; must be empty."),
	}
}

func (s *Store) rolePaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern:      "roles/?",
			Operations:   map[logical.Operation]logical.OperationFunc{logical.ListOperation: s.handleRoleList},
			HelpSynopsis: "List token roles.",
		},
		{
			Pattern: "roles/" + logical.GenericNameRegex("role_name"),
			Fields:  roleFields(),
			Operations: map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation:   s.handleRoleRead,
				logical.UpdateOperation: s.handleRoleWrite,
				logical.DeleteOperation: s.handleRoleDelete,
			},
			ExistenceCheck: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
				r, err := s.role(ctx, d.Get("role_name").(string))
				return r != nil, err
			},
			HelpSynopsis: "Create, read, update or delete a token role.",
		},
	}
}

func (s *Store) handleRoleList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	keys, err := s.view.List(ctx, rolePrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (s *Store) handleRoleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := s.role(ctx, d.Get("role_name").(string))
	if err != nil || r == nil {
		return nil, err
	}
	nonNil := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return logical.DataResponse(map[string]any{
		"name":                     r.Name,
		"allowed_policies":         nonNil(r.AllowedPolicies),
		"disallowed_policies":      nonNil(r.DisallowedPolicies),
		"allowed_policies_glob":    nonNil(r.AllowedPoliciesGlob),
		"disallowed_policies_glob": nonNil(r.DisallowedPoliciesGlob),
		"allowed_entity_aliases":   nonNil(r.AllowedEntityAliases),
		"orphan":                   r.Orphan,
		"renewable":                r.Renewable,
		"path_suffix":              r.PathSuffix,
		"period":                   secs(r.TokenPeriod),
		"token_period":             secs(r.TokenPeriod),
		"explicit_max_ttl":         secs(r.TokenExplicitMaxTTL),
		"token_explicit_max_ttl":   secs(r.TokenExplicitMaxTTL),
		"token_no_default_policy":  r.TokenNoDefaultPolicy,
		"token_num_uses":           r.TokenNumUses,
		"token_type":               r.TokenType,
	}), nil
}

func (s *Store) handleRoleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, s.view.Delete(ctx, rolePrefix+strings.ToLower(d.Get("role_name").(string)))
}

// handleRoleWrite creates a role or updates the fields sent, keeping the
// others.
func (s *Store) handleRoleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := strings.ToLower(d.Get("role_name").(string))
	r, err := s.role(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &Role{Name: name, Renewable: true, TokenType: "default-service"}
	}
	for _, f := range []string{"bound_cidrs", "token_bound_cidrs"} {
		if v, ok, _ := d.GetOk(f); ok && len(v.([]string)) > 0 {
			return nil, logical.InvalidRequest("%s is not supported by kinko; remove it from the role", f)
		}
	}
	applyRoleLists(r, d)
	if err := applyRoleScalars(r, d); err != nil {
		return nil, err
	}
	return nil, logical.PutJSON(ctx, s.view, rolePrefix+name, r)
}

func applyRoleLists(r *Role, d *logical.FieldData) {
	for name, dst := range map[string]*[]string{
		"allowed_policies":         &r.AllowedPolicies,
		"disallowed_policies":      &r.DisallowedPolicies,
		"allowed_policies_glob":    &r.AllowedPoliciesGlob,
		"disallowed_policies_glob": &r.DisallowedPoliciesGlob,
		"allowed_entity_aliases":   &r.AllowedEntityAliases,
	} {
		if v, ok, _ := d.GetOk(name); ok {
			l := v.([]string)
			if !strings.HasSuffix(name, "_glob") && name != "allowed_entity_aliases" {
				l = SanitizePolicies(l, false)
			}
			*dst = l
		}
	}
}

func applyRoleScalars(r *Role, d *logical.FieldData) error {
	if v, ok, _ := d.GetOk("orphan"); ok {
		r.Orphan = v.(bool)
	}
	if v, ok, _ := d.GetOk("renewable"); ok {
		r.Renewable = v.(bool)
	}
	if v, ok, _ := d.GetOk("token_no_default_policy"); ok {
		r.TokenNoDefaultPolicy = v.(bool)
	}
	if v, ok, _ := d.GetOk("path_suffix"); ok {
		suffix := strings.Trim(v.(string), "/")
		if strings.Contains(suffix, "..") {
			return logical.InvalidRequest("path_suffix cannot contain '..'")
		}
		r.PathSuffix = suffix
	}
	if v, ok := firstSent(d, "token_period", "period"); ok {
		r.TokenPeriod = v.(time.Duration)
	}
	if v, ok := firstSent(d, "token_explicit_max_ttl", "explicit_max_ttl"); ok {
		r.TokenExplicitMaxTTL = v.(time.Duration)
	}
	if v, ok, _ := d.GetOk("token_num_uses"); ok {
		if v.(int) < 0 {
			return logical.InvalidRequest("token_num_uses cannot be negative")
		}
		r.TokenNumUses = v.(int)
	}
	if v, ok, _ := d.GetOk("token_type"); ok {
		switch t := v.(string); t {
		case "", "default", "default-service":
			r.TokenType = "default-service"
		case "service":
			r.TokenType = "service"
		case "batch", "default-batch":
			return logical.InvalidRequest("batch tokens are not supported by kinko; use token_type \"service\"")
		default:
			return logical.InvalidRequest("invalid token_type %q: use \"service\" or \"default-service\"", t)
		}
	}
	return nil
}

// firstSent returns the value of the first of names that was sent.
func firstSent(d *logical.FieldData, names ...string) (any, bool) {
	for _, n := range names {
		if v, ok, _ := d.GetOk(n); ok {
			return v, true
		}
	}
	return nil, false
}
