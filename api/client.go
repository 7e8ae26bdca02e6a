// Package api is kinko's public Go client for its Vault-compatible HTTP API.
//
// It speaks the same wire protocol as HashiCorp Vault: requests go to
// /v1/<path> with the token in the X-Vault-Token header, successful
// responses carry the JSON envelope decoded into Secret, and failures carry
// {"errors": [...]} decoded into *ResponseError. The package has no
// dependencies outside the standard library.
//
// Invariants:
//   - Every response body is read through a bounded reader
//     (Config.MaxResponseBytes); a larger body fails with ErrResponseTooLarge
//     instead of exhausting memory.
//   - The token is only ever sent as a header, never in a URL, so it cannot
//     leak into error messages, which include the request URL.
//   - Redirects are followed only to the same host, or to any host over
//     https, so the token never travels in clear text to a third party.
//   - A client built with a wrap TTL (Config.WrapTTL, SetWrapTTL) asks the
//     server to response-wrap every request (X-Vault-Wrap-TTL), except the
//     internal look-ups the client makes for itself (MountInfoForPath).
//
// Concurrency: a Client is safe for concurrent use by multiple goroutines;
// SetToken and SetWrapTTL may be called at any time and affect requests
// started afterwards.
package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Environment variables read by DefaultConfig. The KINKO_ names win over
// their VAULT_ fallbacks.
const (
	EnvAddress         = "KINKO_ADDR"
	EnvToken           = "KINKO_TOKEN"
	EnvCACert          = "KINKO_CACERT"
	EnvSkipVerify      = "KINKO_SKIP_VERIFY"
	EnvVaultAddress    = "VAULT_ADDR"
	EnvVaultToken      = "VAULT_TOKEN"
	EnvVaultCACert     = "VAULT_CACERT"
	EnvVaultSkipVerify = "VAULT_SKIP_VERIFY"
	EnvClientCert      = "KINKO_CLIENT_CERT"
	EnvClientKey       = "KINKO_CLIENT_KEY"
	EnvVaultClientCert = "VAULT_CLIENT_CERT"
	EnvVaultClientKey  = "VAULT_CLIENT_KEY"
	EnvWrapTTL         = "KINKO_WRAP_TTL"
	EnvVaultWrapTTL    = "VAULT_WRAP_TTL"
)

// wrapTTLHeader asks the server to response-wrap the answer for that long.
const wrapTTLHeader = "X-Vault-Wrap-TTL"

const (
	// DefaultAddress is used when neither Config.Address nor the
	// environment names a server.
	DefaultAddress = "https://127.0.0.1:8200"
	// DefaultMaxResponseBytes bounds every response body read by the client.
	DefaultMaxResponseBytes int64 = 32 << 20
	// DefaultTimeout is the whole-request timeout of the HTTP client built
	// by NewClient when Config.HTTPClient is nil.
	DefaultTimeout = 60 * time.Second
	maxRedirects   = 10
)

// ErrResponseTooLarge is returned when a response body exceeds
// Config.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("api: response body too large")

// TLSConfig configures the TLS side of the HTTP client that NewClient
// builds: which servers to trust and, for the cert auth method, which client
// certificate to present.
type TLSConfig struct {
	CACert   string // PEM file with the CA certificates to trust; system roots when empty
	Insecure bool   // skip server certificate verification (testing only)
	// ClientCert and ClientKey are PEM files of a client certificate and its
	// private key, presented when the server asks for one. Both or neither.
	ClientCert string
	ClientKey  string
}

// ErrClientCertPair is returned by NewClient when only one of
// TLSConfig.ClientCert and TLSConfig.ClientKey is set.
var ErrClientCertPair = errors.New("api: a client certificate needs both a certificate and a key file")

// Config configures a Client.
type Config struct {
	// Address of the server, e.g. https://127.0.0.1:8200. A path prefix is
	// kept (requests go to <prefix>/v1/...).
	Address string
	// Token sent as X-Vault-Token; may be empty for unauthenticated calls.
	Token string
	// HTTPClient to use. When nil, NewClient builds one from TLS and Timeout;
	// when set, TLS and Timeout are ignored and the client is used as is,
	// apart from its redirect policy, which is always replaced.
	HTTPClient *http.Client
	TLS        TLSConfig
	// Timeout for the HTTP client NewClient builds; DefaultTimeout when 0.
	Timeout time.Duration
	// MaxResponseBytes bounds response bodies; DefaultMaxResponseBytes when 0.
	MaxResponseBytes int64
	// WrapTTL, when set, asks the server to response-wrap every answer in a
	// single-use token living this long: a Go duration ("5m") or a number
	// of seconds ("300"). NewClient rejects other values.
	WrapTTL string
}

// DefaultConfig returns a Config read from the process environment; see
// ConfigFromEnv.
func DefaultConfig() *Config { return ConfigFromEnv(os.Getenv) }

// ConfigFromEnv returns a Config read through getenv: KINKO_ADDR (or
// VAULT_ADDR, default DefaultAddress), KINKO_TOKEN (or VAULT_TOKEN),
// KINKO_CACERT (or VAULT_CACERT) and KINKO_SKIP_VERIFY (or
// VAULT_SKIP_VERIFY; an unparsable value means false), KINKO_CLIENT_CERT and
// KINKO_CLIENT_KEY (or VAULT_CLIENT_CERT, VAULT_CLIENT_KEY) and
// KINKO_WRAP_TTL (or VAULT_WRAP_TTL; checked by NewClient).
func ConfigFromEnv(getenv func(string) string) *Config {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	cfg := &Config{
		Address: first(EnvAddress, EnvVaultAddress),
		Token:   first(EnvToken, EnvVaultToken),
		TLS: TLSConfig{
			CACert:     first(EnvCACert, EnvVaultCACert),
			ClientCert: first(EnvClientCert, EnvVaultClientCert),
			ClientKey:  first(EnvClientKey, EnvVaultClientKey),
		},
		WrapTTL: first(EnvWrapTTL, EnvVaultWrapTTL),
	}
	if cfg.Address == "" {
		cfg.Address = DefaultAddress
	}
	if v := first(EnvSkipVerify, EnvVaultSkipVerify); v != "" {
		cfg.TLS.Insecure, _ = strconv.ParseBool(v)
	}
	return cfg
}

// Client talks to one kinko (or Vault) server.
type Client struct {
	base    *url.URL
	http    *http.Client
	maxBody int64

	mu      sync.RWMutex
	token   string
	wrapTTL string // header value, "" for no wrapping
}

// NewClient builds a Client from cfg (DefaultConfig when nil).
func NewClient(cfg *Config) (*Client, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	base, err := url.Parse(strings.TrimRight(addr, "/"))
	if err != nil {
		return nil, fmt.Errorf("api: invalid address %q: %w", addr, err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("api: invalid address %q: want http(s)://host[:port]", addr)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc, err = buildHTTPClient(cfg)
		if err != nil {
			return nil, err
		}
	} else {
		copied := *hc
		hc = &copied
	}
	hc.CheckRedirect = checkRedirect
	maxBody := cfg.MaxResponseBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxResponseBytes
	}
	var wrap time.Duration
	if cfg.WrapTTL != "" {
		if wrap, err = ParseWrapTTL(cfg.WrapTTL); err != nil {
			return nil, err
		}
	}
	return &Client{base: base, http: hc, maxBody: maxBody, token: cfg.Token, wrapTTL: wrapHeader(wrap)}, nil
}

// ParseWrapTTL parses a wrap TTL as Config.WrapTTL takes it: a positive Go
// duration ("90s", "5m") or a positive number of seconds ("300").
func ParseWrapTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if n, nerr := strconv.ParseInt(s, 10, 64); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("api: invalid wrap TTL %q: want a duration of at least 1s, e.g. 5m or 300", s)
	}
	return d, nil
}

// wrapHeader renders d for X-Vault-Wrap-TTL in whole seconds ("" for 0).
func wrapHeader(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

func buildHTTPClient(cfg *Config) (*http.Client, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.TLS.Insecure} //nolint:gosec // opt-in
	if err := loadClientCert(tlsCfg, cfg.TLS); err != nil {
		return nil, err
	}
	if cfg.TLS.CACert != "" {
		pem, err := os.ReadFile(cfg.TLS.CACert)
		if err != nil {
			return nil, fmt.Errorf("api: reading CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("api: no PEM certificates found in %s", cfg.TLS.CACert)
		}
		tlsCfg.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// loadClientCert adds the client certificate of tc, if any, to cfg.
func loadClientCert(cfg *tls.Config, tc TLSConfig) error {
	if tc.ClientCert == "" && tc.ClientKey == "" {
		return nil
	}
	if tc.ClientCert == "" || tc.ClientKey == "" {
		return ErrClientCertPair
	}
	pair, err := tls.LoadX509KeyPair(tc.ClientCert, tc.ClientKey)
	if err != nil {
		return fmt.Errorf("api: loading client certificate: %w", err)
	}
	cfg.Certificates = []tls.Certificate{pair}
	return nil
}

// checkRedirect follows at most maxRedirects hops, and only to the same host
// or over https, because the X-Vault-Token header travels with the request.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("api: stopped after %d redirects", maxRedirects)
	}
	if req.URL.Host != via[0].URL.Host && req.URL.Scheme != "https" {
		return fmt.Errorf("api: refusing to follow redirect to %s over plain http", req.URL.Host)
	}
	return nil
}

// Address returns the server address the client was built with.
func (c *Client) Address() string { return c.base.String() }

// Token returns the token currently sent with requests.
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// SetToken changes the token sent with later requests ("" sends none).
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
}

// WrapTTL returns the wrap TTL sent with requests (0: none).
func (c *Client) WrapTTL() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, _ := ParseWrapTTL(c.wrapTTL)
	return d
}

// SetWrapTTL makes later requests ask for response wrapping with this TTL,
// rounded down to whole seconds; 0 turns wrapping off.
func (c *Client) SetWrapTTL(d time.Duration) {
	c.mu.Lock()
	c.wrapTTL = wrapHeader(d)
	c.mu.Unlock()
}

// WithToken returns a copy of the client that sends token; the copy shares
// the underlying HTTP client and connection pool, and keeps the wrap TTL.
func (c *Client) WithToken(token string) *Client {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return &Client{base: c.base, http: c.http, maxBody: c.maxBody, token: token, wrapTTL: c.wrapTTL}
}

// WithoutWrapping returns a copy of the client that never asks for response
// wrapping, for look-ups whose answer the caller must read itself.
func (c *Client) WithoutWrapping() *Client {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return &Client{base: c.base, http: c.http, maxBody: c.maxBody, token: c.token}
}

// Request is a raw API request for RawRequest.
type Request struct {
	Method string     // GET, PUT, POST, PATCH, DELETE, LIST, ...
	Path   string     // API path below /v1/, e.g. "secret/data/foo"
	Query  url.Values // optional query parameters
	// Body is sent as is when it is []byte or io.Reader, JSON-encoded
	// otherwise; nil sends no body.
	Body any
	// Header holds extra headers, e.g. Content-Type. An X-Vault-Wrap-TTL
	// here overrides the client's wrap TTL for this request.
	Header http.Header
}

// RawRequest sends r and returns the response. The body of the returned
// response is bounded by Config.MaxResponseBytes and must be closed by the
// caller. For a non-2xx status it returns the response (its body holds the
// bytes already read) together with a *ResponseError.
func (c *Client) RawRequest(ctx context.Context, r *Request) (*http.Response, error) {
	req, err := c.newHTTPRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err // a *url.Error naming the method and URL
	}
	resp.Body = &boundedBody{rc: resp.Body, left: c.maxBody}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	body, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if readErr != nil && !errors.Is(readErr, ErrResponseTooLarge) {
		return resp, fmt.Errorf("api: reading error response: %w", readErr)
	}
	return resp, newResponseError(r.Method, req.URL.Redacted(), resp.StatusCode, body)
}

func (c *Client) newHTTPRequest(ctx context.Context, r *Request) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + "/v1/" + strings.TrimLeft(r.Path, "/")
	u.RawPath = ""
	if len(r.Query) > 0 {
		u.RawQuery = r.Query.Encode()
	}
	body, isJSON, err := encodeBody(r.Body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("api: building request: %w", err)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if isJSON && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Vault-Request", "true")
	c.mu.RLock()
	tok, wrap := c.token, c.wrapTTL
	c.mu.RUnlock()
	if tok != "" {
		req.Header.Set("X-Vault-Token", tok)
	}
	if wrap != "" && req.Header.Get(wrapTTLHeader) == "" {
		req.Header.Set(wrapTTLHeader, wrap)
	}
	return req, nil
}

// encodeBody returns a reader for body (a *bytes.Reader where possible, so
// redirects can replay it) and whether it was JSON-encoded here.
func encodeBody(body any) (io.Reader, bool, error) {
	switch b := body.(type) {
	case nil:
		return nil, false, nil
	case []byte:
		return bytes.NewReader(b), false, nil
	case io.Reader:
		return b, false, nil
	}
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, false, fmt.Errorf("api: encoding request body: %w", err)
	}
	return bytes.NewReader(buf), true, nil
}

// boundedBody fails with ErrResponseTooLarge once more than left bytes have
// been read.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
}

var _ io.ReadCloser = (*boundedBody)(nil)

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrResponseTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), ErrResponseTooLarge
	}
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }
