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

func newSystemBackend(c *Core) *systemBackend {
	b := &systemBackend{c: c}
	var paths []*logical.Path
	paths = append(paths, b.mountPaths()...)
	paths = append(paths, b.policyPaths()...)
	paths = append(paths, b.miscPaths()...)
	paths = append(paths, b.wrappingPaths()...)
	paths = append(paths, b.mfaPath())
	b.Framework = (&logical.Framework{
		PathList: paths,
		Help:     "The system backend is built in and mounted at sys/. It configures kinko itself.",
		Special: &logical.SpecialPaths{
			Root: []string{"auth/*", "rotate", "seal", "raw", "raw/*"},
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
