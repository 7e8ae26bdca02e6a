package ssh

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/logical"
)

// rolePrefix is the storage folder of roles.
const rolePrefix = "roles/"

// keyTypeCA is the only role key_type the engine serves.
const keyTypeCA = "ca"

// defaultAlgorithmSigner lets the CA key pick: rsa-sha2-256 for RSA.
const defaultAlgorithmSigner = "default"

// defaultNotBefore back-dates certificates to absorb clock skew.
const defaultNotBefore = 30 * time.Second

// entityIDTemplate is the one identity template kinko renders in
// allowed_users and default_user: the caller's identity entity ID.
const entityIDTemplate = "{{identity.entity.id}}"

// role is a stored CA role. List fields are kept as comma-separated
// strings, as Vault stores and returns them.
type role struct {
	KeyType                string            `json:"key_type"`
	DefaultUser            string            `json:"default_user"`
	DefaultUserTemplate    bool              `json:"default_user_template"`
	AllowedUsers           string            `json:"allowed_users"`
	AllowedUsersTemplate   bool              `json:"allowed_users_template"`
	AllowedDomains         string            `json:"allowed_domains"`
	AllowBareDomains       bool              `json:"allow_bare_domains"`
	AllowSubdomains        bool              `json:"allow_subdomains"`
	AllowUserCertificates  bool              `json:"allow_user_certificates"`
	AllowHostCertificates  bool              `json:"allow_host_certificates"`
	AllowEmptyPrincipals   bool              `json:"allow_empty_principals"`
	AllowedExtensions      string            `json:"allowed_extensions"`
	DefaultExtensions      map[string]string `json:"default_extensions"`
	AllowedCriticalOptions string            `json:"allowed_critical_options"`
	DefaultCriticalOptions map[string]string `json:"default_critical_options"`
	AllowUserKeyIDs        bool              `json:"allow_user_key_ids"`
	KeyIDFormat            string            `json:"key_id_format"`
	TTL                    time.Duration     `json:"ttl"`
	MaxTTL                 time.Duration     `json:"max_ttl"`
	AlgorithmSigner        string            `json:"algorithm_signer"`
	NotBeforeDuration      time.Duration     `json:"not_before_duration"`
	AllowedUserKeyLengths  map[string][]int  `json:"allowed_user_key_lengths"`
}

// roleInput is a role write as decoded by the path's schema.
type roleInput struct {
	role
	AllowedUsers           []string       `json:"allowed_users"`
	AllowedDomains         []string       `json:"allowed_domains"`
	AllowedExtensions      []string       `json:"allowed_extensions"`
	AllowedCriticalOptions []string       `json:"allowed_critical_options"`
	DefaultExtensions      map[string]any `json:"default_extensions"`
	DefaultCriticalOptions map[string]any `json:"default_critical_options"`
	AllowedUserKeyLengths  map[string]any `json:"allowed_user_key_lengths"`
}

func roleFields() map[string]*logical.FieldSchema {
	list := func(desc string) *logical.FieldSchema {
		return &logical.FieldSchema{Type: logical.TypeCommaStringSlice, Description: desc}
	}
	flag := func(desc string) *logical.FieldSchema {
		return &logical.FieldSchema{Type: logical.TypeBool, Description: desc}
	}
	return map[string]*logical.FieldSchema{
		"name":                     {Type: logical.TypeString, Description: "Name of the role."},
		"key_type":                 {Type: logical.TypeString, Required: true, Description: `Type of the role; must be "ca".`},
		"default_user":             {Type: logical.TypeString, Description: "Principal of a user certificate when the request names none; must also be allowed by allowed_users."},
		"default_user_template":    flag("default_user may contain {{identity.entity.id}}."),
		"allowed_users":            list(`Principals user certificates may have (comma-separated); "*" allows any, empty allows none.`),
		"allowed_users_template":   flag("allowed_users may contain {{identity.entity.id}}."),
		"allowed_domains":          list(`Domains host certificates may name (comma-separated); "*" allows any host.`),
		"allow_bare_domains":       flag("Host certificates may name a domain of allowed_domains itself."),
		"allow_subdomains":         flag("Host certificates may name subdomains of allowed_domains."),
		"allow_user_certificates":  flag("The role signs user certificates."),
		"allow_host_certificates":  flag("The role signs host certificates."),
		"allow_empty_principals":   flag("Allow certificates with no principals, which OpenSSH accepts for any user or host."),
		"allowed_extensions":       list(`Extensions a request may ask for (comma-separated); "*" allows any, empty allows none.`),
		"default_extensions":       {Type: logical.TypeMap, Description: "Extensions of certificates whose request asks for none, e.g. {\"permit-pty\": \"\"}."},
		"allowed_critical_options": list("Critical options a request may ask for (comma-separated); empty allows any."),
		"default_critical_options": {Type: logical.TypeMap, Description: "Critical options of certificates whose request asks for none."},
		"allow_user_key_ids":       flag("A request may set the certificate's key_id."),
		"key_id_format":            {Type: logical.TypeString, Description: "Key ID template: {{token_display_name}}, {{role_name}} and {{public_key_hash}} are replaced."},
		"ttl":                      {Type: logical.TypeDurationSecond, Description: "Default certificate lifetime (default: the mount's default lease TTL)."},
		"max_ttl":                  {Type: logical.TypeDurationSecond, Description: "Longest certificate lifetime a request may ask for (default: the mount's max lease TTL)."},
		"algorithm_signer": {Type: logical.TypeString, Default: defaultAlgorithmSigner,
			AllowedValues: []string{"", defaultAlgorithmSigner, ssh.KeyAlgoRSA, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512},
			Description:   "Signature algorithm of an RSA CA: rsa-sha2-256 (what default means), rsa-sha2-512, or ssh-rsa (SHA-1, refused by current OpenSSH)."},
		"not_before_duration":      {Type: logical.TypeDurationSecond, Default: int(defaultNotBefore / time.Second), Description: "How far before now certificates become valid, for clock skew (default 30s)."},
		"allowed_user_key_lengths": {Type: logical.TypeMap, Description: `Key types and sizes that may be signed, e.g. {"rsa": [3072, 4096], "ed25519": 0}; empty allows any.`},
	}
}

func (b *Backend) pathRole() *logical.Path {
	return &logical.Path{
		Pattern: `roles/` + nameRegex("name"),
		Fields:  roleFields(),
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.roleRead,
			logical.UpdateOperation: b.roleWrite,
			logical.DeleteOperation: b.roleDelete,
		},
		ExistenceCheck:  b.roleExists,
		HelpSynopsis:    "Manage the roles that sign certificates.",
		HelpDescription: "A role (key_type=ca) says which principals, lifetimes, extensions and critical options the certificates signed through sign/:role and issue/:role may have. A write replaces the whole role.",
	}
}

func (b *Backend) pathRoleList() *logical.Path {
	return &logical.Path{
		Pattern:         `roles/?`,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.roleList},
		HelpSynopsis:    "List the roles.",
		HelpDescription: "Returns the role names in keys and each role's key_type in key_info.",
	}
}

// loadRole reads a role; nil when absent.
func loadRole(ctx context.Context, s logical.Storage, name string) (*role, error) {
	var r role
	found, err := logical.GetJSON(ctx, s, rolePrefix+name, &r)
	if err != nil || !found {
		return nil, err
	}
	return &r, nil
}

func (b *Backend) roleExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	r, err := loadRole(ctx, req.Storage, d.Get("name").(string))
	return r != nil, err
}

func (b *Backend) roleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := loadRole(ctx, req.Storage, d.Get("name").(string))
	if err != nil || r == nil {
		return nil, err
	}
	return logical.DataResponse(r.data()), nil
}

func (b *Backend) roleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Delete(ctx, rolePrefix+d.Get("name").(string))
}

func (b *Backend) roleList(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	names, err := req.Storage.List(ctx, rolePrefix)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(names))
	info := make(map[string]any, len(names))
	for _, n := range names {
		if strings.HasSuffix(n, "/") {
			continue
		}
		keys = append(keys, n)
		info[n] = map[string]any{"key_type": keyTypeCA}
	}
	resp := logical.ListResponse(keys)
	resp.Data["key_info"] = info
	return resp, nil
}

func (b *Backend) roleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	var in roleInput
	if err := d.Decode(&in); err != nil {
		return nil, logical.InvalidRequest("invalid role: %v", err)
	}
	r, err := in.toRole()
	if err != nil {
		return nil, err
	}
	return nil, logical.PutJSON(ctx, req.Storage, rolePrefix+d.Get("name").(string), r)
}

// toRole validates a role write and returns the role to store.
func (in *roleInput) toRole() (*role, error) {
	r := in.role
	switch kt := strings.ToLower(strings.TrimSpace(r.KeyType)); kt {
	case keyTypeCA:
		r.KeyType = kt
	case "otp", "dynamic":
		return nil, logical.InvalidRequest("key_type %q is not supported: kinko's SSH engine signs certificates only; use key_type=ca", kt)
	default:
		return nil, logical.InvalidRequest("invalid key_type %q: use key_type=ca", r.KeyType)
	}
	if !r.AllowUserCertificates && !r.AllowHostCertificates {
		return nil, logical.InvalidRequest("either allow_user_certificates or allow_host_certificates must be set to true")
	}
	if r.TTL > 0 && r.MaxTTL > 0 && r.TTL > r.MaxTTL {
		return nil, logical.InvalidRequest(`"ttl" value must be less than "max_ttl" when both are specified`)
	}
	if r.AlgorithmSigner == "" {
		r.AlgorithmSigner = defaultAlgorithmSigner
	}
	r.AllowedUsers, r.AllowedDomains = joinList(in.AllowedUsers), joinList(in.AllowedDomains)
	r.AllowedExtensions, r.AllowedCriticalOptions = joinList(in.AllowedExtensions), joinList(in.AllowedCriticalOptions)
	if err := checkTemplates(&r); err != nil {
		return nil, err
	}
	var err error
	if r.DefaultExtensions, err = stringMap("default_extensions", in.DefaultExtensions); err != nil {
		return nil, err
	}
	if r.DefaultCriticalOptions, err = stringMap("default_critical_options", in.DefaultCriticalOptions); err != nil {
		return nil, err
	}
	if r.AllowedUserKeyLengths, err = parseKeyLengths(in.AllowedUserKeyLengths); err != nil {
		return nil, logical.InvalidRequest("invalid allowed_user_key_lengths: %v", err)
	}
	return &r, nil
}

// checkTemplates refuses identity templates kinko cannot render, at write
// time rather than at every sign.
func checkTemplates(r *role) error {
	check := func(field, value string, on bool) error {
		if !on || !strings.Contains(strings.ReplaceAll(value, entityIDTemplate, ""), "{{") {
			return nil
		}
		return logical.InvalidRequest("%s: kinko renders only the %s template", field, entityIDTemplate)
	}
	if err := check("allowed_users", r.AllowedUsers, r.AllowedUsersTemplate); err != nil {
		return err
	}
	return check("default_user", r.DefaultUser, r.DefaultUserTemplate)
}

// stringMap converts a map of extensions or critical options: names must
// not be empty, values must be strings (numbers and booleans are
// converted, as Vault does).
func stringMap(field string, m map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if strings.TrimSpace(k) == "" {
			return nil, logical.InvalidRequest("%s: names must not be empty", field)
		}
		switch x := v.(type) {
		case string:
			out[k] = x
		case bool:
			out[k] = strconv.FormatBool(x)
		case json.Number:
			out[k] = x.String()
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case nil:
			out[k] = ""
		default:
			return nil, logical.InvalidRequest("%s: the value of %q must be a string", field, k)
		}
	}
	return out, nil
}

// data is a role as Vault returns it (TTLs in seconds).
func (r *role) data() map[string]any {
	nonNil := func(m map[string]string) map[string]string {
		if m == nil {
			return map[string]string{}
		}
		return m
	}
	lengths := r.AllowedUserKeyLengths
	if lengths == nil {
		lengths = map[string][]int{}
	}
	return map[string]any{
		"key_type": r.KeyType, "default_user": r.DefaultUser, "default_user_template": r.DefaultUserTemplate,
		"allowed_users": r.AllowedUsers, "allowed_users_template": r.AllowedUsersTemplate,
		"allowed_domains": r.AllowedDomains, "allow_bare_domains": r.AllowBareDomains, "allow_subdomains": r.AllowSubdomains,
		"allow_user_certificates": r.AllowUserCertificates, "allow_host_certificates": r.AllowHostCertificates,
		"allow_empty_principals": r.AllowEmptyPrincipals,
		"allowed_extensions":     r.AllowedExtensions, "default_extensions": nonNil(r.DefaultExtensions),
		"allowed_critical_options": r.AllowedCriticalOptions, "default_critical_options": nonNil(r.DefaultCriticalOptions),
		"allow_user_key_ids": r.AllowUserKeyIDs, "key_id_format": r.KeyIDFormat,
		"ttl": int64(r.TTL / time.Second), "max_ttl": int64(r.MaxTTL / time.Second),
		"algorithm_signer": r.AlgorithmSigner, "not_before_duration": int64(r.NotBeforeDuration / time.Second),
		"allowed_user_key_lengths": lengths,
	}
}
