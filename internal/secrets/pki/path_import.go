package pki

import (
	"context"
	"crypto"
	"crypto/x509"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathSetSigned() *logical.Path {
	return &logical.Path{
		Pattern: `intermediate/set-signed`,
		Fields: map[string]*logical.FieldSchema{
			"certificate": {Type: logical.TypeString, Required: true,
				Description: "PEM certificate of the intermediate CA, optionally followed by its chain."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
			return b.importPEM(ctx, req.Storage, d.Get("certificate").(string), true)
		}},
		HelpSynopsis:    "Import the signed certificate of an intermediate generated here.",
		HelpDescription: "The first certificate's key must be one this mount generated (intermediate/generate). Chain certificates become issuers without keys.",
	}
}

func (b *backend) pathImportBundle() *logical.Path {
	return &logical.Path{
		Pattern: `issuers/import/(cert|bundle)`,
		Fields: map[string]*logical.FieldSchema{
			"pem_bundle": {Type: logical.TypeString, Required: true, Description: "PEM CA certificates and (optionally) private keys."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.importHandler},
		HelpSynopsis:    "Import CA certificates and private keys as issuers.",
		HelpDescription: "Keys are matched to certificates by public key; certificates already present are reported, not duplicated.",
	}
}

func (b *backend) pathConfigCA() *logical.Path {
	return &logical.Path{
		Pattern: `config/ca`,
		Fields: map[string]*logical.FieldSchema{
			"pem_bundle": {Type: logical.TypeString, Required: true, Description: "PEM CA certificate and private key."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.importHandler},
		HelpSynopsis:    "Import a CA certificate and its key (legacy form of issuers/import/bundle).",
		HelpDescription: "Same as issuers/import/bundle.",
	}
}

func (b *backend) importHandler(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.importPEM(ctx, req.Storage, d.Get("pem_bundle").(string), false)
}

// importResult is what an import reports, in Vault's field names.
type importResult struct {
	importedIssuers, importedKeys, existingIssuers, existingKeys []string
	mapping                                                      map[string]any
}

// keyRef is a key id with its parsed key.
type keyRef struct {
	id     string
	signer crypto.Signer
}

// importPEM imports the certificates and keys of a PEM bundle. With
// needKey the first certificate must match a key already in the mount
// (or in the bundle). Everything is validated before anything is written.
func (b *backend) importPEM(ctx context.Context, s logical.Storage, text string, needKey bool) (*logical.Response, error) {
	pb, err := parsePEMBundle(text)
	if err != nil {
		return nil, err
	}
	for i, c := range pb.certs {
		if !c.BasicConstraintsValid || !c.IsCA {
			return nil, logical.InvalidRequest("certificate %d (CN %q) is not a CA certificate; only CA certificates can be imported as issuers", i+1, c.Subject.CommonName)
		}
	}
	if needKey && len(pb.certs) == 0 {
		return nil, logical.InvalidRequest("certificate must contain a PEM certificate")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	entries, signers, err := b.loadKeys(ctx, s)
	if err != nil {
		return nil, err
	}
	keys := make([]keyRef, len(entries))
	for i := range entries {
		keys[i] = keyRef{entries[i].ID, signers[i]}
	}
	if needKey && matchKey(keys, pb.certs[0].PublicKey) == "" && !bundleHasKey(pb, pb.certs[0].PublicKey) {
		return nil, logical.InvalidRequest("the certificate's public key does not match any key in this mount: generate the CSR with intermediate/generate first")
	}
	res := &importResult{mapping: map[string]any{}}
	if keys, err = b.importKeys(ctx, s, pb.keys, keys, res); err != nil {
		return nil, err
	}
	if err := b.importCerts(ctx, s, pb.certs, keys, res); err != nil {
		return nil, err
	}
	if err := b.rebuildChains(ctx, s); err != nil {
		return nil, err
	}
	if err := b.rebuildCRLs(ctx, s); err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"imported_issuers": nonNil(res.importedIssuers), "imported_keys": nonNil(res.importedKeys),
		"existing_issuers": nonNil(res.existingIssuers), "existing_keys": nonNil(res.existingKeys),
		"mapping": res.mapping,
	}), nil
}

func matchKey(keys []keyRef, pub crypto.PublicKey) string {
	for _, k := range keys {
		if samePublicKey(k.signer.Public(), pub) {
			return k.id
		}
	}
	return ""
}

func bundleHasKey(pb *pemBundle, pub crypto.PublicKey) bool {
	for _, k := range pb.keys {
		if samePublicKey(k.Public(), pub) {
			return true
		}
	}
	return false
}

// importKeys stores the bundle's keys not yet in the mount and returns
// the updated key list.
func (b *backend) importKeys(ctx context.Context, s logical.Storage, newKeys []crypto.Signer, keys []keyRef, res *importResult) ([]keyRef, error) {
	for _, k := range newKeys {
		if id := matchKey(keys, k.Public()); id != "" {
			res.existingKeys = append(res.existingKeys, id)
			continue
		}
		e, err := b.storeKey(ctx, s, k, "")
		if err != nil {
			return nil, err
		}
		keys = append(keys, keyRef{e.ID, k})
		res.importedKeys = append(res.importedKeys, e.ID)
	}
	return keys, nil
}

// importCerts adds the certificates not yet in the mount as issuers, and
// links an existing key-less issuer to a key that now matches.
func (b *backend) importCerts(ctx context.Context, s logical.Storage, certs []*x509.Certificate, keys []keyRef, res *importResult) error {
	existing, err := b.listIssuers(ctx, s)
	if err != nil {
		return err
	}
	for _, c := range certs {
		keyID := matchKey(keys, c.PublicKey)
		if pi := findCert(existing, c); pi != nil {
			res.existingIssuers = append(res.existingIssuers, pi.entry.ID)
			if pi.entry.KeyID == "" && keyID != "" {
				pi.entry.KeyID = keyID
				if err := logical.PutJSON(ctx, s, issuerPrefix+pi.entry.ID, pi.entry); err != nil {
					return err
				}
			}
			res.mapping[pi.entry.ID] = pi.entry.KeyID
			continue
		}
		e, err := b.addIssuer(ctx, s, c, keyID, "")
		if err != nil {
			return err
		}
		existing = append(existing, &parsedIssuer{entry: e, cert: c})
		res.importedIssuers = append(res.importedIssuers, e.ID)
		res.mapping[e.ID] = keyID
	}
	return ensureDefault(ctx, s, res.importedIssuers)
}

// ensureDefault makes the first imported issuer the default when the
// mount still has none (all imported issuers lacked keys).
func ensureDefault(ctx context.Context, s logical.Storage, imported []string) error {
	if len(imported) == 0 {
		return nil
	}
	cfg, err := loadIssuersConfig(ctx, s)
	if err != nil || cfg.Default != "" {
		return err
	}
	cfg.Default = imported[0]
	return logical.PutJSON(ctx, s, configIssuersKey, cfg)
}

func findCert(all []*parsedIssuer, c *x509.Certificate) *parsedIssuer {
	for _, pi := range all {
		if pi.cert.Equal(c) {
			return pi
		}
	}
	return nil
}
