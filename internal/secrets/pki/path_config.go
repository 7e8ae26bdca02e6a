package pki

import (
	"context"
	"net/url"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// urlsConfig holds the URLs written into issued certificates: where to
// fetch the issuer (AIA), the CRL, and the OCSP responder.
type urlsConfig struct {
	IssuingCertificates   []string `json:"issuing_certificates"`
	CRLDistributionPoints []string `json:"crl_distribution_points"`
	OCSPServers           []string `json:"ocsp_servers"`
}

func loadURLs(ctx context.Context, s logical.Storage) (*urlsConfig, error) {
	c := &urlsConfig{}
	if _, err := logical.GetJSON(ctx, s, configURLsKey, c); err != nil {
		return nil, err
	}
	for _, l := range []*[]string{&c.IssuingCertificates, &c.CRLDistributionPoints, &c.OCSPServers} {
		if *l == nil {
			*l = []string{}
		}
	}
	return c, nil
}

func (b *backend) pathConfigURLs() *logical.Path {
	return &logical.Path{
		Pattern: `config/urls`,
		Fields: map[string]*logical.FieldSchema{
			"issuing_certificates":    {Type: logical.TypeCommaStringSlice, Description: "URLs of the issuing certificate (AIA)."},
			"crl_distribution_points": {Type: logical.TypeCommaStringSlice, Description: "URLs of the CRL."},
			"ocsp_servers":            {Type: logical.TypeCommaStringSlice, Description: "URLs of the OCSP responder."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.urlsRead,
			logical.UpdateOperation: b.urlsWrite,
		},
		HelpSynopsis:    "Set the URLs written into issued certificates.",
		HelpDescription: "Each is a list of absolute URLs, e.g. https://kinko.example:8200/v1/pki/ocsp.",
	}
}

func (b *backend) urlsRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	c, err := loadURLs(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"issuing_certificates":    c.IssuingCertificates,
		"crl_distribution_points": c.CRLDistributionPoints,
		"ocsp_servers":            c.OCSPServers,
	}), nil
}

func (b *backend) urlsWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	c, err := loadURLs(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	fields := map[string]*[]string{
		"issuing_certificates": &c.IssuingCertificates, "crl_distribution_points": &c.CRLDistributionPoints, "ocsp_servers": &c.OCSPServers,
	}
	for name, dst := range fields {
		v, ok, _ := d.GetOk(name)
		if !ok {
			continue
		}
		list := v.([]string)
		for _, u := range list {
			if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
				return nil, logical.InvalidRequest("invalid URL %q in %s: use an absolute URL such as https://host/v1/pki/ca", u, name)
			}
		}
		*dst = list
	}
	return nil, logical.PutJSON(ctx, req.Storage, configURLsKey, c)
}

// crlConfig holds how long CRLs and OCSP responses are valid.
type crlConfig struct {
	Expiry      time.Duration `json:"expiry"`
	Disable     bool          `json:"disable"`
	OCSPDisable bool          `json:"ocsp_disable"`
	OCSPExpiry  time.Duration `json:"ocsp_expiry"`
}

// Vault's defaults.
const (
	defaultCRLExpiry  = 72 * time.Hour
	defaultOCSPExpiry = 12 * time.Hour
)

func loadCRLConfig(ctx context.Context, s logical.Storage) (*crlConfig, error) {
	c := &crlConfig{Expiry: defaultCRLExpiry, OCSPExpiry: defaultOCSPExpiry}
	if _, err := logical.GetJSON(ctx, s, configCRLKey, c); err != nil {
		return nil, err
	}
	return c, nil
}

func (b *backend) pathConfigCRL() *logical.Path {
	return &logical.Path{
		Pattern: `config/crl`,
		Fields: map[string]*logical.FieldSchema{
			"expiry":       {Type: logical.TypeDurationSecond, Default: "72h", Description: "How long a CRL is valid (nextUpdate)."},
			"disable":      {Type: logical.TypeBool, Description: "Publish empty CRLs."},
			"ocsp_disable": {Type: logical.TypeBool, Description: "Answer every OCSP request with unauthorized."},
			"ocsp_expiry":  {Type: logical.TypeDurationSecond, Default: "12h", Description: "How long an OCSP response is valid; 0 omits nextUpdate."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.crlConfigRead,
			logical.UpdateOperation: b.crlConfigWrite,
		},
		HelpSynopsis:    "Configure CRL and OCSP validity.",
		HelpDescription: "Changing the configuration rebuilds every CRL.",
	}
}

func (b *backend) crlConfigRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	c, err := loadCRLConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"expiry": c.Expiry.String(), "disable": c.Disable, "ocsp_disable": c.OCSPDisable, "ocsp_expiry": c.OCSPExpiry.String(),
	}), nil
}

func (b *backend) crlConfigWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := loadCRLConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if v, ok, _ := d.GetOk("expiry"); ok {
		if v.(time.Duration) < time.Minute {
			return nil, logical.InvalidRequest("expiry must be at least 1m")
		}
		c.Expiry = v.(time.Duration)
	}
	if v, ok, _ := d.GetOk("disable"); ok {
		c.Disable = v.(bool)
	}
	if v, ok, _ := d.GetOk("ocsp_disable"); ok {
		c.OCSPDisable = v.(bool)
	}
	if v, ok, _ := d.GetOk("ocsp_expiry"); ok {
		c.OCSPExpiry = v.(time.Duration)
	}
	if err := logical.PutJSON(ctx, req.Storage, configCRLKey, c); err != nil {
		return nil, err
	}
	return nil, b.rebuildCRLs(ctx, req.Storage)
}
