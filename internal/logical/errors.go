package logical

import (
	"errors"
	"fmt"
)

// Error kinds. Engines return them wrapped in an *Error (see Errorf) so the
// HTTP layer can pick the status with errors.Is and show Error() to the
// caller. Any other error is treated as internal: logged, never shown.
var (
	ErrInvalidRequest     = errors.New("invalid request")          // 400
	ErrPermissionDenied   = errors.New("permission denied")        // 403
	ErrNotFound           = errors.New("not found")                // 404
	ErrUnsupportedOp      = errors.New("unsupported operation")    // 405
	ErrUnsupportedPath    = errors.New("unsupported path")         // 404
	ErrConflict           = errors.New("conflict")                 // 400 (Vault's check-and-set shape)
	ErrTooLarge           = errors.New("request too large")        // 413
	ErrRateLimited        = errors.New("rate limit exceeded")      // 429
	ErrSealed             = errors.New("Vault is sealed")          // 503
	ErrUninitialized      = errors.New("Vault is not initialized") // 503
	ErrPreconditionFailed = errors.New("precondition failed")      // 412
	// ErrUpstream: a system the engine manages (a database) failed or is
	// unreachable; the message names it (never its credentials).
	ErrUpstream = errors.New("upstream system failed") // 502
)

// Error is a user-facing error of a known kind. Msg is safe to show to the
// caller; it must never contain secret material.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds a user-facing error of the given kind.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// InvalidRequest is a shortcut for Errorf(ErrInvalidRequest, ...).
func InvalidRequest(format string, args ...any) error {
	return Errorf(ErrInvalidRequest, format, args...)
}

// UserMessage returns the message to show for err and whether it is a
// known (user-facing) error. Internal errors give ("", false).
func UserMessage(err error) (string, bool) {
	var le *Error
	if errors.As(err, &le) {
		return le.Msg, true
	}
	for _, k := range []error{ErrInvalidRequest, ErrPermissionDenied, ErrNotFound, ErrUnsupportedOp,
		ErrUnsupportedPath, ErrConflict, ErrTooLarge, ErrRateLimited, ErrSealed, ErrUninitialized, ErrPreconditionFailed, ErrUpstream} {
		if errors.Is(err, k) {
			return k.Error(), true
		}
	}
	return "", false
}
