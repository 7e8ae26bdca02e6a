package cert

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"strings"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathLogin() *logical.Path {
	return &logical.Path{
		Pattern: "login",
		Fields: map[string]*logical.FieldSchema{
			"name": {Type: logical.TypeString,
				Description: "Name of the certificate role to authenticate against; every role is tried when empty."},
		},
		Operations:   map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.login},
		HelpSynopsis: "Log in with the TLS client certificate of the connection.",
		HelpDescription: `Trades the client certificate presented in the TLS handshake for a token.
The certificate must chain to a trusted CA of a role (or be the certificate a
role pins) and meet that role's constraints.`,
	}
}

// login verifies the connection's client certificate and returns the token
// to mint. It only reads storage.
func (b *backend) login(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if req.Conn == nil || req.Conn.ConnState == nil {
		return nil, errNoTLS
	}
	peer := req.Conn.ConnState.PeerCertificates
	if len(peer) == 0 {
		return nil, errNoCert
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	roles, err := b.candidateRoles(ctx, req.Storage, normalizeName(d.Get("name").(string)))
	if err != nil {
		return nil, err
	}
	revoked, err := b.revokedSerials(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	m := &matcher{now: b.now(), revoked: revoked}
	r, err := m.match(peer, roles)
	if err != nil {
		return nil, err
	}
	if !tokenutil.RemoteAllowed(r.TokenBoundCIDRs, req.Conn.RemoteAddr) {
		return nil, errDenied
	}
	return &logical.Response{Auth: loginAuth(r, peer[0], cfg)}, nil
}

// candidateRoles returns the role named name, or every role (in name
// order) when name is empty. An unknown name gives no roles, so the login
// is refused as for an untrusted certificate.
func (b *backend) candidateRoles(ctx context.Context, s logical.Storage, name string) ([]*parsedRole, error) {
	names := []string{name}
	if name == "" {
		var err error
		if names, err = s.List(ctx, rolePrefix); err != nil {
			return nil, err
		}
	}
	roles := make([]*parsedRole, 0, len(names))
	for _, n := range names {
		if strings.HasSuffix(n, "/") {
			continue
		}
		r, err := b.loginRole(ctx, s, n)
		if err != nil {
			return nil, err
		}
		if r != nil { // nil: unknown, or deleted since the list
			roles = append(roles, r)
		}
	}
	return roles, nil
}

// loginAuth is the token request of a successful login, as Vault builds
// it: the alias is the certificate's Common Name, the display name the
// role's display_name.
func loginAuth(r *parsedRole, leaf *x509.Certificate, cfg *config) *logical.Auth {
	md := map[string]string{
		"cert_name":        r.Name,
		"common_name":      leaf.Subject.CommonName,
		"serial_number":    leaf.SerialNumber.String(),
		"subject_key_id":   hexColons(leaf.SubjectKeyId),
		"authority_key_id": hexColons(leaf.AuthorityKeyId),
	}
	for oid, key := range r.metadataKeys {
		if v, ok := extensionString(leaf, oid); ok {
			md[key] = v
		}
	}
	a := &logical.Auth{
		Metadata:    md,
		DisplayName: r.DisplayName,
		Alias:       &logical.Alias{Name: aliasName(leaf)},
		InternalData: map[string]any{
			"subject_key_id":   base64.StdEncoding.EncodeToString(leaf.SubjectKeyId),
			"authority_key_id": base64.StdEncoding.EncodeToString(leaf.AuthorityKeyId),
		},
	}
	if cfg.EnableIdentityAliasMetadata {
		a.Alias.Metadata = maps.Clone(md)
	}
	r.Params.PopulateAuth(a)
	return a
}

// aliasName is the Common Name, as Vault. A certificate without one (only
// SANs) would give Vault an empty alias; kinko falls back to the first DNS,
// email or URI SAN, then the serial number, so such certificates can log
// in and map to a stable identity.
func aliasName(leaf *x509.Certificate) string {
	switch {
	case leaf.Subject.CommonName != "":
		return leaf.Subject.CommonName
	case len(leaf.DNSNames) > 0:
		return leaf.DNSNames[0]
	case len(leaf.EmailAddresses) > 0:
		return leaf.EmailAddresses[0]
	case len(leaf.URIs) > 0:
		return leaf.URIs[0].String()
	}
	return "serial:" + leaf.SerialNumber.String()
}

// hexColons formats b as lower-case hex bytes joined by ':' (Vault's
// certutil.GetHexFormatted).
func hexColons(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(len(b) * 3)
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(hex.EncodeToString([]byte{c}))
	}
	return sb.String()
}
