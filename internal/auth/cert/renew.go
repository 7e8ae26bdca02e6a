package cert

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Renewal refusals.
var (
	errRoleGone = logical.InvalidRequest("the certificate role of this token no longer exists, not renewing")
	// errOtherCert is a renewal over a connection presenting a certificate
	// other than the login's (403, as it proves a different identity).
	errOtherCert = logical.Errorf(logical.ErrPermissionDenied,
		"client identity during renewal not matching client identity used during login")
)

// renew answers core's renewal of a token a login minted, as Vault: the
// token's role must still exist and grant the token's policies, and unless
// config disable_binding is set, the renewing connection must present a
// certificate the role still trusts (chain, constraints, CRLs) with the
// key IDs of the login's certificate. The renewal then follows the role's
// current token TTLs.
func (b *backend) renew(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	name := normalizeName(req.Auth.Metadata["cert_name"])
	if name == "" {
		return nil, errRoleGone
	}
	r, err := b.loginRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errRoleGone
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if !cfg.DisableBinding {
		if err := b.checkBinding(ctx, req, r); err != nil {
			return nil, err
		}
	}
	if err := r.Params.CheckPolicies(req.Auth); err != nil {
		return nil, err
	}
	return &logical.Response{Auth: r.Params.RenewAuth(req.Auth)}, nil
}

// checkBinding verifies the renewing connection's certificate against
// role r, as at login, and that it is the login's certificate (or one
// with the same key IDs, such as a reissued one).
func (b *backend) checkBinding(ctx context.Context, req *logical.Request, r *parsedRole) error {
	if req.Conn == nil || req.Conn.ConnState == nil {
		return errNoTLS
	}
	peer := req.Conn.ConnState.PeerCertificates
	if len(peer) == 0 {
		return errNoCert
	}
	revoked, err := b.revokedSerials(ctx, req.Storage)
	if err != nil {
		return err
	}
	m := &matcher{now: b.now(), revoked: revoked}
	if _, err := m.match(peer, []*parsedRole{r}); err != nil {
		return err
	}
	if !sameIdentity(req.Auth, peer[0]) {
		return errOtherCert
	}
	return nil
}

// sameIdentity reports whether leaf has the subject and authority key IDs
// recorded at login (both must match; Vault accepts either). For a
// certificate without key IDs the serial number must match as well.
func sameIdentity(a *logical.Auth, leaf *x509.Certificate) bool {
	skid, _ := a.InternalData["subject_key_id"].(string)
	akid, _ := a.InternalData["authority_key_id"].(string)
	same := func(recorded string, id []byte) bool {
		return subtle.ConstantTimeCompare([]byte(recorded), []byte(base64.StdEncoding.EncodeToString(id))) == 1
	}
	if !same(skid, leaf.SubjectKeyId) || !same(akid, leaf.AuthorityKeyId) {
		return false
	}
	if skid == "" && akid == "" {
		return a.Metadata["serial_number"] == leaf.SerialNumber.String()
	}
	return true
}
