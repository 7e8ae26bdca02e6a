// Package agent runs "kinko agent": it logs in to a kinko server on its
// own (auto-auth), keeps its token alive and writes it to sink files, and
// serves local applications through a caching proxy of the Vault API and
// an AWS Secrets Manager Agent-compatible endpoint, so that applications
// never hold long-lived credentials:
//
//	vault { address = "https://kinko.example:8200" }      # or kinko { ... }
//	auto_auth {
//	  method "approle" {
//	    config = {
//	      role_id_file_path   = "/etc/kinko/role-id"
//	      secret_id_file_path = "/etc/kinko/secret-id"
//	    }
//	  }
//	  sink "file" { config = { path = "/run/kinko/token", mode = 0600 } }
//	}
//	cache { ttl = "5m", refresh_interval = "30s" }
//	listener "tcp" { address = "127.0.0.1:8100", tls_disable = true }
//	aws_secrets_manager { port = 2773, ttl_seconds = 300 }
//	agent_token { file = "/etc/kinko/agent-token" }
//
// The parts live in their own packages: autoauth (login, renewal, sinks),
// proxy (the caching Vault-API proxy), awsagent (the AWS endpoint), ssrf
// (the guard every local request passes), cache (LRU and singleflight).
// This package parses the configuration and wires them together.
//
// Every request to a listener must carry the agent token, read from a file
// or an environment variable at start, in X-Kinko-Agent-Token (or
// X-Vault-Token, so unmodified Vault clients work with VAULT_TOKEN set to
// the agent token), or X-Aws-Parameters-Secrets-Token on the AWS
// endpoint; requests that were forwarded (X-Forwarded-For, Forwarded) or
// come from another host are refused unless allow_forwarded is set.
// Tokens and secret values are never logged.
package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/agent/autoauth"
	"github.com/kinko-dev/kinko/internal/agent/awsagent"
	"github.com/kinko-dev/kinko/internal/agent/proxy"
	"github.com/kinko-dev/kinko/internal/agent/ssrf"
	"github.com/kinko-dev/kinko/internal/agent/template"
)

// Options are what the configuration file does not say.
type Options struct {
	Logger *slog.Logger
	// Getenv reads the environment (KINKO_ADDR, VAULT_ADDR, the agent
	// token's variable); os.Getenv when nil.
	Getenv func(string) string
	// LoginBackoff is the first wait after a failed login (default 1s).
	LoginBackoff time.Duration
}

// Agent is a running agent.
type Agent struct {
	cfg    *Config
	log    *slog.Logger
	client *api.Client

	// Auth keeps the agent's token.
	Auth *autoauth.Manager
	// Proxy is the caching proxy (nil without listeners).
	Proxy *proxy.Proxy
	// AWS is the AWS Secrets Manager endpoint (nil without its block).
	AWS *awsagent.Server
	// Templates renders the template blocks (nil without any).
	Templates *template.Runner

	servers    []*http.Server
	proxyAddrs []string
	awsAddr    string

	cancel context.CancelFunc
	wg     sync.WaitGroup
	errc   chan error
	once   sync.Once
}

// MinAgentTokenLength is the shortest agent token accepted.
const MinAgentTokenLength = 16

// Start checks cfg, binds the listeners and starts the agent. With
// ExitAfterAuth no listener is started. Close stops it.
func Start(ctx context.Context, cfg *Config, opts Options) (*Agent, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	client, upstream, tr, err := newUpstream(cfg.Vault, opts.Getenv)
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: log, client: client, errc: make(chan error, 8)}
	a.Auth = autoauth.New(autoauth.Config{Method: method(cfg.AutoAuth.Method, tr, log), Sinks: sinks(cfg.AutoAuth.Sinks),
		Client: client, Logger: log, MinBackoff: opts.LoginBackoff, OnNewToken: a.tokenChanged})
	if !cfg.ExitAfterAuth {
		if err := a.listen(cfg, opts.Getenv, client, upstream, tr); err != nil {
			a.closeListeners()
			return nil, err
		}
	}
	var files []*template.File
	for _, fc := range cfg.Templates {
		f, err := template.NewFile(fc)
		if err != nil {
			a.closeListeners()
			return nil, err
		}
		files = append(files, f)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	a.goRun(func() { a.Auth.Run(runCtx) })
	if len(files) > 0 {
		a.Templates = &template.Runner{Files: files, Source: a.Source(), Interval: cfg.TemplateInterval,
			Logger: log.With("component", "template")}
		a.goRun(func() { a.Templates.Run(runCtx) })
	}
	if a.Proxy != nil {
		a.goRun(func() { a.Proxy.Run(runCtx) })
	}
	log.Info("agent started", "server", upstream.Redacted(), "proxy", a.proxyAddrs, "aws_secrets_manager", a.awsAddr)
	return a, nil
}

func (a *Agent) goRun(fn func()) {
	a.wg.Add(1)
	go func() { defer a.wg.Done(); fn() }()
}

func (a *Agent) tokenChanged(string) {
	if a.Proxy != nil {
		a.Proxy.TokenChanged()
	}
}

func method(m MethodConfig, tr *http.Transport, log *slog.Logger) autoauth.Method {
	log = log.With("component", "auto-auth", "method", m.Type)
	if m.Cert != nil {
		m.Cert.BaseTLS = tr.TLSClientConfig
		return m.Cert
	}
	if m.JWT != nil {
		m.JWT.Logger = log
		return m.JWT
	}
	m.AppRole.Logger = log
	return m.AppRole
}

func sinks(cfg []autoauth.FileSink) []*autoauth.FileSink {
	out := make([]*autoauth.FileSink, len(cfg))
	for i := range cfg {
		out[i] = &cfg[i]
	}
	return out
}

// newUpstream builds the client for the server: the config's address, or
// KINKO_ADDR / VAULT_ADDR; its CA certificate and skip-verify setting, or
// the environment's.
func newUpstream(v VaultConfig, getenv func(string) string) (*api.Client, *url.URL, *http.Transport, error) {
	env := api.ConfigFromEnv(getenv)
	addr, caFile, insecure := env.Address, env.TLS.CACert, env.TLS.Insecure
	if v.Address != "" {
		addr = v.Address
	}
	if v.CACert != "" {
		caFile = v.CACert
	}
	insecure = insecure || v.TLSSkipVerify
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // opt-in
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("vault ca_cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, nil, fmt.Errorf("vault ca_cert: no PEM certificate in %s", caFile)
		}
		tlsCfg.RootCAs = pool
	}
	if v.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(v.ClientCert, v.ClientKey)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("vault client_cert: %w", err)
		}
		tlsCfg.Certificates = []tls.Certificate{pair}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	tr.MaxIdleConnsPerHost = 64
	client, err := api.NewClient(&api.Config{Address: addr, HTTPClient: &http.Client{Transport: tr, Timeout: api.DefaultTimeout}})
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := url.Parse(client.Address())
	if err != nil {
		return nil, nil, nil, err
	}
	return client, u, tr, nil
}

// readAgentToken reads the SSRF token from its file or variable.
func readAgentToken(c AgentTokenConfig, getenv func(string) string) (string, error) {
	src, path := "file "+c.File, c.File
	if c.Env != "" {
		v := getenv(c.Env)
		src = "environment variable " + c.Env
		p, isFile := strings.CutPrefix(v, "file://")
		if !isFile {
			return checkAgentToken(src, strings.TrimSpace(v))
		}
		path = p
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("agent token: %w", err)
	}
	return checkAgentToken(src, strings.TrimSpace(string(b)))
}

func checkAgentToken(src, tok string) (string, error) {
	if len(tok) < MinAgentTokenLength {
		return "", fmt.Errorf("agent token from %s: want at least %d characters (e.g. openssl rand -hex 32)", src, MinAgentTokenLength)
	}
	return tok, nil
}

// listen binds the proxy listeners and the AWS endpoint.
func (a *Agent) listen(cfg *Config, getenv func(string) string, client *api.Client, upstream *url.URL, tr http.RoundTripper) error {
	if len(cfg.Listeners) == 0 && cfg.AWS == nil {
		return nil
	}
	tok, err := readAgentToken(cfg.AgentToken, getenv)
	if err != nil {
		return err
	}
	if len(cfg.Listeners) > 0 {
		a.Proxy = proxy.New(proxy.Config{Upstream: upstream, Transport: tr, Token: a.Auth.WaitToken, TTL: cfg.Cache.TTL,
			RefreshInterval: cfg.Cache.RefreshInterval, MaxEntries: cfg.Cache.MaxEntries, Logger: a.log,
			TokenMode: cfg.Cache.TokenMode, OnInvalidToken: a.Auth.Invalid})
		guard := ssrf.New(tok, cfg.AllowForwarded, a.log.With("component", "proxy"), ssrf.AgentTokenHeader, ssrf.VaultTokenHeader)
		h := guarded(guard, a.Proxy)
		for _, l := range cfg.Listeners {
			addr, err := a.serve(l.Address, h, l)
			if err != nil {
				return err
			}
			a.proxyAddrs = append(a.proxyAddrs, addr)
		}
	}
	if cfg.AWS != nil {
		guard := ssrf.New(tok, cfg.AllowForwarded, a.log.With("component", "aws-secrets-manager"), ssrf.AWSTokenHeader, ssrf.VaultTokenHeader)
		a.AWS = awsagent.New(awsagent.Config{Client: client, Token: a.Auth.WaitToken, Refused: a.Auth.CheckRefused, Guard: guard, Mount: cfg.AWS.Mount,
			TTL: cfg.AWS.TTL, CacheSize: cfg.AWS.CacheSize, MaxConn: cfg.AWS.MaxConn,
			IgnoreTransientErrors: cfg.AWS.IgnoreTransientErrors, Logger: a.log})
		if a.awsAddr, err = a.serve(cfg.AWS.Address, a.AWS, ListenerConfig{TLSDisable: true}); err != nil {
			return err
		}
	}
	return nil
}

// guarded refuses what the guard refuses, with Vault's error envelope.
func guarded(g *ssrf.Guard, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.Check(r); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = fmt.Fprintf(w, "{\"errors\":[%q]}\n", "agent: "+err.Error())
			return
		}
		g.Strip(r.Header)
		next.ServeHTTP(w, r)
	})
}

// serve binds addr and serves h on it; it returns the bound address.
func (a *Agent) serve(addr string, h http.Handler, l ListenerConfig) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", addr, err)
	}
	if !l.TLSDisable {
		cert, err := tls.LoadX509KeyPair(l.TLSCertFile, l.TLSKeyFile)
		if err != nil {
			ln.Close()
			return "", fmt.Errorf("listener %s: %w", addr, err)
		}
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}})
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	a.servers = append(a.servers, srv)
	a.goRun(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case a.errc <- fmt.Errorf("listener %s: %w", ln.Addr(), err):
			default:
			}
		}
	})
	return ln.Addr().String(), nil
}

// ProxyAddrs are the bound addresses of the proxy listeners.
func (a *Agent) ProxyAddrs() []string { return a.proxyAddrs }

// AWSAddr is the bound address of the AWS endpoint ("" without one).
func (a *Agent) AWSAddr() string { return a.awsAddr }

// Err reports a listener that stopped on its own.
func (a *Agent) Err() <-chan error { return a.errc }

// Close stops the listeners (waiting for requests in flight until ctx
// ends) and the background work. The token is not revoked: the sinks'
// readers may still use it.
func (a *Agent) Close(ctx context.Context) {
	a.once.Do(func() {
		for _, s := range a.servers {
			_ = s.Shutdown(ctx)
		}
		if a.cancel != nil {
			a.cancel()
		}
		a.wg.Wait()
		a.log.Info("agent stopped")
	})
}

func (a *Agent) closeListeners() {
	for _, s := range a.servers {
		_ = s.Close()
	}
	a.wg.Wait()
}
