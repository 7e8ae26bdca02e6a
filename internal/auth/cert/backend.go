package cert

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Storage keys and prefixes (see the package doc).
const (
	rolePrefix = "cert/"
	crlPrefix  = "crls/"
	configKey  = "config"
)

// maxCached bounds each parse cache; a full cache is emptied.
const maxCached = 4096

var _ logical.Backend = (*backend)(nil)

// backend is one cert auth mount.
type backend struct {
	*logical.Framework

	// now is the clock certificates are verified at (tests move it).
	now    func() time.Time
	system logical.SystemView

	roles parseCache // storage key -> *parsedRole
	crls  parseCache // storage key -> revokedSerials

	writeMu sync.Mutex // serialises role, CRL and config writes
}

// Factory builds the cert auth method for one mount.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, errors.New("cert: nil backend config")
	}
	b := &backend{now: time.Now, system: conf.System}
	b.Framework = (&logical.Framework{
		PathList: []*logical.Path{b.pathLogin(), b.pathCertsList(), b.pathCerts(),
			b.pathCRLsList(), b.pathCRLs(), b.pathConfig()},
		Help:      backendHelp,
		Special:   &logical.SpecialPaths{Unauthenticated: []string{"login"}},
		AuthRenew: b.renew,
	}).Compile()
	return b, nil
}

const backendHelp = `The cert auth method lets clients log in with a TLS client certificate.
Trusted CA certificates (or pinned leaf certificates) are configured below
certs/, each with optional name and extension constraints and the settings
of the tokens its logins receive. Revocation lists can be pushed below crls/.
The listener must request client certificates (it does unless
tls_disable_client_certs is set).`

// parseCache maps a storage key to a value parsed from the exact stored
// bytes it holds; a lookup only hits when the bytes are unchanged.
type parseCache struct {
	m   sync.Map // key -> *cached
	len atomic.Int64
}

type cached struct {
	raw []byte
	val any
}

// get returns the value parsed from raw, if cached.
func (c *parseCache) get(key string, raw []byte) (any, bool) {
	v, ok := c.m.Load(key)
	if !ok {
		return nil, false
	}
	e := v.(*cached)
	if !bytes.Equal(e.raw, raw) {
		return nil, false
	}
	return e.val, true
}

// put caches val as parsed from raw (which it keeps a copy of).
func (c *parseCache) put(key string, raw []byte, val any) {
	if c.len.Add(1) > maxCached {
		c.m.Clear()
		c.len.Store(1)
	}
	c.m.Store(key, &cached{raw: bytes.Clone(raw), val: val})
}

// drop forgets key (after a delete).
func (c *parseCache) drop(key string) { c.m.Delete(key) }
