package core

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/identity"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/policy"
	"github.com/kinko-dev/kinko/internal/storage"
	"github.com/kinko-dev/kinko/internal/token"
)

// Default lease TTLs (Vault's: 32 days).
const (
	DefaultLeaseTTL = 32 * 24 * time.Hour
	DefaultMaxTTL   = 32 * 24 * time.Hour
)

// Config configures a Core.
type Config struct {
	Physical storage.Backend
	// StorageType names the backend for seal-status ("bolt", "inmem").
	StorageType string
	Logger      *slog.Logger
	// LogicalBackends and CredentialBackends map engine type names to factories.
	LogicalBackends    map[string]logical.Factory
	CredentialBackends map[string]logical.Factory
	DefaultLeaseTTL    time.Duration
	MaxLeaseTTL        time.Duration
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// Core is one kinko server's state.
type Core struct {
	phys    storage.Backend
	barrier *barrier.Barrier
	logger  *slog.Logger
	conf    Config

	// unsealMu serialises init, unseal and seal.
	unsealMu sync.Mutex
	progress [][]byte // unseal key shares collected so far
	nonce    string   // identifies the unseal attempt in progress

	// mountMu serialises mount table changes.
	mountMu sync.Mutex

	state atomic.Pointer[unsealedState]
}

// unsealedState exists only while unsealed. It is replaced, never mutated,
// except for the router which is swapped atomically.
type unsealedState struct {
	router   atomic.Pointer[router]
	tokens   *token.Store
	policies *policy.Store
	identity *identity.Store
	mfa      mfaPendingStore
	cancel   context.CancelFunc
}

// New builds a sealed Core.
func New(conf Config) (*Core, error) {
	if conf.Physical == nil {
		return nil, errors.New("core: no physical storage")
	}
	if conf.Logger == nil {
		conf.Logger = slog.Default()
	}
	if conf.DefaultLeaseTTL == 0 {
		conf.DefaultLeaseTTL = DefaultLeaseTTL
	}
	if conf.MaxLeaseTTL == 0 {
		conf.MaxLeaseTTL = DefaultMaxTTL
	}
	if conf.Now == nil {
		conf.Now = time.Now
	}
	return &Core{
		phys:    conf.Physical,
		barrier: barrier.New(conf.Physical),
		logger:  conf.Logger,
		conf:    conf,
	}, nil
}

// Sealed reports whether the core is sealed.
func (c *Core) Sealed() bool { return c.state.Load() == nil }

// Logger returns the core's logger.
func (c *Core) Logger() *slog.Logger { return c.logger }

// Shutdown seals the core, stopping background work.
func (c *Core) Shutdown(ctx context.Context) {
	_ = c.Seal(ctx)
}
