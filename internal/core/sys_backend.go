package core

import (
	"github.com/kinko-dev/kinko/internal/logical"
)

// systemBackend serves the sys/ mount: mounts, auth methods, policies,
// capabilities, key rotation. Endpoints that must work while sealed
// (init, unseal, seal-status, health) are served by httpapi directly
// through Core's methods.
type systemBackend struct {
	*logical.Framework
	c *Core
}

var _ logical.Backend = (*systemBackend)(nil)

func newSystemBackend(c *Core, st *unsealedState) *systemBackend {
	b := &systemBackend{c: c}
	var paths []*logical.Path
	paths = append(paths, b.mountPaths()...)
	paths = append(paths, b.policyPaths()...)
	paths = append(paths, b.miscPaths()...)
	paths = append(paths, b.wrappingPaths()...)
	paths = append(paths, b.mfaPath())
	paths = append(paths, b.auditPaths()...)
	paths = append(paths, b.detectPaths(st)...)
	paths = append(paths, b.lockoutPaths()...)
	paths = append(paths, b.leasePaths()...)
	paths = append(paths, b.accessKeyPaths()...)
	if st != nil {
		paths = append(paths, st.passwords.Paths()...)
	}
	b.Framework = (&logical.Framework{
		PathList: paths,
		Help:     "The system backend is built in and mounted at sys/. It configures kinko itself.",
		Special: &logical.SpecialPaths{
			Root: append([]string{"auth/*", "rotate", "seal", "raw", "raw/*", "audit", "audit/*", "audit-chain/*",
				"detect", "detect/*", "aws/access-keys/"}, leaseRootPaths...),
			Unauthenticated: []string{"internal/ui/mounts", "internal/ui/mounts/*",
				"wrapping/unwrap", "wrapping/lookup", "wrapping/rewrap", "mfa/validate"},
		},
	}).Compile()
	return b
}

func (b *systemBackend) state() (*unsealedState, error) { return b.c.unsealed() }

func ops(m map[logical.Operation]logical.OperationFunc) map[logical.Operation]logical.OperationFunc {
	return m
}
