package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Secret is the JSON envelope of every logical API response. Numbers inside
// Data are decoded as json.Number so large integers survive intact.
type Secret struct {
	RequestID     string          `json:"request_id"`
	LeaseID       string          `json:"lease_id"`
	LeaseDuration int             `json:"lease_duration"`
	Renewable     bool            `json:"renewable"`
	Data          map[string]any  `json:"data"`
	Warnings      []string        `json:"warnings"`
	Auth          *SecretAuth     `json:"auth,omitempty"`
	WrapInfo      *SecretWrapInfo `json:"wrap_info,omitempty"`
	MountType     string          `json:"mount_type,omitempty"`
}

// SecretAuth is the "auth" block returned by login and token-creation paths.
type SecretAuth struct {
	ClientToken      string            `json:"client_token"`
	Accessor         string            `json:"accessor"`
	Policies         []string          `json:"policies"`
	TokenPolicies    []string          `json:"token_policies"`
	IdentityPolicies []string          `json:"identity_policies"`
	Metadata         map[string]string `json:"metadata"`
	Orphan           bool              `json:"orphan"`
	EntityID         string            `json:"entity_id"`
	LeaseDuration    int               `json:"lease_duration"`
	Renewable        bool              `json:"renewable"`
	TokenType        string            `json:"token_type,omitempty"`
}

// SecretWrapInfo is the "wrap_info" block of a response-wrapped secret.
type SecretWrapInfo struct {
	Token           string    `json:"token"`
	Accessor        string    `json:"accessor"`
	TTL             int       `json:"ttl"`
	CreationTime    time.Time `json:"creation_time"`
	CreationPath    string    `json:"creation_path"`
	WrappedAccessor string    `json:"wrapped_accessor"`
}

// ParseSecret decodes one envelope from r. It returns nil, nil for an empty
// body (e.g. 204 No Content).
func ParseSecret(r io.Reader) (*Secret, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var s Secret
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("api: decoding response: %w", err)
	}
	return &s, nil
}

// TokenID returns the token of a login/create response (Auth.ClientToken) or
// of a token lookup (Data["id"]).
func (s *Secret) TokenID() string {
	if s == nil {
		return ""
	}
	if s.Auth != nil && s.Auth.ClientToken != "" {
		return s.Auth.ClientToken
	}
	return dataString(s.Data, "id")
}

// TokenAccessor returns the accessor of a login/create or lookup response.
func (s *Secret) TokenAccessor() string {
	if s == nil {
		return ""
	}
	if s.Auth != nil && s.Auth.Accessor != "" {
		return s.Auth.Accessor
	}
	return dataString(s.Data, "accessor")
}

// TokenPolicies returns the policies of a login/create or lookup response.
func (s *Secret) TokenPolicies() []string {
	if s == nil {
		return nil
	}
	if s.Auth != nil && len(s.Auth.Policies) > 0 {
		return s.Auth.Policies
	}
	return dataStrings(s.Data, "policies")
}

// TokenMetadata returns the metadata of a login/create or lookup response.
func (s *Secret) TokenMetadata() map[string]string {
	if s == nil {
		return nil
	}
	if s.Auth != nil && len(s.Auth.Metadata) > 0 {
		return s.Auth.Metadata
	}
	raw, _ := s.Data["meta"].(map[string]any)
	if len(raw) == 0 {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// TokenTTL returns the remaining lifetime of the token (0 means no expiry).
func (s *Secret) TokenTTL() time.Duration {
	if s == nil {
		return 0
	}
	if s.Auth != nil && s.Auth.LeaseDuration > 0 {
		return time.Duration(s.Auth.LeaseDuration) * time.Second
	}
	n, _ := dataInt(s.Data, "ttl")
	return time.Duration(n) * time.Second
}

// TokenIsRenewable reports whether the token can be renewed.
func (s *Secret) TokenIsRenewable() bool {
	if s == nil {
		return false
	}
	if s.Auth != nil {
		return s.Auth.Renewable
	}
	b, _ := s.Data["renewable"].(bool)
	return b
}

func dataString(data map[string]any, key string) string {
	s, _ := data[key].(string)
	return s
}

func dataStrings(data map[string]any, key string) []string {
	raw, _ := data[key].([]any)
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func dataInt(data map[string]any, key string) (int64, bool) {
	switch v := data[key].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case float64:
		return int64(v), true
	case int:
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// ResponseError is returned for every non-2xx response.
type ResponseError struct {
	Method     string
	URL        string // request URL (never contains the token)
	StatusCode int
	// Errors are the server's messages from {"errors": [...]}.
	Errors []string
	// RawMessage holds (the start of) a body that was not an error envelope.
	RawMessage string
}

const maxRawMessage = 4 << 10

func newResponseError(method, url string, status int, body []byte) *ResponseError {
	e := &ResponseError{Method: method, URL: url, StatusCode: status}
	var env struct {
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err == nil {
		e.Errors = env.Errors
		return e
	}
	if len(body) > maxRawMessage {
		body = body[:maxRawMessage]
	}
	e.RawMessage = string(bytes.TrimSpace(body))
	return e
}

// Error formats the error like Vault's client does, ending with the
// server's messages.
func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Error making API request.\n\nURL: %s %s\nCode: %d.", e.Method, e.URL, e.StatusCode)
	switch {
	case len(e.Errors) > 0:
		b.WriteString(" Errors:\n\n")
		for i, m := range e.Errors {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "* %s", m)
		}
	case e.RawMessage != "":
		fmt.Fprintf(&b, " Raw Message:\n\n%s", e.RawMessage)
	}
	return b.String()
}
