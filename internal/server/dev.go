package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"

	"github.com/kinko-dev/kinko/internal/core"
)

// DevOptions configure dev mode.
type DevOptions struct {
	Address     string // default 127.0.0.1:8200; ":0" style for a random port
	RootTokenID string // default: random
	// StoragePath, when set, keeps data in a bolt file there instead of
	// in memory (durable writes, for benchmarks and restarts).
	StoragePath string
	// AuditDir bounds file audit devices enabled through the API; dev mode
	// defaults to the system temp directory.
	AuditDir string
}

// DevInfo is what dev mode prints.
type DevInfo struct {
	RootToken string
	UnsealKey string // base64
}

// StartDev starts an in-memory server, initialised with one key share,
// unsealed, with KV v2 mounted at secret/. Plain HTTP: for development only.
func StartDev(ctx context.Context, opts DevOptions, logger *slog.Logger) (*Server, *DevInfo, error) {
	if opts.Address == "" {
		opts.Address = "127.0.0.1:8200"
	}
	cfg := &Config{
		Storage:   StorageConfig{Type: "inmem"},
		Listeners: []ListenerConfig{{Type: "tcp", Address: opts.Address, TLSDisable: true}},
		UI:        true,
		AuditDir:  opts.AuditDir,
	}
	if cfg.AuditDir == "" {
		cfg.AuditDir = os.TempDir()
	}
	if opts.StoragePath != "" {
		cfg.Storage = StorageConfig{Type: "bolt", Options: map[string]string{"path": opts.StoragePath}}
	}
	s, err := Start(cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	info, err := devSetup(ctx, s.Core, opts.RootTokenID)
	if err != nil {
		s.Close(ctx)
		return nil, nil, err
	}
	return s, info, nil
}

func devSetup(ctx context.Context, c *core.Core, rootID string) (*DevInfo, error) {
	res, err := c.Init(ctx, core.SealConfig{SecretShares: 1, SecretThreshold: 1}, rootID)
	if err != nil {
		return nil, fmt.Errorf("dev init: %w", err)
	}
	info := &DevInfo{RootToken: res.RootToken, UnsealKey: base64.StdEncoding.EncodeToString(res.Keys[0])}
	if _, err := c.Unseal(ctx, res.Keys[0]); err != nil {
		return nil, fmt.Errorf("dev unseal: %w", err)
	}
	err = c.EnableMount(ctx, core.TableMounts, &core.MountEntry{Path: "secret", Type: "kv",
		Description: "key/value secret storage", Options: map[string]string{"version": "2"}})
	if err != nil {
		return nil, fmt.Errorf("dev mount secret/: %w", err)
	}
	return info, nil
}
