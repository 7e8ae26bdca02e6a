package expiration

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/randstr"
	"github.com/kinko-dev/kinko/internal/schedule"
	"github.com/kinko-dev/kinko/internal/storage"
)

// Backend reaches the engine that issued a lease. Core implements it by
// routing the lease's path to its mount.
type Backend interface {
	// RevokeLease asks the engine to undo the lease; nil means done (also
	// when the thing was already gone).
	RevokeLease(ctx context.Context, l *Lease, s *logical.Secret) error
	// RenewLease asks the engine to extend the lease by s.TTL; the
	// response's Secret holds the TTL (and MaxTTL) the engine grants.
	RenewLease(ctx context.Context, l *Lease, s *logical.Secret) (*logical.Response, error)
}

// Options tune a Manager; zero values take the defaults.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// Workers is how many revocations run at once (default 32).
	Workers int
	// RetryBase and RetryMax bound the backoff between attempts to revoke
	// a lease whose engine failed (default 1s, 5m).
	RetryBase, RetryMax time.Duration
	// OnRevoked, if set, is called after a lease was revoked (metrics).
	OnRevoked func(l *Lease)
}

// Manager keeps leases: it registers, renews and revokes them and revokes
// them when they expire.
type Manager struct {
	view    logical.Storage
	backend Backend
	opts    Options

	mu    sync.Mutex
	queue schedule.Queue[string]
	// deferred leases came due while claimed; the claim's release makes
	// them due again
	deferred map[string]bool
	inflight map[string]bool
	claims   map[string]chan struct{}
	wake     chan struct{}
	work     chan string
	stop     context.CancelFunc
	done     sync.WaitGroup
}

// New returns a stopped Manager over view (the barrier view that holds
// leases).
func New(view logical.Storage, b Backend, opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Workers <= 0 {
		opts.Workers = 32
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 5 * time.Minute
	}
	return &Manager{view: view, backend: b, opts: opts, deferred: map[string]bool{},
		inflight: map[string]bool{}, claims: map[string]chan struct{}{}, wake: make(chan struct{}, 1), work: make(chan string, 1024)}
}

// Start loads every lease from storage, schedules it and starts the
// scheduler and the workers; they run until Stop or ctx is done.
func (m *Manager) Start(ctx context.Context) (int, error) {
	n := 0
	err := logical.ScanKeys(ctx, m.view, leasePrefix, func(key string) error {
		l, err := m.load(ctx, strings.TrimPrefix(key, leasePrefix))
		if err != nil {
			m.opts.Logger.Warn("skipping unreadable lease", "key", key, "error", err)
			return nil
		}
		if l != nil {
			m.schedule(l.ID, l.due())
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("load leases: %w", err)
	}
	bg, cancel := context.WithCancel(ctx)
	m.stop = cancel
	m.done.Add(1 + m.opts.Workers)
	go m.scheduler(bg)
	for i := 0; i < m.opts.Workers; i++ {
		go m.worker(bg)
	}
	return n, nil
}

// Stop ends the scheduler and workers and waits for them; leases stay in
// storage and are rescheduled by the next Start.
func (m *Manager) Stop() {
	if m.stop != nil {
		m.stop()
		m.done.Wait()
	}
}

// Register persists a lease for a secret an engine just issued at path
// (the full request path), for the token whose hash is tokenHash. ttl and
// maxTTL are the effective TTLs (the caller has applied the mount's
// defaults and caps). It sets s.LeaseID and s.TTL.
func (m *Manager) Register(ctx context.Context, path, tokenHash string, s *logical.Secret, ttl, maxTTL time.Duration) (*Lease, error) {
	suffix, err := randomID()
	if err != nil {
		return nil, err
	}
	now := m.opts.Now()
	l := &Lease{
		ID: strings.TrimSuffix(path, "/") + "/" + suffix, Path: path, TokenHash: tokenHash,
		InternalData: s.InternalData, IssueTime: now, ExpireTime: now.Add(ttl), Renewable: s.Renewable,
	}
	if maxTTL > 0 {
		l.MaxExpire = now.Add(maxTTL)
	}
	b, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("encode lease: %w", err)
	}
	var ops []storage.Op
	if tokenHash != "" {
		ops = append(ops, storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: tokenIndexKey(tokenHash, l.ID), Value: []byte(l.ID)}})
	}
	ops = append(ops, storage.Op{Kind: storage.OpPut, Entry: &storage.Entry{Key: leaseKey(l.ID), Value: b}})
	if err := storage.Apply(ctx, m.view, ops); err != nil {
		return nil, fmt.Errorf("persist lease: %w", err)
	}
	m.schedule(l.ID, l.ExpireTime)
	s.LeaseID, s.TTL, s.IssueTime = l.ID, ttl, now
	return l, nil
}

// Lookup returns a lease, or ErrNotFound.
func (m *Manager) Lookup(ctx context.Context, id string) (*Lease, error) {
	l, err := m.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, ErrNotFound
	}
	return l, nil
}

// List returns the lease IDs and folders one level below prefix, as
// storage lists them ("creds/app/" folders end in '/').
func (m *Manager) List(ctx context.Context, prefix string) ([]string, error) {
	return m.view.List(ctx, leaseKey(prefix))
}

// Count reports how many leases are scheduled.
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.queue.Len()
}

// randomID is 24 characters from crypto/rand, like Vault's lease suffixes.
func randomID() (string, error) {
	id, err := randstr.From(randstr.Alphanumeric, 24)
	if err != nil {
		return "", fmt.Errorf("lease id: %w", err)
	}
	return id, nil
}
