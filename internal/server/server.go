// Package server assembles a running kinko server from a Config: storage
// backend, core (with the builtin engine registry), the HTTP API and its
// listeners. It also provides dev mode (in-memory, initialised, unsealed,
// KV v2 at secret/). cmd/kinko and internal/testserver both use it.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/awsapi"
	"github.com/kinko-dev/kinko/internal/builtin"
	"github.com/kinko-dev/kinko/internal/core"
	"github.com/kinko-dev/kinko/internal/httpapi"
	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/storage/bolt"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// Server is a running server.
type Server struct {
	Core      *core.Core
	Handler   http.Handler // the first listener's: the Vault API and the AWS API
	Addrs     []string     // actual listen addresses (host:port)
	logger    *slog.Logger
	servers   []*http.Server
	closeOnce sync.Once
	closeFns  []func() error
	errc      chan error
}

// OpenStorage opens the configured physical backend.
func OpenStorage(sc StorageConfig) (storage.Backend, func() error, error) {
	switch sc.Type {
	case "inmem":
		return inmem.New(), func() error { return nil }, nil
	case "bolt":
		p := sc.Options["path"]
		if p == "" {
			return nil, nil, fmt.Errorf("storage %q: path is required", sc.Type)
		}
		b, err := bolt.Open(p)
		if err != nil {
			return nil, nil, fmt.Errorf("storage %q: %w", sc.Type, err)
		}
		return b, b.Close, nil
	}
	return nil, nil, fmt.Errorf("storage type %q is not supported (use \"bolt\" or \"inmem\")", sc.Type)
}

// Start opens storage, builds the core (sealed unless the caller unseals
// it) and starts serving on every listener.
func Start(cfg *Config, logger *slog.Logger) (*Server, error) {
	phys, closeStorage, err := OpenStorage(cfg.Storage)
	if err != nil {
		return nil, err
	}
	c, err := core.New(core.Config{
		Physical: phys, StorageType: cfg.Storage.Type, Logger: logger,
		LogicalBackends: builtin.LogicalBackends(), CredentialBackends: builtin.CredentialBackends(),
		DefaultLeaseTTL: cfg.DefaultLeaseTTL, MaxLeaseTTL: cfg.MaxLeaseTTL,
		AuditDir: cfg.AuditDir, AuditDevices: cfg.AuditDevices,
	})
	if err != nil {
		_ = closeStorage()
		return nil, err
	}
	s := &Server{Core: c, logger: logger, errc: make(chan error, len(cfg.Listeners))}
	s.closeFns = append(s.closeFns, closeStorage)
	for _, l := range cfg.Listeners {
		if err := s.listen(l); err != nil {
			s.Close(context.Background())
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) listen(l ListenerConfig) error {
	hopts, aopts := httpapi.Options{Logger: s.logger, MaxRequestSize: l.MaxRequestSize}, awsapi.Options{Logger: s.logger}
	if l.RateLimit > 0 { // one budget per client across both APIs
		lim := httpapi.NewIPLimiter(l.RateLimit, l.RateBurst)
		hopts.Limiter, aopts.Allow = lim, lim.Allow
	}
	vh := httpapi.New(s.Core, hopts)
	aws := awsapi.New(s.Core, &awsapi.SigV4{Service: "secretsmanager", MaxSkew: 5 * time.Minute, Secret: s.Core.AccessKeySecret}, aopts)
	// one listener, two APIs: AWS JSON 1.1 requests carry X-Amz-Target
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if awsapi.IsAWSRequest(r) {
			aws.ServeHTTP(w, r)
			return
		}
		vh.ServeHTTP(w, r)
	})
	if s.Handler == nil {
		s.Handler = h
	}
	ln, err := net.Listen("tcp", l.Address)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", l.Address, err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)}
	if !l.TLSDisable {
		cert, err := tls.LoadX509KeyPair(l.TLSCertFile, l.TLSKeyFile)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("listener %s: load TLS key pair: %w", l.Address, err)
		}
		// Client certificates are requested, not required: the cert auth
		// method verifies them against its own trusted CAs.
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
			ClientAuth: tls.RequestClientCert}
		if l.TLSDisableClientCerts {
			hs.TLSConfig.ClientAuth = tls.NoClientCert
		}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	s.Addrs = append(s.Addrs, ln.Addr().String())
	s.servers = append(s.servers, hs)
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errc <- err
		}
	}()
	return nil
}

// Err reports a listener that stopped with an error.
func (s *Server) Err() <-chan error { return s.errc }

// Close stops the listeners gracefully, seals the core and closes storage.
func (s *Server) Close(ctx context.Context) {
	s.closeOnce.Do(func() {
		for _, hs := range s.servers {
			_ = hs.Shutdown(ctx)
		}
		s.Core.Shutdown(ctx)
		for _, f := range s.closeFns {
			if err := f(); err != nil {
				s.logger.Error("close failed", "error", err)
			}
		}
	})
}
