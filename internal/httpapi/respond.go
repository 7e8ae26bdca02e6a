package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// envelope is Vault's response body.
type envelope struct {
	RequestID     string         `json:"request_id"`
	LeaseID       string         `json:"lease_id"`
	Renewable     bool           `json:"renewable"`
	LeaseDuration int64          `json:"lease_duration"`
	Data          map[string]any `json:"data"`
	WrapInfo      *wrapBlock     `json:"wrap_info"`
	Warnings      []string       `json:"warnings"`
	Auth          *authBlock     `json:"auth"`
	MountType     string         `json:"mount_type,omitempty"`
	// Errors is set on a client error that still carries data (a transit
	// batch with failed items: batch_results say which).
	Errors []string `json:"errors,omitempty"`
}

type authBlock struct {
	ClientToken    string            `json:"client_token"`
	Accessor       string            `json:"accessor"`
	Policies       []string          `json:"policies"`
	TokenPolicies  []string          `json:"token_policies"`
	Metadata       map[string]string `json:"metadata"`
	LeaseDuration  int64             `json:"lease_duration"`
	Renewable      bool              `json:"renewable"`
	EntityID       string            `json:"entity_id"`
	TokenType      string            `json:"token_type"`
	Orphan         bool              `json:"orphan"`
	MFARequirement any               `json:"mfa_requirement"`
	NumUses        int               `json:"num_uses"`
}

type wrapBlock struct {
	Token           string `json:"token"`
	Accessor        string `json:"accessor"`
	TTL             int64  `json:"ttl"`
	CreationTime    string `json:"creation_time"`
	CreationPath    string `json:"creation_path"`
	WrappedAccessor string `json:"wrapped_accessor,omitempty"`
}

type mfaBlock struct {
	RequestID   string                         `json:"mfa_request_id"`
	Constraints map[string]map[string][]mfaRef `json:"mfa_constraints"`
}

type mfaRef struct {
	Type         string `json:"type"`
	ID           string `json:"id"`
	UsesPasscode bool   `json:"uses_passcode"`
	Name         string `json:"name"`
}

func toMFABlock(m *logical.MFARequirement) *mfaBlock {
	if m == nil {
		return nil
	}
	b := &mfaBlock{RequestID: m.RequestID, Constraints: map[string]map[string][]mfaRef{}}
	for name, methods := range m.Constraints {
		refs := make([]mfaRef, 0, len(methods))
		for _, x := range methods {
			refs = append(refs, mfaRef{Type: x.Type, ID: x.ID, UsesPasscode: x.UsesPasscode, Name: x.Name})
		}
		b.Constraints[name] = map[string][]mfaRef{"any": refs}
	}
	return b
}

type errorBody struct {
	Errors []string `json:"errors"`
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, status, errorBody{Errors: msgs})
}

func toEnvelope(id string, resp *logical.Response) *envelope {
	env := &envelope{RequestID: id, Data: resp.Data, Warnings: resp.Warnings}
	if wi := resp.WrapInfo; wi != nil {
		env.WrapInfo = &wrapBlock{Token: wi.Token, Accessor: wi.Accessor, TTL: int64(wi.TTL / time.Second),
			CreationTime: wi.CreationTime.Format(time.RFC3339Nano), CreationPath: wi.CreationPath, WrappedAccessor: wi.WrappedAccessor}
	}
	if s := resp.Secret; s != nil {
		env.LeaseID, env.Renewable, env.LeaseDuration = s.LeaseID, s.Renewable, int64(s.TTL/time.Second)
	}
	if a := resp.Auth; a != nil {
		env.Auth = &authBlock{
			ClientToken: a.ClientToken, Accessor: a.Accessor, Policies: a.Policies, TokenPolicies: a.TokenPolicies,
			Metadata: a.Metadata, LeaseDuration: int64(a.TTL / time.Second), Renewable: a.Renewable,
			EntityID: a.EntityID, TokenType: a.TokenType, Orphan: a.Orphan, NumUses: a.NumUses,
			MFARequirement: toMFABlock(a.MFARequirement),
		}
		if env.Auth.TokenType == "" {
			env.Auth.TokenType = "service"
		}
	}
	return env
}

// respond writes the outcome of a request. A nil response with no error is
// 204 for writes and 404 for reads, as Vault does.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, req *logical.Request, resp *logical.Response, err error) int {
	if err != nil {
		status := statusFor(err)
		if status == http.StatusNotFound && resp != nil && (resp.Data != nil || len(resp.Warnings) > 0) {
			writeJSON(w, status, toEnvelope(req.ID, resp))
			return status
		}
		if status >= 400 && status < 500 && resp != nil && resp.Data != nil {
			env := toEnvelope(req.ID, resp)
			env.Errors = []string{messageFor(err)}
			writeJSON(w, status, env)
			return status
		}
		if status == http.StatusInternalServerError {
			h.logger.Error("request failed", "path", req.Path, "op", string(req.Operation), "request_id", req.ID, "error", err)
		}
		writeError(w, status, messageFor(err))
		return status
	}
	if resp == nil {
		if req.Operation == logical.ReadOperation || req.Operation == logical.ListOperation {
			writeError(w, http.StatusNotFound)
			return http.StatusNotFound
		}
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	if resp.Raw != nil {
		ct := resp.RawContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		status := resp.RawStatus
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = w.Write(resp.Raw)
		return status
	}
	if req.Operation == logical.ListOperation && resp.WrapInfo == nil && emptyList(resp) {
		writeError(w, http.StatusNotFound)
		return http.StatusNotFound
	}
	for k, v := range resp.Headers {
		w.Header()[k] = v
	}
	writeJSON(w, http.StatusOK, toEnvelope(req.ID, resp))
	return http.StatusOK
}

// emptyList reports a list response without keys, which Vault answers 404.
func emptyList(resp *logical.Response) bool {
	if len(resp.Warnings) > 0 {
		return false
	}
	if resp.Data == nil {
		return true
	}
	switch keys := resp.Data["keys"].(type) {
	case []string:
		return len(keys) == 0
	case []any:
		return len(keys) == 0
	case nil:
		return len(resp.Data) == 0
	}
	return false
}
