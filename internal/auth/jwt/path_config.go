package jwt

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// configCheckTimeout bounds the key fetch a config write makes.
const configCheckTimeout = 15 * time.Second

func (b *backend) pathConfig() *logical.Path {
	return &logical.Path{
		Pattern: "config",
		Fields: map[string]*logical.FieldSchema{
			"jwt_validation_pubkeys": {Type: logical.TypeCommaStringSlice, Description: "PEM public keys (or certificates) that verify JWTs."},
			"jwks_url":               {Type: logical.TypeString, Description: "URL of a JWKS whose keys verify JWTs."},
			"jwks_ca_pem":            {Type: logical.TypeString, Description: "PEM CA certificates trusted for jwks_url (system roots when empty)."},
			"oidc_discovery_url":     {Type: logical.TypeString, Description: "OIDC issuer URL whose discovery document names the JWKS."},
			"oidc_discovery_ca_pem":  {Type: logical.TypeString, Description: "PEM CA certificates trusted for oidc_discovery_url."},
			"bound_issuer":           {Type: logical.TypeString, Description: "The token's iss claim must equal this."},
			"jwt_supported_algs":     {Type: logical.TypeCommaStringSlice, Description: "Accepted signature algorithms (default: every RS*, PS*, ES* and EdDSA)."},
			"default_role":           {Type: logical.TypeString, Description: "Role used by logins that name none."},
			"oidc_client_id":         {Type: logical.TypeString, Description: "OAuth client ID at the OIDC provider (for roles of type \"oidc\")."},
			"oidc_client_secret":     {Type: logical.TypeString, Description: "OAuth client secret at the OIDC provider (never returned by a read)."},
			"oidc_response_mode":     {Type: logical.TypeString, Description: `How the provider returns the result: "query" (default) or "form_post".`},
			"oidc_response_types": {Type: logical.TypeCommaStringSlice,
				Description: `Response types to request: "code" (default) and/or "id_token" (form_post only).`},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.configRead,
			logical.UpdateOperation: b.configWrite,
		},
		HelpSynopsis: "Configure the keys that verify JWTs and the OIDC client.",
		HelpDescription: `Exactly one of jwt_validation_pubkeys, jwks_url and oidc_discovery_url must be
set. A JWKS or discovery URL is fetched when the config is written, so a
mistake shows at once. The OIDC browser login (roles of type "oidc") needs
oidc_discovery_url and oidc_client_id (and usually oidc_client_secret). A
write replaces the whole configuration; the client secret is never read back.`,
	}
}

func (b *backend) configRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	var c config
	found, err := logical.GetJSON(ctx, req.Storage, configKey, &c)
	if err != nil || !found {
		return nil, err
	}
	return &logical.Response{Data: c.response()}, nil
}

func (b *backend) configWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	c := &config{
		JWTValidationPubKeys: d.Get("jwt_validation_pubkeys").([]string),
		JWKSURL:              d.Get("jwks_url").(string),
		JWKSCAPEM:            d.Get("jwks_ca_pem").(string),
		OIDCDiscoveryURL:     d.Get("oidc_discovery_url").(string),
		OIDCDiscoveryCAPEM:   d.Get("oidc_discovery_ca_pem").(string),
		BoundIssuer:          d.Get("bound_issuer").(string),
		JWTSupportedAlgs:     d.Get("jwt_supported_algs").([]string),
		DefaultRole:          normalizeName(d.Get("default_role").(string)),
		OIDCClientID:         d.Get("oidc_client_id").(string),
		OIDCClientSecret:     d.Get("oidc_client_secret").(string),
		OIDCResponseMode:     strings.TrimSpace(d.Get("oidc_response_mode").(string)),
	}
	for _, t := range d.Get("oidc_response_types").([]string) {
		if t = strings.TrimSpace(t); t != "" {
			c.OIDCResponseTypes = append(c.OIDCResponseTypes, t)
		}
	}
	k, err := c.validate()
	if err != nil {
		return nil, err
	}
	if k.remote != nil {
		cctx, cancel := context.WithTimeout(ctx, configCheckTimeout)
		err := k.remote.check(cctx, b.now())
		cancel()
		if err != nil {
			k.close()
			what := "jwks URL"
			if c.OIDCDiscoveryURL != "" {
				what = "oidc discovery URL"
			}
			if errors.Is(err, errFetch) {
				return nil, logical.InvalidRequest("error checking %s: %v", what, err)
			}
			return nil, err
		}
		if err := checkOIDCEndpoints(ctx, k); err != nil {
			k.close()
			return nil, err
		}
	}
	b.curMu.Lock()
	defer b.curMu.Unlock()
	if err := logical.PutJSON(ctx, req.Storage, configKey, c); err != nil {
		k.close()
		return nil, err
	}
	// Seed the cache with the keys just fetched; the next login's config
	// read compares bytes, so re-marshal the same way PutJSON did.
	if e, err := req.Storage.Get(ctx, configKey); err == nil && e != nil {
		k.raw = e.Value
		if old := b.cur.Swap(k); old != nil {
			old.close()
		}
	} else {
		k.close()
	}
	return nil, nil
}

// checkOIDCEndpoints requires, of a config with an OIDC client, that the
// discovery document names usable authorization and token endpoints.
func checkOIDCEndpoints(ctx context.Context, k *keyring) error {
	if k.cfg.OIDCClientID == "" {
		return nil
	}
	meta, err := k.remote.provider(ctx)
	if err != nil {
		return logical.InvalidRequest("error checking oidc discovery URL: %v", err)
	}
	for name, ep := range map[string]string{"authorization_endpoint": meta.AuthorizationEndpoint, "token_endpoint": meta.TokenEndpoint} {
		if _, err := providerEndpoint(ep, k.remote.discoveryURL); err != nil {
			return logical.InvalidRequest("error checking oidc discovery URL: the discovery document's %s is %v", name, err)
		}
	}
	return nil
}
