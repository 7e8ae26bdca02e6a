package autoauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/kinko-dev/kinko/api"
)

var _ Method = (*Cert)(nil)

// Cert logs in with a TLS client certificate (Vault Agent's cert method):
// the certificate and key files are read again at every login, so a
// certificate renewed on disk is picked up by the next login.
type Cert struct {
	// MountPath of the method (default "auth/cert").
	MountPath string
	// Role is the cert role to log in as (config "name"); empty lets the server pick the
	// role that matches the certificate.
	Role string
	// CACert, when set, is the PEM file of the CA that signed the server's
	// certificate; otherwise BaseTLS's roots are used.
	CACert string
	// ClientCert and ClientKey are the PEM files of the certificate and its
	// private key.
	ClientCert, ClientKey string
	// BaseTLS is the TLS configuration of the agent's connection to the
	// server (roots, skip-verify), which the login connection starts from.
	BaseTLS *tls.Config
}

// Name implements Method.
func (c *Cert) Name() string { return "cert" }

// Login implements Method: it logs in over a connection of its own that
// presents the certificate.
func (c *Cert) Login(ctx context.Context, base *api.Client) (*api.Secret, error) {
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	tr := &http.Transport{TLSClientConfig: tlsCfg, Proxy: http.ProxyFromEnvironment}
	defer tr.CloseIdleConnections()
	client, err := api.NewClient(&api.Config{Address: base.Address(), HTTPClient: &http.Client{Transport: tr, Timeout: api.DefaultTimeout}})
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	data := map[string]any{}
	if c.Role != "" {
		data["name"] = c.Role
	}
	return login(ctx, client, mountOr(c.MountPath, "auth/cert"), data)
}

// tlsConfig is BaseTLS with the client certificate and, when set, CACert.
func (c *Cert) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.BaseTLS != nil {
		cfg = c.BaseTLS.Clone()
	}
	if c.ClientCert == "" || c.ClientKey == "" {
		return nil, errors.New("client_cert and client_key are required")
	}
	pair, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
	if err != nil {
		return nil, fmt.Errorf("loading the client certificate: %w", err)
	}
	cfg.Certificates = []tls.Certificate{pair}
	cfg.GetClientCertificate = nil
	if c.CACert != "" {
		pem, err := os.ReadFile(c.CACert)
		if err != nil {
			return nil, fmt.Errorf("ca_cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_cert: no PEM certificate in %s", c.CACert)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
