package awsapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type refuseAll struct{}

func (refuseAll) Verify(context.Context, *http.Request, []byte) (string, error) {
	return "", &AuthError{Code: "UnrecognizedClientException", Status: http.StatusForbidden, Message: "unknown key"}
}

// TestThrottled: a client over its rate gets AWS's ThrottlingException
// before its signature is even checked; others are not affected.
func TestThrottled(t *testing.T) {
	allowed := map[string]bool{"10.0.0.2": true}
	h := New(nil, refuseAll{}, Options{Allow: func(remote string) bool { return allowed[strings.Split(remote, ":")[0]] }})
	for _, tc := range []struct {
		remote string
		status int
		code   string
	}{
		{"10.0.0.1:1234", http.StatusBadRequest, "ThrottlingException"},
		{"10.0.0.2:1234", http.StatusForbidden, "UnrecognizedClientException"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		r.RemoteAddr = tc.remote
		r.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var body struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != tc.status || body.Type != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.remote, w.Code, w.Body, tc.status, tc.code)
		}
	}
}
