package cert

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathCertsList() *logical.Path {
	return &logical.Path{
		Pattern:         "certs/?",
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.listCerts},
		HelpSynopsis:    "List the trusted certificates.",
		HelpDescription: `Lists the (lower-case) names of the trusted certificate roles.`,
	}
}

func (b *backend) pathCerts() *logical.Path {
	return &logical.Path{
		Pattern: "certs/" + logical.GenericNameRegex("name"),
		Fields:  tokenutil.AddFields(certFields(), true),
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.readCert,
			logical.CreateOperation: b.writeCert,
			logical.UpdateOperation: b.writeCert,
			logical.DeleteOperation: b.deleteCert,
		},
		ExistenceCheck: b.certExists,
		HelpSynopsis:   "Manage trusted certificates used for authentication.",
		HelpDescription: `Create, read, update and delete trusted certificates. A CA certificate lets
every client certificate it issued log in (subject to the constraints); a
non-CA certificate pins exactly that client certificate. Deleting a
certificate does not revoke the tokens already issued through it.`,
	}
}

// certFields are the role fields besides tokenutil's.
func certFields() map[string]*logical.FieldSchema {
	slice := func(desc string) *logical.FieldSchema {
		return &logical.FieldSchema{Type: logical.TypeCommaStringSlice, Description: desc}
	}
	return map[string]*logical.FieldSchema{
		"name": {Type: logical.TypeString, Description: "Name of the certificate role (case-insensitive)."},
		"certificate": {Type: logical.TypeString,
			Description: "PEM-encoded CA certificate(s) to trust, or the non-CA client certificate to pin."},
		"display_name": {Type: logical.TypeString,
			Description: "Display name of tokens issued through this role (default: the role name)."},
		"allowed_names":                slice("Deprecated: names (globs) at least one of which must be the Common Name, a DNS SAN or an email SAN."),
		"allowed_common_names":         slice("Globs at least one of which must match the Common Name."),
		"allowed_dns_sans":             slice("Globs at least one of which must match a DNS SAN."),
		"allowed_email_sans":           slice("Globs at least one of which must match an email SAN."),
		"allowed_uri_sans":             slice("Globs at least one of which must match a URI SAN."),
		"allowed_organizational_units": slice("Globs at least one of which must match an Organizational Unit."),
		"required_extensions":          slice(`Extensions the certificate must carry, each "oid:value-glob" (the value read as an ASN.1 string); all must match.`),
		"allowed_metadata_extensions":  slice("Extension OIDs whose (string) values are added to the token metadata, keyed by the OID with dashes for dots."),
		"ocsp_enabled":                 {Type: logical.TypeBool, Description: "OCSP checking: not supported by kinko; only false is accepted."},
		"ocsp_ca_certificates":         {Type: logical.TypeString, Description: "Ignored: OCSP is not supported."},
		"ocsp_servers_override":        slice("Ignored: OCSP is not supported."),
		"ocsp_fail_open":               {Type: logical.TypeBool, Description: "Ignored: OCSP is not supported."},
		"ocsp_query_all_servers":       {Type: logical.TypeBool, Description: "Ignored: OCSP is not supported."},
		"lease":                        {Type: logical.TypeInt, Description: "Deprecated: use token_ttl (seconds)."},
		"bound_cidrs":                  slice("Deprecated: use token_bound_cidrs."),
	}
}

func nameOf(d *logical.FieldData) string { return normalizeName(d.Get("name").(string)) }

func (b *backend) certExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	r, err := readRole(ctx, req.Storage, nameOf(d))
	return r != nil, err
}

func (b *backend) listCerts(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	keys, err := req.Storage.List(ctx, rolePrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (b *backend) readCert(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := readRole(ctx, req.Storage, nameOf(d))
	if err != nil || r == nil {
		return nil, err
	}
	return logical.DataResponse(r.response()), nil
}

func (b *backend) deleteCert(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	key := rolePrefix + nameOf(d)
	b.roles.drop(key)
	return nil, req.Storage.Delete(ctx, key)
}

// writeCert creates a role or updates the fields sent; the result must
// carry a parsable certificate.
func (b *backend) writeCert(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	name := nameOf(d)
	r, err := readRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &certRole{Name: name}
	}
	if err := r.apply(d); err != nil {
		return nil, err
	}
	if _, err := parseRole(r); err != nil {
		return nil, err
	}
	if err := writeRole(ctx, req.Storage, r); err != nil {
		return nil, err
	}
	return b.ttlWarnings(r), nil
}

// apply sets the fields sent onto r.
func (r *certRole) apply(d *logical.FieldData) error {
	if on, ok, _ := d.GetOk("ocsp_enabled"); ok && on.(bool) {
		return logical.InvalidRequest("ocsp_enabled: OCSP is not supported by kinko; push revocation lists to crls/ instead")
	}
	setString(d, "certificate", &r.Certificate)
	if !utf8.ValidString(r.Certificate) {
		return logical.InvalidRequest("certificate must be PEM text (valid UTF-8)")
	}
	setString(d, "display_name", &r.DisplayName)
	for name, dst := range map[string]*[]string{
		"allowed_names": &r.AllowedNames, "allowed_common_names": &r.AllowedCommonNames,
		"allowed_dns_sans": &r.AllowedDNSSANs, "allowed_email_sans": &r.AllowedEmailSANs,
		"allowed_uri_sans": &r.AllowedURISANs, "allowed_organizational_units": &r.AllowedOrganizationalUnits,
		"required_extensions": &r.RequiredExtensions, "allowed_metadata_extensions": &r.AllowedMetadataExtensions,
	} {
		if v, ok, _ := d.GetOk(name); ok {
			*dst = v.([]string)
		}
	}
	if err := r.parseTokenFields(d); err != nil {
		return err
	}
	if r.DisplayName == "" {
		r.DisplayName = r.Name
	}
	return nil
}

func setString(d *logical.FieldData, name string, dst *string) {
	if v, ok, _ := d.GetOk(name); ok {
		*dst = v.(string)
	}
}

// parseTokenFields applies the sent token_* and deprecated fields onto r
// with Vault's upgrade rule: a token_* field wins and clears the copy of
// its deprecated twin; a deprecated field alone sets both. The oldest
// name, lease (seconds), applies only when neither token_ttl nor ttl is
// sent.
func (r *certRole) parseTokenFields(d *logical.FieldData) error {
	if v, ok, _ := d.GetOk("bound_cidrs"); ok && !sent(d, "token_bound_cidrs") {
		r.TokenBoundCIDRs = v.([]string)
	}
	if err := r.Params.Parse(d); err != nil {
		return err
	}
	upgrade(d, "policies", "token_policies", &r.Policies, r.TokenPolicies)
	upgrade(d, "ttl", "token_ttl", &r.TTL, r.TokenTTL)
	upgrade(d, "max_ttl", "token_max_ttl", &r.MaxTTL, r.TokenMaxTTL)
	upgrade(d, "period", "token_period", &r.Period, r.TokenPeriod)
	upgrade(d, "bound_cidrs", "token_bound_cidrs", &r.BoundCIDRs, r.TokenBoundCIDRs)
	if v, ok, _ := d.GetOk("lease"); ok && !sent(d, "token_ttl") && !sent(d, "ttl") {
		secs := v.(int)
		if secs < 0 {
			return logical.InvalidRequest("lease cannot be negative")
		}
		r.TTL = time.Duration(secs) * time.Second
		r.TokenTTL = r.TTL
		return r.Params.Validate()
	}
	return nil
}

func sent(d *logical.FieldData, name string) bool {
	_, ok, _ := d.GetOk(name)
	return ok
}

// upgrade sets the deprecated copy *old: cleared when the new field was
// sent, the effective value when only the old one was.
func upgrade[T any](d *logical.FieldData, oldName, newName string, old *T, effective T) {
	if sent(d, newName) {
		var zero T
		*old = zero
		return
	}
	if sent(d, oldName) {
		*old = effective
	}
}

// ttlWarnings warns, as Vault does, about token TTLs above the server's.
func (b *backend) ttlWarnings(r *certRole) *logical.Response {
	if b.system == nil {
		return nil
	}
	resp := &logical.Response{}
	def, max := b.system.DefaultLeaseTTL(), b.system.MaxLeaseTTL()
	if def > 0 && r.TokenTTL > def {
		resp.AddWarning(fmt.Sprintf("Given ttl of %d seconds is greater than current mount/system default of %d seconds",
			r.TokenTTL/time.Second, def/time.Second))
	}
	if max > 0 && r.TokenMaxTTL > max {
		resp.AddWarning(fmt.Sprintf("Given max_ttl of %d seconds is greater than current mount/system default of %d seconds",
			r.TokenMaxTTL/time.Second, max/time.Second))
	}
	if max > 0 && r.TokenPeriod > max {
		resp.AddWarning(fmt.Sprintf("Given period of %d seconds is greater than the backend's maximum TTL of %d seconds",
			r.TokenPeriod/time.Second, max/time.Second))
	}
	if len(resp.Warnings) == 0 {
		return nil
	}
	return resp
}
