package cert

import (
	"context"
	"fmt"

	"github.com/kinko-dev/kinko/internal/logical"
)

// config holds the mount's settings.
type config struct {
	// DisableBinding skips, on renewal, checking that the client presents
	// a still-trusted certificate with the login certificate's key IDs.
	DisableBinding bool `json:"disable_binding"`
	// EnableIdentityAliasMetadata copies the login metadata onto the
	// identity alias.
	EnableIdentityAliasMetadata bool `json:"enable_identity_alias_metadata"`
	// OCSPCacheSize is stored for Vault compatibility; OCSP is not
	// supported.
	OCSPCacheSize int `json:"ocsp_cache_size"`
}

const (
	defaultOCSPCacheSize = 100
	maxOCSPCacheSize     = 100000
)

func (b *backend) pathConfig() *logical.Path {
	return &logical.Path{
		Pattern: "config",
		Fields: map[string]*logical.FieldSchema{
			"disable_binding": {Type: logical.TypeBool,
				Description: "Do not require renewals to present a trusted certificate with the key IDs of the login's."},
			"enable_identity_alias_metadata": {Type: logical.TypeBool,
				Description: "Store the login metadata (cert_name, common_name, serial_number, key ids, metadata extensions) on the identity alias."},
			"ocsp_cache_size": {Type: logical.TypeInt, Description: "Stored for compatibility (2 to 100000); OCSP is not supported."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.readConfig,
			logical.UpdateOperation: b.writeConfig,
		},
		HelpSynopsis:    "Configure the cert auth method.",
		HelpDescription: `Settings of the mount: disable_binding and enable_identity_alias_metadata.`,
	}
}

// loadConfig returns the stored config or the defaults.
func loadConfig(ctx context.Context, s logical.Storage) (*config, error) {
	c := &config{OCSPCacheSize: defaultOCSPCacheSize}
	if _, err := logical.GetJSON(ctx, s, configKey, c); err != nil {
		return nil, fmt.Errorf("cert: read config: %w", err)
	}
	return c, nil
}

func (b *backend) readConfig(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	c, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"disable_binding":                c.DisableBinding,
		"enable_identity_alias_metadata": c.EnableIdentityAliasMetadata,
		"ocsp_cache_size":                c.OCSPCacheSize,
	}), nil
}

func (b *backend) writeConfig(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	c, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if v, ok, _ := d.GetOk("disable_binding"); ok {
		c.DisableBinding = v.(bool)
	}
	if v, ok, _ := d.GetOk("enable_identity_alias_metadata"); ok {
		c.EnableIdentityAliasMetadata = v.(bool)
	}
	if v, ok, _ := d.GetOk("ocsp_cache_size"); ok {
		n := v.(int)
		if n < 2 || n > maxOCSPCacheSize {
			return nil, logical.InvalidRequest("invalid cache size, must be >= 2 and <= %d", maxOCSPCacheSize)
		}
		c.OCSPCacheSize = n
	}
	if err := logical.PutJSON(ctx, req.Storage, configKey, c); err != nil {
		return nil, fmt.Errorf("cert: write config: %w", err)
	}
	return nil, nil
}
