package logical

import "context"

// SpecialPaths lists path patterns (relative to the mount; a trailing "*"
// matches any suffix) that get special treatment from core.
type SpecialPaths struct {
	// Unauthenticated paths need no token (login endpoints).
	Unauthenticated []string
	// Root paths need the sudo capability in addition to the operation's.
	Root []string
}

// SpecialPathsProvider is optionally implemented by backends.
type SpecialPathsProvider interface {
	SpecialPaths() *SpecialPaths
}

// ExistenceChecker is optionally implemented by backends so core can tell a
// create from an update for policy checks. checkFound is false when the path
// has no existence check (the write is then an update).
type ExistenceChecker interface {
	HandleExistenceCheck(ctx context.Context, req *Request) (checkFound bool, exists bool, err error)
}
