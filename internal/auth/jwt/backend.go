package jwt

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Storage keys (see the package doc).
const (
	configKey  = "config"
	rolePrefix = "role/"
)

// Limits and fetch tuning.
const (
	// maxJWTSize bounds a login's token before any parsing.
	maxJWTSize = 64 << 10
	// maxFetchBody bounds a JWKS or discovery document.
	maxFetchBody = 1 << 20
	// fetchTimeout bounds one JWKS or discovery HTTP exchange.
	fetchTimeout = 10 * time.Second
	// jwksMaxAge is how long fetched keys are used before a refresh.
	jwksMaxAge = 10 * time.Minute
	// jwksMinRefetch rate-limits refetches caused by unknown key IDs.
	jwksMinRefetch = 10 * time.Second
)

var (
	_ logical.Backend = (*backend)(nil)
	_ logical.Cleaner = (*backend)(nil)
)

// backend is one JWT/OIDC mount.
type backend struct {
	*logical.Framework
	system logical.SystemView
	now    func() time.Time
	// minRefetch is jwksMinRefetch (a test hook).
	minRefetch time.Duration

	// cur is the parsed configuration of the last config bytes seen.
	cur atomic.Pointer[keyring]
	// curMu serialises rebuilding cur.
	curMu sync.Mutex

	roleLocks [64]sync.RWMutex

	// pending holds OIDC logins between auth_url and callback.
	pending pendingStore
}

// Factory builds the JWT/OIDC auth method for one mount.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, errors.New("jwt: nil backend config")
	}
	b := &backend{system: conf.System, now: time.Now, minRefetch: jwksMinRefetch}
	b.Framework = (&logical.Framework{
		PathList: []*logical.Path{b.pathLogin(), b.pathConfig(), b.pathRoleList(), b.pathRole(),
			b.pathOIDCAuthURL(), b.pathOIDCCallback()},
		Help: backendHelp,
		Special: &logical.SpecialPaths{Unauthenticated: []string{"login", "login/*",
			"oidc/auth_url", "oidc/callback"}},
		Clean:     b.cleanup,
		AuthRenew: b.renew,
	}).Compile()
	return b, nil
}

const backendHelp = `The JWT/OIDC auth method lets workloads log in with a JSON Web Token signed
by a trusted issuer (CI systems such as GitHub Actions or GitLab, Kubernetes,
an OIDC provider), and people log in through an OIDC provider in their
browser (roles of type "oidc": oidc/auth_url, then oidc/callback). The config
names the keys (PEM keys, a JWKS URL or an OIDC discovery URL) and the OIDC
client; roles bind the claims a token must carry and the settings of the
tokens their logins receive.`

// cleanup drops cached keys, idle HTTP connections and pending OIDC
// logins.
func (b *backend) cleanup(context.Context) {
	if k := b.cur.Swap(nil); k != nil {
		k.close()
	}
	b.pending.clear()
}

// roleLock returns the write stripe of a role name.
func (b *backend) roleLock(name string) *sync.RWMutex {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return &b.roleLocks[h%uint32(len(b.roleLocks))]
}

// maxLeaseTTL is the mount's effective maximum TTL.
func (b *backend) maxLeaseTTL(req *logical.Request) time.Duration {
	if req != nil && req.MountConfig.MaxLeaseTTL > 0 {
		return req.MountConfig.MaxLeaseTTL
	}
	if b.system != nil {
		return b.system.MaxLeaseTTL()
	}
	return 0
}

// httpClient returns a client for fetching keys: bounded time, the given
// TLS roots (system roots when nil), no proxy surprises beyond the
// environment's.
func newHTTPClient(tr *http.Transport) *http.Client {
	return &http.Client{Timeout: fetchTimeout, Transport: tr}
}
