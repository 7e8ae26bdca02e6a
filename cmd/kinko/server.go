package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinko-dev/kinko/internal/server"
)

type serverFlags struct {
	config, devRootToken, devAddr, logLevel, logFormat string
	dev                                                bool
}

// newServerCmd builds `kinko server`.
func newServerCmd(c *cli) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Start a kinko server",
		Long: `Start a kinko server. With -config, storage and listeners come from an HCL
file in Vault's format; the server starts sealed (initialise it once with
"kinko operator init", then unseal it with "kinko operator unseal").

With -dev, an in-memory server starts initialised and unsealed, with KV v2
mounted at secret/ and plain HTTP on 127.0.0.1:8200. Never use dev mode for
real secrets: everything is lost when it stops.`,
		Example: `  kinko server -dev
  kinko server -dev -dev-root-token-id=root -dev-listen-address=127.0.0.1:8300
  kinko server -config=/etc/kinko/kinko.hcl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runServer(cmd, c, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "path to the HCL server configuration file")
	fl.BoolVar(&f.dev, "dev", false, "start an in-memory, unsealed development server")
	fl.StringVar(&f.devRootToken, "dev-root-token-id", "", "root token to create in dev mode (default random)")
	fl.StringVar(&f.devAddr, "dev-listen-address", "127.0.0.1:8200", "address the dev server listens on")
	fl.StringVar(&f.logLevel, "log-level", "", "log level: debug, info, warn, error (default info)")
	fl.StringVar(&f.logFormat, "log-format", "", "log format: standard or json (default standard)")
	return cmd
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if level == "" {
		level = "info"
	}
	if err := lv.UnmarshalText([]byte(strings.ToLower(level))); err != nil {
		return nil, fmt.Errorf("invalid log level %q (use debug, info, warn or error)", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "", "standard", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid log format %q (use standard or json)", format)
}

func runServer(cmd *cobra.Command, c *cli, f serverFlags) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cfg *server.Config
	if !f.dev {
		if f.config == "" {
			return fmt.Errorf("either -config or -dev is required")
		}
		var err error
		if cfg, err = server.LoadConfig(f.config); err != nil {
			return err
		}
		if f.logLevel == "" {
			f.logLevel = cfg.LogLevel
		}
		if f.logFormat == "" {
			f.logFormat = cfg.LogFormat
		}
	}
	logger, err := newLogger(cmd.ErrOrStderr(), f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	var s *server.Server
	if f.dev {
		var info *server.DevInfo
		s, info, err = server.StartDev(ctx, server.DevOptions{Address: f.devAddr, RootTokenID: f.devRootToken}, logger)
		if err == nil {
			// as Vault's dev mode: the CLI is logged in with the root token
			if terr := c.storeToken(info.RootToken); terr != nil {
				logger.Warn("could not store the root token in the token file", "error", terr)
			}
			printDevBanner(cmd.OutOrStdout(), s.Addrs[0], info)
		}
	} else {
		s, err = server.Start(cfg, logger)
		if err == nil {
			logger.Info("kinko server started", "addresses", s.Addrs, "storage", cfg.Storage.Type)
		}
	}
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case err = <-s.Err():
			break wait
		case <-hup:
			// as Vault: SIGHUP reopens the audit files (log rotation)
			if rerr := s.Core.ReopenAudit(); rerr != nil {
				logger.Error("reopening audit devices failed", "error", rerr)
			} else {
				logger.Info("audit devices reopened")
			}
		}
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Close(sctx)
	return err
}

func printDevBanner(w io.Writer, addr string, info *server.DevInfo) {
	fmt.Fprintf(w, `==> kinko server started in DEV mode. Log data will stream in below.

WARNING! dev mode is enabled! In this mode, kinko runs entirely in memory
and starts unsealed with a single unseal key. The root token is already
stored in ~/.kinko-token, so the CLI can be used at once.

You may need to set the following environment variables:

    $ export KINKO_ADDR='http://%[1]s'
    $ export VAULT_ADDR='http://%[1]s'

The unseal key and root token are displayed below in case you want to
seal/unseal the server or re-authenticate.

Unseal Key: %[2]s
Root Token: %[3]s

Development mode should NOT be used in production installations!
`, addr, info.UnsealKey, info.RootToken)
}
