package userpass

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"golang.org/x/crypto/bcrypt"
)

// Storage keys and prefixes (see the package doc).
const (
	userPrefix        = "user/"
	lockoutConfigPath = "config/lockout"
)

var (
	_ logical.Backend     = (*backend)(nil)
	_ logical.Initializer = (*backend)(nil)
)

// backend is one userpass mount.
type backend struct {
	*logical.Framework

	// now is the clock of lockout counters (a field so tests can move it).
	now func() time.Time
	// cost is the bcrypt cost of new hashes and of the dummy comparison
	// for unknown users (tests lower it to bcrypt.MinCost).
	cost int
	// mountLockout holds the lockout settings from the mount options; the
	// stored config/lockout overrides them field by field.
	mountLockout lockoutOverrides
	lockouts     *lockoutTracker

	userLocks [64]sync.Mutex
	configMu  sync.Mutex // serialises config/lockout writes
}

// Factory builds the userpass auth method for one mount. The mount options
// lockout_threshold, lockout_duration, lockout_counter_reset and
// lockout_disable set the mount's user lockout (see config/lockout).
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, errors.New("userpass: nil backend config")
	}
	mount, err := parseMountOptions(conf.Config)
	if err != nil {
		return nil, err
	}
	b := &backend{now: time.Now, cost: bcrypt.DefaultCost, mountLockout: mount, lockouts: newLockoutTracker()}
	b.Framework = (&logical.Framework{
		PathList: []*logical.Path{b.pathLogin(), b.pathUsersList(), b.pathUserPassword(),
			b.pathUserPolicies(), b.pathUsers(), b.pathLockoutConfig()},
		Help:      backendHelp,
		Special:   &logical.SpecialPaths{Unauthenticated: []string{"login/*"}},
		AuthRenew: b.renew,
	}).Compile()
	return b, nil
}

const backendHelp = `The userpass auth method lets users log in with a username and a password.
Users are managed below users/ and carry the token settings (policies, TTLs,
bound CIDRs). Usernames are case-insensitive. Repeated failed logins lock a
username out for a while (see config/lockout).`

// Initialize computes the dummy hash for unknown-user logins up front, so
// the first such login costs no more than any other.
func (b *backend) Initialize(ctx context.Context, s logical.Storage) error {
	_, err := dummyHash(b.cost)
	return err
}

// userLock returns the mutex serialising writes to one user.
func (b *backend) userLock(name string) *sync.Mutex {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return &b.userLocks[h%uint32(len(b.userLocks))]
}
