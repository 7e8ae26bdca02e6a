package awsagent

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/api"
)

// Error is an error answer in the AWS agent's shape:
// {"__type": Type, "message": Message} with Status.
type Error struct {
	Status    int
	Type      string
	Message   string
	transient bool // network, timeout or 5xx: a stale answer may be served
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

func (e *Error) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
}

func internalFailure() *Error {
	return &Error{Status: http.StatusInternalServerError, Type: "InternalFailure"}
}

// fromKinko maps an error reading from kinko's Vault API to the answer the
// AWS agent would give for the same failure of Secrets Manager.
func fromKinko(err error) *Error {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return fromResponse(re)
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Status: http.StatusGatewayTimeout, Type: "TimeoutError", Message: "Timeout", transient: true}
	}
	return &Error{Status: http.StatusBadGateway, Type: "ConnectionError", Message: "Read Error", transient: true}
}

// fromResponse reads the AWS code kinko's aws-sm engine puts in front of
// its messages ("ResourceNotFoundException: ..."); answers without one
// are mapped by status.
func fromResponse(re *api.ResponseError) *Error {
	msg := ""
	if len(re.Errors) > 0 {
		msg = re.Errors[0]
	}
	if code, rest, ok := strings.Cut(msg, ": "); ok && isAWSCode(code) {
		status := http.StatusBadRequest
		if code == "InternalServiceError" {
			status = http.StatusInternalServerError
		}
		return &Error{Status: status, Type: code, Message: rest, transient: status >= 500}
	}
	switch {
	case re.StatusCode == http.StatusNotFound:
		return &Error{Status: http.StatusBadRequest, Type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret."}
	case re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusUnauthorized:
		return &Error{Status: http.StatusBadRequest, Type: "AccessDeniedException", Message: "access denied by kinko: " + msg}
	case re.StatusCode == http.StatusTooManyRequests:
		return &Error{Status: http.StatusBadRequest, Type: "ThrottlingException", Message: "Rate exceeded", transient: true}
	case re.StatusCode >= 500:
		return &Error{Status: http.StatusInternalServerError, Type: "InternalServiceError",
			Message: "kinko answered " + strconv.Itoa(re.StatusCode), transient: true}
	}
	return &Error{Status: http.StatusBadRequest, Type: "InvalidRequestException", Message: msg}
}

// isAWSCode reports whether s looks like an AWS error code: letters only,
// starting upper case, ending in Exception or Error.
func isAWSCode(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return strings.HasSuffix(s, "Exception") || strings.HasSuffix(s, "Error") || s == "DecryptionFailure" || s == "EncryptionFailure"
}

// EpochSeconds formats t as the AWS agent writes CreatedDate: seconds since
// the epoch with up to three decimals ("1569534789.046").
func EpochSeconds(t time.Time) string {
	ms := t.UnixMilli()
	s := strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		f := strconv.FormatInt(1000+frac, 10)[1:] // three digits, leading zeros kept
		s += "." + strings.TrimRight(f, "0")
	}
	return s
}
