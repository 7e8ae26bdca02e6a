package pki

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// backend is the PKI engine of one mount.
type backend struct {
	*logical.Framework
	// view is the mount's storage, for work outside a request (metrics).
	view   logical.Storage
	system logical.SystemView
	// now is the clock and rand the randomness (crypto/rand); tests may
	// replace the clock.
	now  func() time.Time
	rand io.Reader
	// mu serialises writes to issuers, keys, revocations and CRLs.
	mu    sync.Mutex
	cache parseCache
	ocsp  ocspCache
	lease *logical.SecretType
	// gauges caches the expiring-certificate counts for metrics.
	gauges gaugeCache
}

var (
	_ logical.Backend              = (*backend)(nil)
	_ logical.SpecialPathsProvider = (*backend)(nil)
	_ logical.ExistenceChecker     = (*backend)(nil)
)

// Factory builds a PKI backend for one mount.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, errors.New("pki: nil backend config")
	}
	return newBackend(conf.StorageView, conf.System, time.Now), nil
}

// unauthenticated are the paths anyone may read, as in Vault: CA
// certificates, issued certificates, CRLs and OCSP.
var unauthenticated = []string{
	"cert/*", "ca/pem", "ca_chain", "ca", "crl/pem", "crl", "issuers/", "ocsp", "ocsp/*",
}

func newBackend(view logical.Storage, sys logical.SystemView, now func() time.Time) *backend {
	b := &backend{view: view, system: sys, now: now, rand: rand.Reader}
	b.lease = &logical.SecretType{Type: "pki", Revoke: b.leaseRevoke}
	b.Framework = (&logical.Framework{
		Help:     backendHelp,
		Special:  &logical.SpecialPaths{Unauthenticated: unauthenticated, Root: []string{"root"}},
		Secrets:  []*logical.SecretType{b.lease},
		PathList: b.paths(),
	}).Compile()
	return b
}

func (b *backend) paths() []*logical.Path {
	// Hot paths first: the router tries patterns in order.
	return []*logical.Path{
		b.pathOCSPGet(),
		b.pathOCSPPost(),
		b.pathIssue(),
		b.pathSign(),
		b.pathSignVerbatim(),
		b.pathFetchCA(),
		b.pathFetchCAChain(),
		b.pathFetchCRL(),
		b.pathFetchCRLJSON(),
		b.pathListCerts(),
		b.pathExpiring(),
		b.pathFetchCert(),
		b.pathRevoke(),
		b.pathRotateCRL(),
		b.pathListRoles(),
		b.pathRoles(),
		b.pathGenerateRoot(),
		b.pathDeleteRoot(),
		b.pathSignIntermediate(),
		b.pathIssuerSignIntermediate(),
		b.pathGenerateIntermediate(),
		b.pathSetSigned(),
		b.pathImportBundle(),
		b.pathConfigCA(),
		b.pathListIssuers(),
		b.pathIssuer(),
		b.pathConfigIssuers(),
		b.pathConfigURLs(),
		b.pathConfigCRL(),
		b.pathTidy(),
	}
}

// mountTTLs returns the mount's default and maximum TTL.
func (b *backend) mountTTLs(req *logical.Request) (def, max time.Duration) {
	def, max = req.MountConfig.DefaultLeaseTTL, req.MountConfig.MaxLeaseTTL
	if def <= 0 && b.system != nil {
		def = b.system.DefaultLeaseTTL()
	}
	if max <= 0 && b.system != nil {
		max = b.system.MaxLeaseTTL()
	}
	if def <= 0 {
		def = 32 * 24 * time.Hour
	}
	if max <= 0 {
		max = 32 * 24 * time.Hour
	}
	if def > max {
		def = max
	}
	return def, max
}

// storage returns the request's storage view, or the mount's outside one.
func (b *backend) storage(req *logical.Request) logical.Storage {
	if req != nil && req.Storage != nil {
		return req.Storage
	}
	return b.view
}

const backendHelp = `The PKI engine is a certificate authority: it generates or imports CA
certificates (issuers), issues and signs X.509 certificates under roles
that restrict the names they may carry, and publishes CRLs and an OCSP
responder for revocation.`
