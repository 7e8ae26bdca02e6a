package httpapi

import (
	"errors"
	"net/http"

	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/logical"
)

// statusFor maps an error to its HTTP status. This is the only place that
// does so.
func statusFor(err error) int {
	switch {
	case errors.Is(err, logical.ErrSealed), errors.Is(err, barrier.ErrSealed), errors.Is(err, logical.ErrUninitialized):
		return http.StatusServiceUnavailable
	case errors.Is(err, logical.ErrPermissionDenied):
		return http.StatusForbidden
	case errors.Is(err, logical.ErrNotFound), errors.Is(err, logical.ErrUnsupportedPath):
		return http.StatusNotFound
	case errors.Is(err, logical.ErrUnsupportedOp):
		return http.StatusMethodNotAllowed
	case errors.Is(err, logical.ErrPreconditionFailed):
		return http.StatusPreconditionFailed
	case errors.Is(err, logical.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, logical.ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, logical.ErrUpstream):
		return http.StatusBadGateway
	case errors.Is(err, logical.ErrInvalidRequest), errors.Is(err, logical.ErrConflict):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// messageFor returns the text shown to the caller. Internal errors are
// never shown: their cause goes to the log only.
func messageFor(err error) string {
	if errors.Is(err, barrier.ErrSealed) {
		return logical.ErrSealed.Error()
	}
	if msg, ok := logical.UserMessage(err); ok {
		return msg
	}
	return "internal error"
}
