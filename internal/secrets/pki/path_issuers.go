package pki

import (
	"context"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathListIssuers() *logical.Path {
	return &logical.Path{
		Pattern:         `issuers/?`,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.issuersList},
		HelpSynopsis:    "List the issuers (CA certificates) of this mount.",
		HelpDescription: "keys are issuer ids; key_info gives each one's name, key id, serial and whether it is the default.",
	}
}

func (b *backend) issuersList(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	all, err := b.listIssuers(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	cfg, err := loadIssuersConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(all))
	info := make(map[string]any, len(all))
	for _, pi := range all {
		keys = append(keys, pi.entry.ID)
		info[pi.entry.ID] = map[string]any{
			"issuer_name":   pi.entry.Name,
			"is_default":    pi.entry.ID == cfg.Default,
			"key_id":        pi.entry.KeyID,
			"serial_number": formatSerial(pi.cert.SerialNumber),
		}
	}
	resp := logical.ListResponse(keys)
	resp.Data["key_info"] = info
	return resp, nil
}

func (b *backend) pathIssuer() *logical.Path {
	return &logical.Path{
		Pattern: `issuer/(?P<issuer_ref>[^/]+)`,
		Fields: map[string]*logical.FieldSchema{
			"issuer_ref":  {Type: logical.TypeString, Description: "Issuer id, name, or \"default\"."},
			"issuer_name": {Type: logical.TypeString, Description: "New name of the issuer."},
			"leaf_not_after_behavior": {Type: logical.TypeString, AllowedValues: leafBehaviors,
				Description: "What to do when a certificate would outlive the issuer: err, truncate or permit."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.issuerRead,
			logical.UpdateOperation: b.issuerUpdate,
			logical.DeleteOperation: b.issuerDelete,
		},
		HelpSynopsis:    "Read, rename or delete one issuer.",
		HelpDescription: "The reference is the issuer's id, its name, or \"default\".",
	}
}

func (b *backend) issuerRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	pi, err := b.resolveIssuer(ctx, req.Storage, d.Get("issuer_ref").(string))
	if err != nil {
		return nil, err
	}
	chain, err := b.issuerChain(ctx, req.Storage, pi)
	if err != nil {
		return nil, err
	}
	urls, err := loadURLs(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"issuer_id":                      pi.entry.ID,
		"issuer_name":                    pi.entry.Name,
		"key_id":                         pi.entry.KeyID,
		"certificate":                    pi.entry.Certificate,
		"ca_chain":                       chainPEM(chain),
		"manual_chain":                   nil,
		"leaf_not_after_behavior":        pi.entry.LeafNotAfterBehavior,
		"usage":                          "crl-signing,issuing-certificates,ocsp-signing,read-only",
		"revocation_signature_algorithm": "",
		"revoked":                        false,
		"issuing_certificates":           urls.IssuingCertificates,
		"crl_distribution_points":        urls.CRLDistributionPoints,
		"ocsp_servers":                   urls.OCSPServers,
	}), nil
}

func (b *backend) issuerUpdate(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	pi, err := b.resolveIssuer(ctx, req.Storage, d.Get("issuer_ref").(string))
	if err != nil {
		return nil, err
	}
	e := pi.entry
	if v, ok, _ := d.GetOk("issuer_name"); ok {
		all, err := b.listIssuers(ctx, req.Storage)
		if err != nil {
			return nil, err
		}
		if err := validIssuerName(v.(string), e.ID, all); err != nil {
			return nil, err
		}
		e.Name = v.(string)
	}
	if v, ok, _ := d.GetOk("leaf_not_after_behavior"); ok {
		e.LeafNotAfterBehavior = v.(string)
	}
	if err := logical.PutJSON(ctx, req.Storage, issuerPrefix+e.ID, e); err != nil {
		return nil, err
	}
	return b.issuerRead(ctx, req, &logical.FieldData{Raw: map[string]any{"issuer_ref": e.ID}, Schema: d.Schema})
}

// issuerDelete removes an issuer (not its key); deleting the default
// leaves the mount without one.
func (b *backend) issuerDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	pi, err := b.findIssuer(ctx, req.Storage, d.Get("issuer_ref").(string))
	if err != nil || pi == nil {
		return nil, err
	}
	if err := req.Storage.Delete(ctx, issuerPrefix+pi.entry.ID); err != nil {
		return nil, err
	}
	if err := req.Storage.Delete(ctx, crlPrefix+pi.entry.ID); err != nil {
		return nil, err
	}
	if err := b.rebuildChains(ctx, req.Storage); err != nil {
		return nil, err
	}
	cfg, err := loadIssuersConfig(ctx, req.Storage)
	if err != nil || cfg.Default != pi.entry.ID {
		return nil, err
	}
	cfg.Default = ""
	if err := logical.PutJSON(ctx, req.Storage, configIssuersKey, cfg); err != nil {
		return nil, err
	}
	resp := &logical.Response{}
	resp.AddWarning("Deleted the default issuer; set a new one with config/issuers.")
	return resp, nil
}

func (b *backend) pathConfigIssuers() *logical.Path {
	return &logical.Path{
		Pattern: `config/issuers`,
		Fields: map[string]*logical.FieldSchema{
			"default": {Type: logical.TypeString, Description: "Issuer id or name to use when a request names no issuer."},
			"default_follows_latest_issuer": {Type: logical.TypeBool,
				Description: "Accepted for compatibility; kinko keeps the default until it is changed."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.configIssuersRead,
			logical.UpdateOperation: b.configIssuersWrite,
		},
		HelpSynopsis:    "Read or set the default issuer.",
		HelpDescription: "The default issuer signs when a role or request uses issuer_ref \"default\", and serves ca, ca/pem and crl.",
	}
}

func (b *backend) configIssuersRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	cfg, err := loadIssuersConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"default": cfg.Default, "default_follows_latest_issuer": false}), nil
}

func (b *backend) configIssuersWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	ref, _ := d.Get("default").(string)
	if ref == "" || ref == defaultRef {
		return nil, logical.InvalidRequest("missing \"default\": give an issuer id or name")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	pi, err := b.resolveIssuer(ctx, req.Storage, ref)
	if err != nil {
		return nil, err
	}
	if err := logical.PutJSON(ctx, req.Storage, configIssuersKey, &issuersConfig{Default: pi.entry.ID}); err != nil {
		return nil, err
	}
	return b.configIssuersRead(ctx, req, d)
}
