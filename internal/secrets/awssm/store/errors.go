package store

import (
	"errors"
	"fmt"

	"github.com/kinko-dev/kinko/internal/logical"
)

// AWS Secrets Manager error codes, as the front end renders them in
// {"__type": Code, "Message": Msg}.
const (
	CodeResourceNotFound   = "ResourceNotFoundException"
	CodeResourceExists     = "ResourceExistsException"
	CodeInvalidParameter   = "InvalidParameterException"
	CodeInvalidRequest     = "InvalidRequestException"
	CodeLimitExceeded      = "LimitExceededException"
	CodeInvalidNextToken   = "InvalidNextTokenException"
	CodeMalformedPolicy    = "MalformedPolicyDocumentException"
	CodePublicPolicy       = "PublicPolicyException"
	CodeInternalService    = "InternalServiceError"
	CodePreconditionNotMet = "PreconditionNotMetException"
)

// Error is a caller-facing error of the Secrets Manager API: an AWS error
// code and a message that never contains secret material. Every other error
// a Store method returns (storage failures, cancelled contexts) is internal
// and should be rendered as InternalServiceError without its text.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap maps the code to the logical error kind, so that a Vault-style
// caller can use errors.Is(err, logical.ErrNotFound) and friends.
func (e *Error) Unwrap() error {
	switch e.Code {
	case CodeResourceNotFound:
		return logical.ErrNotFound
	case CodePreconditionNotMet:
		return logical.ErrPreconditionFailed
	case CodeInternalService:
		return nil
	}
	return logical.ErrInvalidRequest
}

// HTTPStatus is the status AWS answers with for this error: 500 for
// InternalServiceError, 400 for every other code.
func (e *Error) HTTPStatus() int {
	if e.Code == CodeInternalService {
		return 500
	}
	return 400
}

// AsError returns err as an *Error when it is (or wraps) one.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func errNotFound() *Error {
	return errorf(CodeResourceNotFound, "Secrets Manager can't find the specified secret.")
}

func errParam(format string, args ...any) *Error {
	return errorf(CodeInvalidParameter, format, args...)
}

func errRequest(format string, args ...any) *Error {
	return errorf(CodeInvalidRequest, format, args...)
}

func errMarkedDeleted() *Error {
	return errRequest("You can't perform this operation on the secret because it was marked for deletion.")
}
