package ssh

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/logical"
)

// fallbackMaxTTL bounds certificates when neither the role, the mount nor
// the server sets a TTL (Vault's default of 32 days).
const fallbackMaxTTL = 768 * time.Hour

// Backend is one mount of the SSH engine.
type Backend struct {
	*logical.Framework
	system logical.SystemView

	// configMu serialises config/ca writes and deletes.
	configMu sync.Mutex
	// signer caches the parsed CA key (see the package doc).
	signer atomic.Pointer[cachedSigner]
	// now is the engine's clock (time.Now); tests may replace it.
	now func() time.Time
}

type cachedSigner struct {
	privatePEM string
	signer     ssh.Signer
}

var _ logical.Backend = (*Backend)(nil)

// Factory builds the engine for one mount.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, errors.New("ssh: nil backend config")
	}
	return newBackend(conf.System), nil
}

func newBackend(system logical.SystemView) *Backend {
	b := &Backend{system: system, now: time.Now}
	b.Framework = (&logical.Framework{
		PathList: []*logical.Path{
			b.pathConfigCA(), b.pathPublicKey(),
			b.pathRoleList(), b.pathRole(),
			b.pathSign(), b.pathIssue(),
		},
		Special: &logical.SpecialPaths{Unauthenticated: []string{"public_key"}},
		Help: "The SSH secrets engine is an SSH certificate authority: it signs user and host " +
			"public keys according to roles.",
	}).Compile()
	return b
}

// nameRegex matches a role name: letters, digits, '-', '_', '.' and '@'
// (Vault allows '@' so roles can be named after users).
func nameRegex(name string) string {
	return fmt.Sprintf(`(?P<%s>\w(([\w.@-]+)?\w)?)`, name)
}

// leaseTTLs returns the mount's default and maximum TTL: the mount's tuned
// values, else the server's, else Vault's 32 days.
func (b *Backend) leaseTTLs(req *logical.Request) (def, max time.Duration) {
	def, max = req.MountConfig.DefaultLeaseTTL, req.MountConfig.MaxLeaseTTL
	if def <= 0 && b.system != nil {
		def = b.system.DefaultLeaseTTL()
	}
	if max <= 0 && b.system != nil {
		max = b.system.MaxLeaseTTL()
	}
	if max <= 0 {
		max = fallbackMaxTTL
	}
	if def <= 0 || def > max {
		def = max
	}
	return def, max
}

// caSigner returns the signer for the stored CA, parsing it only when it
// changed since the last call.
func (b *Backend) caSigner(ca *caEntry) (ssh.Signer, error) {
	if c := b.signer.Load(); c != nil && len(c.privatePEM) == len(ca.PrivateKey) &&
		subtle.ConstantTimeCompare([]byte(c.privatePEM), []byte(ca.PrivateKey)) == 1 {
		return c.signer, nil
	}
	s, err := ssh.ParsePrivateKey([]byte(ca.PrivateKey))
	if err != nil {
		// The stored key was written by this engine; never echo it.
		return nil, errors.New("ssh: the stored CA private key does not parse")
	}
	b.signer.Store(&cachedSigner{privatePEM: ca.PrivateKey, signer: s})
	return s, nil
}

// splitList parses a comma-separated list: trimmed, empty items and
// duplicates dropped, order kept.
func splitList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// joinList is the stored form of a list field: sent as a comma-separated
// string or a JSON array, kept and returned as a string, as Vault does.
func joinList(items []string) string {
	var kept []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			kept = append(kept, it)
		}
	}
	return strings.Join(kept, ",")
}
