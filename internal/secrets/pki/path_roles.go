package pki

import (
	"context"
	"crypto/x509"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// roleEntry is an issuance policy. Its JSON tags are the API field names,
// so a write decodes straight into it.
type roleEntry struct {
	TTL                       time.Duration `json:"ttl"`
	MaxTTL                    time.Duration `json:"max_ttl"`
	AllowedDomains            []string      `json:"allowed_domains"`
	AllowBareDomains          bool          `json:"allow_bare_domains"`
	AllowSubdomains           bool          `json:"allow_subdomains"`
	AllowGlobDomains          bool          `json:"allow_glob_domains"`
	AllowLocalhost            bool          `json:"allow_localhost"`
	AllowAnyName              bool          `json:"allow_any_name"`
	EnforceHostnames          bool          `json:"enforce_hostnames"`
	AllowIPSANs               bool          `json:"allow_ip_sans"`
	AllowWildcardCertificates bool          `json:"allow_wildcard_certificates"`
	ServerFlag                bool          `json:"server_flag"`
	ClientFlag                bool          `json:"client_flag"`
	CodeSigningFlag           bool          `json:"code_signing_flag"`
	EmailProtectionFlag       bool          `json:"email_protection_flag"`
	KeyType                   string        `json:"key_type"`
	KeyBits                   int           `json:"key_bits"`
	SignatureBits             int           `json:"signature_bits"`
	UsePSS                    bool          `json:"use_pss"`
	KeyUsage                  []string      `json:"key_usage"`
	ExtKeyUsage               []string      `json:"ext_key_usage"`
	UseCSRCommonName          bool          `json:"use_csr_common_name"`
	UseCSRSANs                bool          `json:"use_csr_sans"`
	RequireCN                 bool          `json:"require_cn"`
	NoStore                   bool          `json:"no_store"`
	GenerateLease             bool          `json:"generate_lease"`
	IssuerRef                 string        `json:"issuer_ref"`
	NotBeforeDuration         time.Duration `json:"not_before_duration"`
	subjectFields
}

// subjectFields are the subject attributes roles and CA requests may set.
type subjectFields struct {
	Organization  []string `json:"organization"`
	OU            []string `json:"ou"`
	Country       []string `json:"country"`
	Locality      []string `json:"locality"`
	Province      []string `json:"province"`
	StreetAddress []string `json:"street_address"`
	PostalCode    []string `json:"postal_code"`
}

func subjectSchema(m map[string]*logical.FieldSchema) {
	for _, n := range []string{"organization", "ou", "country", "locality", "province", "street_address", "postal_code"} {
		m[n] = &logical.FieldSchema{Type: logical.TypeCommaStringSlice, Description: "Subject " + strings.ReplaceAll(n, "_", " ") + " values."}
	}
}

func roleSchema() map[string]*logical.FieldSchema {
	str, b, dur, list := logical.TypeString, logical.TypeBool, logical.TypeDurationSecond, logical.TypeCommaStringSlice
	m := map[string]*logical.FieldSchema{
		"name":                        {Type: str, Description: "Name of the role."},
		"ttl":                         {Type: dur, Description: "Default lifetime of issued certificates (0: the mount's default)."},
		"max_ttl":                     {Type: dur, Description: "Longest lifetime (0: the mount's maximum)."},
		"allowed_domains":             {Type: list, Description: "Domains certificates may be issued for (see allow_bare_domains, allow_subdomains, allow_glob_domains)."},
		"allow_bare_domains":          {Type: b, Description: "Allow the allowed_domains themselves."},
		"allow_subdomains":            {Type: b, Description: "Allow subdomains of allowed_domains (including wildcards)."},
		"allow_glob_domains":          {Type: b, Description: "Treat '*' in allowed_domains as a glob."},
		"allow_localhost":             {Type: b, Default: true, Description: "Allow localhost and localdomain."},
		"allow_any_name":              {Type: b, Description: "Allow any name (hostname syntax is still enforced with enforce_hostnames)."},
		"enforce_hostnames":           {Type: b, Default: true, Description: "Require DNS names to be valid hostnames."},
		"allow_ip_sans":               {Type: b, Default: true, Description: "Allow IP subject alternative names."},
		"allow_wildcard_certificates": {Type: b, Default: true, Description: "Allow names with a wildcard label."},
		"server_flag":                 {Type: b, Default: true, Description: "Add the ServerAuth extended key usage."},
		"client_flag":                 {Type: b, Default: true, Description: "Add the ClientAuth extended key usage."},
		"code_signing_flag":           {Type: b, Description: "Add the CodeSigning extended key usage."},
		"email_protection_flag":       {Type: b, Description: "Add the EmailProtection extended key usage."},
		"key_type":                    {Type: str, Default: keyRSA, AllowedValues: []string{keyRSA, keyEC, keyEd25519, keyAny}, Description: "Key type: rsa, ec, ed25519, or any (sign only)."},
		"key_bits":                    {Type: logical.TypeInt, Description: "Key size (0: 2048 for rsa, 256 for ec); for sign, the minimum."},
		"signature_bits":              {Type: logical.TypeInt, Description: "Hash size of the signature: 256, 384 or 512 (0: automatic)."},
		"use_pss":                     {Type: b, Description: "Sign with RSASSA-PSS when the issuer key is RSA."},
		"key_usage":                   {Type: list, Default: "DigitalSignature,KeyAgreement,KeyEncipherment", Description: "Key usages, e.g. DigitalSignature,KeyEncipherment."},
		"ext_key_usage":               {Type: list, Description: "Extra extended key usages, e.g. ServerAuth,ClientAuth."},
		"use_csr_common_name":         {Type: b, Default: true, Description: "On sign, take the common name from the CSR."},
		"use_csr_sans":                {Type: b, Default: true, Description: "On sign, take the SANs from the CSR."},
		"require_cn":                  {Type: b, Default: true, Description: "Require a common name."},
		"no_store":                    {Type: b, Description: "Do not store issued certificates (they cannot be listed or revoked by serial)."},
		"generate_lease":              {Type: b, Description: "Tie each certificate to a lease; revoking the lease revokes the certificate."},
		"issuer_ref":                  {Type: str, Default: defaultRef, Description: "Issuer that signs for this role."},
		"not_before_duration":         {Type: dur, Default: 30, Description: "How far NotBefore is backdated, for clock skew."},
	}
	subjectSchema(m)
	return m
}

func (b *backend) pathListRoles() *logical.Path {
	return &logical.Path{
		Pattern:         `roles/?`,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.rolesList},
		HelpSynopsis:    "List the roles.",
		HelpDescription: "Roles state which certificates issue/:role and sign/:role may produce.",
	}
}

func (b *backend) rolesList(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	keys, err := req.Storage.List(ctx, rolePrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (b *backend) pathRoles() *logical.Path {
	return &logical.Path{
		Pattern: `roles/` + logical.GenericNameRegex("name"),
		Fields:  roleSchema(),
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.roleRead,
			logical.UpdateOperation: b.roleWrite,
			logical.DeleteOperation: b.roleDelete,
		},
		ExistenceCheck: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
			r, err := loadRole(ctx, req.Storage, d.Get("name").(string))
			return r != nil, err
		},
		HelpSynopsis:    "Manage a role: the policy for certificates issued under it.",
		HelpDescription: "A write replaces the whole role; unset fields take their defaults.",
	}
}

func loadRole(ctx context.Context, s logical.Storage, name string) (*roleEntry, error) {
	var r roleEntry
	ok, err := logical.GetJSON(ctx, s, rolePrefix+name, &r)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

// roleFor loads the role a request names; an unknown role is a user error.
func roleFor(ctx context.Context, s logical.Storage, name string) (*roleEntry, error) {
	r, err := loadRole(ctx, s, name)
	if err == nil && r == nil {
		err = logical.InvalidRequest("unknown role: %s", name)
	}
	return r, err
}

func (b *backend) roleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := loadRole(ctx, req.Storage, d.Get("name").(string))
	if err != nil || r == nil {
		return nil, err
	}
	return logical.DataResponse(r.toMap()), nil
}

func (b *backend) roleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	var r roleEntry
	if err := d.Decode(&r); err != nil {
		return nil, logical.InvalidRequest("invalid role: %v", err)
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	if r.IssuerRef != defaultRef {
		if _, err := b.resolveIssuer(ctx, req.Storage, r.IssuerRef); err != nil {
			return nil, err
		}
	}
	if err := logical.PutJSON(ctx, req.Storage, rolePrefix+d.Get("name").(string), &r); err != nil {
		return nil, err
	}
	return logical.DataResponse(r.toMap()), nil
}

func (b *backend) roleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Delete(ctx, rolePrefix+d.Get("name").(string))
}

// validate checks the settings a write cannot leave to the issue path.
func (r *roleEntry) validate() error {
	if _, err := normalizeKeyParams(r.KeyType, r.KeyBits, true); err != nil {
		return err
	}
	if _, err := signatureAlgorithm(nil, r.SignatureBits, false); err != nil {
		return err
	}
	if r.MaxTTL > 0 && r.TTL > r.MaxTTL {
		return logical.InvalidRequest("\"ttl\" value must be less than \"max_ttl\" value")
	}
	if _, err := parseKeyUsages(r.KeyUsage); err != nil {
		return err
	}
	if _, err := parseExtKeyUsages(r.ExtKeyUsage); err != nil {
		return err
	}
	if r.IssuerRef == "" {
		r.IssuerRef = defaultRef
	}
	return nil
}

// extKeyUsages is the role's extended key usage list: the flags first.
func (r *roleEntry) extKeyUsages() []x509.ExtKeyUsage {
	var out []x509.ExtKeyUsage
	for _, f := range []struct {
		on bool
		u  x509.ExtKeyUsage
	}{{r.ServerFlag, x509.ExtKeyUsageServerAuth}, {r.ClientFlag, x509.ExtKeyUsageClientAuth},
		{r.CodeSigningFlag, x509.ExtKeyUsageCodeSigning}, {r.EmailProtectionFlag, x509.ExtKeyUsageEmailProtection}} {
		if f.on {
			out = append(out, f.u)
		}
	}
	extra, _ := parseExtKeyUsages(r.ExtKeyUsage) // validated on write
	for _, u := range extra {
		if !containsEKU(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func containsEKU(list []x509.ExtKeyUsage, u x509.ExtKeyUsage) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}

func (r *roleEntry) toMap() map[string]any {
	return map[string]any{
		"ttl": int64(r.TTL / time.Second), "max_ttl": int64(r.MaxTTL / time.Second),
		"allowed_domains": nonNil(r.AllowedDomains), "allow_bare_domains": r.AllowBareDomains,
		"allow_subdomains": r.AllowSubdomains, "allow_glob_domains": r.AllowGlobDomains,
		"allow_localhost": r.AllowLocalhost, "allow_any_name": r.AllowAnyName,
		"enforce_hostnames": r.EnforceHostnames, "allow_ip_sans": r.AllowIPSANs,
		"allow_wildcard_certificates": r.AllowWildcardCertificates,
		"server_flag":                 r.ServerFlag, "client_flag": r.ClientFlag,
		"code_signing_flag": r.CodeSigningFlag, "email_protection_flag": r.EmailProtectionFlag,
		"key_type": r.KeyType, "key_bits": r.KeyBits, "signature_bits": r.SignatureBits, "use_pss": r.UsePSS,
		"key_usage": nonNil(r.KeyUsage), "ext_key_usage": nonNil(r.ExtKeyUsage),
		"use_csr_common_name": r.UseCSRCommonName, "use_csr_sans": r.UseCSRSANs, "require_cn": r.RequireCN,
		"no_store": r.NoStore, "generate_lease": r.GenerateLease, "issuer_ref": r.IssuerRef,
		"not_before_duration": int64(r.NotBeforeDuration / time.Second),
		"organization":        nonNil(r.Organization), "ou": nonNil(r.OU), "country": nonNil(r.Country),
		"locality": nonNil(r.Locality), "province": nonNil(r.Province),
		"street_address": nonNil(r.StreetAddress), "postal_code": nonNil(r.PostalCode),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
