// Package testserver starts a real, initialised and unsealed kinko server on
// a random loopback port for integration tests: the same code path as
// `kinko server -dev` (in-memory storage, KV v2 at secret/, plain HTTP).
// It is imported only by tests.
package testserver

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/server"
)

// Server is a running test server.
type Server struct {
	Addr      string // http://127.0.0.1:port
	RootToken string
	UnsealKey string // base64
	*server.Server
}

// Start starts a dev-mode server and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, server.DevOptions{})
}

// StartWith starts a dev-mode server with options (e.g. a bolt StoragePath).
// The address is always a random loopback port.
func StartWith(t testing.TB, opts server.DevOptions) *Server {
	t.Helper()
	opts.Address = "127.0.0.1:0"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, info, err := server.StartDev(context.Background(), opts, logger)
	if err != nil {
		t.Fatalf("start test server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return &Server{Addr: "http://" + s.Addrs[0], RootToken: info.RootToken, UnsealKey: info.UnsealKey, Server: s}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
