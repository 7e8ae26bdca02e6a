// Package awsapi is kinko's AWS Secrets Manager-compatible front end:
// AWS JSON 1.1 over HTTP (POST / with X-Amz-Target: secretsmanager.<Op>),
// requests signed with SigV4 by an access key kinko issued
// (sys/aws/access-keys). Each operation becomes a request to the aws-sm
// engine on a path naming the secret, run as the access key's token, so
// the same policies and the same audit cover both front ends. Responses
// and errors have AWS's shapes ({"__type": ..., "Message": ...}).
package awsapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/awssm/store"
)

// Core runs a logical request (kinko's core).
type Core interface {
	HandleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error)
}

// Verifier checks a request's SigV4 signature over its body and returns
// the access key that signed it; its errors are *AuthError.
type Verifier interface {
	Verify(ctx context.Context, r *http.Request, body []byte) (accessKeyID string, err error)
}

// AuthError is a refused signature, with the AWS code and status to send.
type AuthError struct {
	Code    string
	Status  int
	Message string
}

func (e *AuthError) Error() string { return e.Code + ": " + e.Message }

// Options configure a Handler.
type Options struct {
	// Mount is where the aws-sm engine is mounted ("aws-sm/" by default).
	Mount   string
	MaxBody int64
	Logger  *slog.Logger
	// NewID makes request IDs.
	NewID func() string
	// Allow, when set, rate-limits by client address (host:port):
	// refused requests get ThrottlingException.
	Allow func(remote string) bool
}

// Handler serves the AWS JSON 1.1 API.
type Handler struct {
	core   Core
	verify Verifier
	opts   Options
}

// New returns a Handler.
func New(c Core, v Verifier, o Options) *Handler {
	if o.Mount == "" {
		o.Mount = "aws-sm/"
	}
	if !strings.HasSuffix(o.Mount, "/") {
		o.Mount += "/"
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Handler{core: c, verify: v, opts: o}
}

// IsAWSRequest tells a request for this front end (an X-Amz-Target of
// secretsmanager) from a Vault API request.
func IsAWSRequest(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
}

const contentType = "application/x-amz-json-1.1"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, http.StatusBadRequest, "InvalidAction", "the AWS API is POST / with an X-Amz-Target header")
		return
	}
	if h.opts.Allow != nil && !h.opts.Allow(r.RemoteAddr) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded: slow down and retry")
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	body, err := io.ReadAll(io.LimitReader(r.Body, h.opts.MaxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestException", "could not read the request body")
		return
	}
	if int64(len(body)) > h.opts.MaxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "InvalidRequestException", "the request body is too large")
		return
	}
	akid, err := h.verify.Verify(r.Context(), r, body)
	if err != nil {
		var ae *AuthError
		if errors.As(err, &ae) {
			writeError(w, ae.Status, ae.Code, ae.Message)
			return
		}
		h.opts.Logger.Error("signature check failed", "error", err)
		writeError(w, http.StatusInternalServerError, "InternalFailure", "internal error")
		return
	}
	input := map[string]any{}
	if len(strings.TrimSpace(string(body))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&input); err != nil {
			writeError(w, http.StatusBadRequest, "SerializationException", "the request body is not a JSON object")
			return
		}
	}
	out, err := h.dispatch(r, akid, op, input)
	if err != nil {
		h.writeErr(w, err)
		return
	}
	epochDates(out)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

// dispatch runs one operation as the access key's token.
func (h *Handler) dispatch(r *http.Request, akid, op string, input map[string]any) (map[string]any, error) {
	if op == "BatchGetSecretValue" {
		return h.batchGet(r, akid, input)
	}
	rt, ok := routes[op]
	if !ok {
		return nil, &AuthError{Code: "InvalidAction", Status: http.StatusBadRequest, Message: "unknown operation " + op}
	}
	path := h.opts.Mount + rt.prefix
	if rt.byName != "" {
		id, _ := input[rt.byName].(string)
		if id == "" {
			return nil, &AuthError{Code: "InvalidParameterException", Status: http.StatusBadRequest, Message: rt.byName + " is required"}
		}
		path += secretName(id)
		if rt.byName != "Name" {
			delete(input, rt.byName) // the engine takes the secret from the path
		}
	}
	return h.run(r, akid, rt.op, path, input)
}

func (h *Handler) run(r *http.Request, akid string, op logical.Operation, path string, data map[string]any) (map[string]any, error) {
	req := &logical.Request{Operation: op, Path: path, Data: data, AccessKeyID: akid,
		Conn: &logical.Connection{RemoteAddr: r.RemoteAddr, ConnState: r.TLS}}
	if h.opts.NewID != nil {
		req.ID = h.opts.NewID()
	} else {
		req.ID = newID()
	}
	resp, err := h.core.HandleRequest(r.Context(), req)
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.Data == nil {
		return map[string]any{}, nil
	}
	return resp.Data, nil
}

// writeErr renders an error in AWS's shape: the engine's AWS code when it
// has one, AccessDeniedException for a policy refusal, and an internal
// failure (details logged, never sent) otherwise.
func (h *Handler) writeErr(w http.ResponseWriter, err error) {
	status, code, msg := h.awsError(err)
	writeError(w, status, code, msg)
}

// awsError is the status, AWS error code and message for err.
func (h *Handler) awsError(err error) (status int, code, msg string) {
	var se *store.Error
	var ae *AuthError
	switch {
	case errors.As(err, &ae):
		return ae.Status, ae.Code, ae.Message
	case errors.As(err, &se):
		return se.HTTPStatus(), se.Code, se.Message
	case errors.Is(err, logical.ErrPermissionDenied):
		return http.StatusBadRequest, "AccessDeniedException", "User is not authorized to perform this operation"
	case errors.Is(err, logical.ErrSealed):
		return http.StatusServiceUnavailable, "ServiceUnavailable", "kinko is sealed"
	case errors.Is(err, logical.ErrUnsupportedPath):
		return http.StatusBadRequest, "InvalidRequestException", "no aws-sm engine is mounted at " + h.opts.Mount
	}
	if msg, ok := logical.UserMessage(err); ok {
		return http.StatusBadRequest, "InvalidParameterException", msg
	}
	h.opts.Logger.Error("AWS API request failed", "error", err)
	return http.StatusInternalServerError, "InternalServiceError", "internal error"
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": msg})
}

// batchGet runs GetSecretValue for each secret of SecretIdList (each one
// authorised on its own), collecting per-secret errors as AWS does.
func (h *Handler) batchGet(r *http.Request, akid string, input map[string]any) (map[string]any, error) {
	ids, _ := input["SecretIdList"].([]any)
	_, filtered := input["Filters"]
	next := ""
	switch {
	case filtered && len(ids) > 0:
		return nil, &AuthError{Code: "InvalidParameterException", Status: http.StatusBadRequest, Message: "give SecretIdList or Filters, not both"}
	case filtered:
		// the secrets the filters select (ListSecrets, one page), each then
		// read on its own path so each is authorised on its own
		list := map[string]any{"Filters": input["Filters"], "MaxResults": input["MaxResults"], "NextToken": input["NextToken"]}
		if list["MaxResults"] == nil {
			list["MaxResults"] = 20
		}
		out, err := h.run(r, akid, logical.UpdateOperation, h.opts.Mount+"list", list)
		if err != nil {
			return nil, err
		}
		entries, _ := out["SecretList"].([]any)
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok {
				ids = append(ids, m["Name"])
			}
		}
		next, _ = out["NextToken"].(string)
	case len(ids) == 0 || len(ids) > 20:
		return nil, &AuthError{Code: "InvalidParameterException", Status: http.StatusBadRequest,
			Message: "SecretIdList must name 1 to 20 secrets"}
	}
	values, errs := []any{}, []any{}
	for _, x := range ids {
		id, _ := x.(string)
		out, err := h.run(r, akid, logical.ReadOperation, h.opts.Mount+"secrets/"+secretName(id), map[string]any{})
		if err == nil {
			values = append(values, out)
			continue
		}
		_, code, msg := h.awsError(err)
		errs = append(errs, map[string]any{"SecretId": id, "ErrorCode": code, "Message": msg})
	}
	out := map[string]any{"SecretValues": values, "Errors": errs}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// newID is a random UUID (version 4) for a request.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
