package core

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinko-dev/kinko/internal/audit"
	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/detect"
	"github.com/kinko-dev/kinko/internal/detect/alert"
	"github.com/kinko-dev/kinko/internal/expiration"
	"github.com/kinko-dev/kinko/internal/identity"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/passwordpolicy"
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
	// AuditDir bounds where file audit devices enabled through the API may
	// write ("" refuses them); AuditDevices are declared in the config file.
	AuditDir     string
	AuditDevices []audit.Config
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

	// audit records every request; its devices are enabled while unsealed.
	audit *audit.Broker
	// revoked remembers recently revoked tokens for the detector.
	revoked revokedTokens
	// alerts delivers the detector's findings to the configured sinks.
	alerts *alert.Dispatcher
	// denied counts requests refused for lack of permission.
	denied prometheus.Counter
	// leaseRevocations counts leases revoked (expired or asked).
	leaseRevocations prometheus.Counter
}

// unsealedState exists only while unsealed. It is replaced, never mutated,
// except for the router which is swapped atomically.
type unsealedState struct {
	router   atomic.Pointer[router]
	tokens   *token.Store
	policies *policy.Store
	identity *identity.Store
	mfa      mfaPendingStore
	detector observer
	// detectorImpl is the same detector, for its API paths and metrics.
	detectorImpl *detect.Detector
	// leases registers, renews and revokes the leases of dynamic secrets.
	leases *expiration.Manager
	// tokenWatch revokes tokens holding leases when they expire.
	tokenWatch *tokenWatch
	// accessKeys are the AWS-style keys that stand for tokens.
	accessKeys *accessKeys
	// passwords holds the password policies (sys/policies/password).
	passwords *passwordpolicy.Store
	cancel    context.CancelFunc
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
		audit:   audit.NewBroker(conf.Logger),
		alerts:  alert.NewDispatcher(alert.DispatcherOptions{Logger: conf.Logger}),
		denied: prometheus.NewCounter(prometheus.CounterOpts{Name: "kinko_requests_denied_total",
			Help: "Requests refused for lack of permission (no, invalid or revoked token, or policy)."}),
		leaseRevocations: prometheus.NewCounter(prometheus.CounterOpts{Name: "kinko_lease_revocations_total",
			Help: "Leases revoked, on expiry or on request."}),
	}, nil
}

// Sealed reports whether the core is sealed.
func (c *Core) Sealed() bool { return c.state.Load() == nil }

// Logger returns the core's logger.
func (c *Core) Logger() *slog.Logger { return c.logger }

// Shutdown seals the core, stopping background work.
func (c *Core) Shutdown(ctx context.Context) {
	_ = c.Seal(ctx)
	_ = c.alerts.Close(ctx)
}
