package ssrf

import (
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
)

func TestGuard(t *testing.T) {
	const tok = "0123456789abcdef-token"
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	strict := New(tok, false, quiet, AgentTokenHeader, VaultTokenHeader)
	lax := New(tok, true, quiet, AgentTokenHeader)
	tests := []struct {
		name    string
		g       *Guard
		remote  string
		headers map[string]string
		want    error
	}{
		{"token in agent header", strict, "127.0.0.1:5000", map[string]string{AgentTokenHeader: tok}, nil},
		{"token in vault header", strict, "127.0.0.1:5000", map[string]string{VaultTokenHeader: tok}, nil},
		{"ipv6 loopback", strict, "[::1]:5000", map[string]string{AgentTokenHeader: tok}, nil},
		{"mapped loopback", strict, "[::ffff:127.0.0.1]:5000", map[string]string{AgentTokenHeader: tok}, nil},
		{"no token", strict, "127.0.0.1:5000", nil, ErrBadToken},
		{"wrong token", strict, "127.0.0.1:5000", map[string]string{AgentTokenHeader: "0123456789abcdef-tokeN"}, ErrBadToken},
		{"token prefix", strict, "127.0.0.1:5000", map[string]string{AgentTokenHeader: tok[:10]}, ErrBadToken},
		{"token in another header", strict, "127.0.0.1:5000", map[string]string{AWSTokenHeader: tok}, ErrBadToken},
		{"x-forwarded-for", strict, "127.0.0.1:5000", map[string]string{AgentTokenHeader: tok, "X-Forwarded-For": "10.0.0.1"}, ErrForwarded},
		{"forwarded", strict, "127.0.0.1:5000", map[string]string{AgentTokenHeader: tok, "Forwarded": "for=10.0.0.1"}, ErrForwarded},
		{"other host", strict, "10.1.2.3:5000", map[string]string{AgentTokenHeader: tok}, ErrNotLoopback},
		{"garbage remote", strict, "nonsense", map[string]string{AgentTokenHeader: tok}, ErrNotLoopback},
		{"allowed: forwarded from another host", lax, "10.1.2.3:5000", map[string]string{AgentTokenHeader: tok, "X-Forwarded-For": "1.2.3.4"}, nil},
		{"allowed still needs the token", lax, "10.1.2.3:5000", nil, ErrBadToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/secret/data/x", nil)
			r.RemoteAddr = tc.remote
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if err := tc.g.Check(r); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Check = %v, want %v", err, tc.want)
			}
		})
	}
}
