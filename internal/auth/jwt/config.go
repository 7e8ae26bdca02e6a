package jwt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/kinko-dev/kinko/internal/logical"
)

// config is the stored mount configuration. A write replaces it whole, as
// Vault's does.
type config struct {
	JWTValidationPubKeys []string `json:"jwt_validation_pubkeys"`
	JWKSURL              string   `json:"jwks_url"`
	JWKSCAPEM            string   `json:"jwks_ca_pem"`
	OIDCDiscoveryURL     string   `json:"oidc_discovery_url"`
	OIDCDiscoveryCAPEM   string   `json:"oidc_discovery_ca_pem"`
	BoundIssuer          string   `json:"bound_issuer"`
	JWTSupportedAlgs     []string `json:"jwt_supported_algs"`
	DefaultRole          string   `json:"default_role"`
	// OIDC authorization-code flow (roles of type "oidc").
	OIDCClientID      string   `json:"oidc_client_id"`
	OIDCClientSecret  string   `json:"oidc_client_secret"`
	OIDCResponseMode  string   `json:"oidc_response_mode"`
	OIDCResponseTypes []string `json:"oidc_response_types"`
}

// keyring is a config parsed for verification, cached with the stored
// bytes it came from. It is immutable except for the remote source's own
// synchronised cache.
type keyring struct {
	raw    []byte
	cfg    *config
	algs   []jose.SignatureAlgorithm
	static []any       // jwt_validation_pubkeys
	remote *remoteKeys // jwks_url or oidc_discovery_url
	tr     *http.Transport
}

func (k *keyring) close() {
	if k.tr != nil {
		k.tr.CloseIdleConnections()
	}
}

// validate checks the config is coherent and builds its keyring (without
// network access).
func (c *config) validate() (*keyring, error) {
	n := 0
	for _, set := range []bool{len(c.JWTValidationPubKeys) > 0, c.JWKSURL != "", c.OIDCDiscoveryURL != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, logical.InvalidRequest("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set")
	}
	if c.JWKSCAPEM != "" && c.JWKSURL == "" {
		return nil, logical.InvalidRequest("jwks_ca_pem can only be set together with jwks_url")
	}
	if c.OIDCDiscoveryCAPEM != "" && c.OIDCDiscoveryURL == "" {
		return nil, logical.InvalidRequest("oidc_discovery_ca_pem can only be set together with oidc_discovery_url")
	}
	if err := c.validateOIDC(); err != nil {
		return nil, err
	}
	k := &keyring{cfg: c}
	var err error
	if k.algs, err = parseAlgs(c.JWTSupportedAlgs); err != nil {
		return nil, err
	}
	switch {
	case len(c.JWTValidationPubKeys) > 0:
		k.static, err = parsePublicKeys(c.JWTValidationPubKeys)
	case c.JWKSURL != "":
		k.remote, k.tr, err = newRemote(c.JWKSURL, "", c.JWKSCAPEM, "jwks_ca_pem")
	default:
		k.remote, k.tr, err = newRemote("", c.OIDCDiscoveryURL, c.OIDCDiscoveryCAPEM, "oidc_discovery_ca_pem")
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// parseAlgs validates jwt_supported_algs; empty means every allowed one.
func parseAlgs(names []string) ([]jose.SignatureAlgorithm, error) {
	if len(names) == 0 {
		return allowedAlgs, nil
	}
	out := make([]jose.SignatureAlgorithm, 0, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		if !isAllowedAlg(n) {
			return nil, logical.InvalidRequest("invalid jwt_supported_algs: %q is not supported (use any of %s; \"none\" and HS* are never accepted)",
				n, strings.Join(algNames(), ", "))
		}
		out = append(out, jose.SignatureAlgorithm(n))
	}
	return out, nil
}

// parsePublicKeys parses PEM public keys (PKIX, PKCS#1 RSA or a
// certificate's key), one per entry.
func parsePublicKeys(pems []string) ([]any, error) {
	out := make([]any, 0, len(pems))
	for i, p := range pems {
		key, err := parsePublicKey(p)
		if err != nil {
			return nil, logical.InvalidRequest("error parsing public key %d of jwt_validation_pubkeys: %v", i+1, err)
		}
		out = append(out, key)
	}
	return out, nil
}

func parsePublicKey(p string) (any, error) {
	block, rest := pem.Decode([]byte(strings.TrimSpace(p)))
	if block == nil {
		return nil, fmt.Errorf("no PEM block found")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, fmt.Errorf("one PEM block per entry expected")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("unsupported PEM block type %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid key data")
	}
	if !usableKey(key) {
		return nil, fmt.Errorf("unsupported key: use RSA (at least %d bits), ECDSA P-256/P-384/P-521 or Ed25519", minRSABits)
	}
	return key, nil
}

// newRemote builds the key source of a JWKS or discovery URL with its own
// transport (custom CA roots when caPEM is set).
func newRemote(jwksURL, discoveryURL, caPEM, caField string) (*remoteKeys, *http.Transport, error) {
	for _, u := range []string{jwksURL, discoveryURL} {
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			return nil, nil, logical.InvalidRequest("invalid URL %q: use an http(s) URL", u)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, nil, logical.InvalidRequest("%s contains no PEM certificate", caField)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	r := &remoteKeys{client: newHTTPClient(tr), jwksURL: jwksURL, discoveryURL: strings.TrimSuffix(discoveryURL, "/")}
	return r, tr, nil
}

// response is the config as Vault's config read shows it.
func (c *config) response() map[string]any {
	return map[string]any{
		"jwt_validation_pubkeys": nonNil(c.JWTValidationPubKeys),
		"jwks_url":               c.JWKSURL,
		"jwks_ca_pem":            c.JWKSCAPEM,
		"oidc_discovery_url":     c.OIDCDiscoveryURL,
		"oidc_discovery_ca_pem":  c.OIDCDiscoveryCAPEM,
		"bound_issuer":           c.BoundIssuer,
		"jwt_supported_algs":     nonNil(c.JWTSupportedAlgs),
		"default_role":           c.DefaultRole,
		"oidc_client_id":         c.OIDCClientID,
		"oidc_response_mode":     c.OIDCResponseMode,
		"oidc_response_types":    nonNil(c.OIDCResponseTypes),
		"provider_config":        map[string]any{},
		"namespace_in_state":     false,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// keyringFor returns the keyring of the stored config (nil when there is
// none), reusing the cached one when the stored bytes are unchanged.
func (b *backend) keyringFor(ctx context.Context, s logical.Storage) (*keyring, error) {
	e, err := s.Get(ctx, configKey)
	if err != nil || e == nil {
		return nil, err
	}
	if k := b.cur.Load(); k != nil && string(k.raw) == string(e.Value) {
		return k, nil
	}
	b.curMu.Lock()
	defer b.curMu.Unlock()
	if k := b.cur.Load(); k != nil && string(k.raw) == string(e.Value) {
		return k, nil
	}
	var c config
	if err := json.Unmarshal(e.Value, &c); err != nil {
		return nil, fmt.Errorf("jwt: decode config: %w", err)
	}
	k, err := c.validate()
	if err != nil {
		return nil, fmt.Errorf("jwt: stored config is invalid: %w", err)
	}
	k.raw = e.Value
	if old := b.cur.Swap(k); old != nil {
		old.close()
	}
	return k, nil
}

// OIDC response modes and types (config oidc_response_mode and
// oidc_response_types).
const (
	responseModeQuery    = "query"
	responseModeFormPost = "form_post"
	responseTypeCode     = "code"
	responseTypeIDToken  = "id_token"
)

// validateOIDC checks the OIDC client settings as Vault does: a client
// secret needs a client ID, a client ID needs a discovery URL (the flow's
// endpoints and keys come from it), and the id_token response type (the
// implicit flow) is only delivered by form_post.
func (c *config) validateOIDC() error {
	switch {
	case c.OIDCClientSecret != "" && c.OIDCClientID == "":
		return logical.InvalidRequest("both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC")
	case c.OIDCClientID != "" && c.OIDCDiscoveryURL == "":
		return logical.InvalidRequest("'oidc_discovery_url' must be set for OIDC")
	}
	switch c.OIDCResponseMode {
	case "", responseModeQuery, responseModeFormPost:
	default:
		return logical.InvalidRequest("invalid response_mode: %q (use \"query\" or \"form_post\")", c.OIDCResponseMode)
	}
	for _, t := range c.OIDCResponseTypes {
		switch t {
		case responseTypeCode:
		case responseTypeIDToken:
			if c.OIDCResponseMode != responseModeFormPost {
				return logical.InvalidRequest("response_type 'id_token' requires response_mode 'form_post'")
			}
		default:
			return logical.InvalidRequest("invalid response_type: %q (use \"code\" or \"id_token\")", t)
		}
	}
	return nil
}

// responseTypes are the OIDC response types to request ("code" unless
// configured).
func (c *config) responseTypes() []string {
	if len(c.OIDCResponseTypes) == 0 {
		return []string{responseTypeCode}
	}
	return c.OIDCResponseTypes
}
