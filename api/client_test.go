package api

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wireServer is an httptest server that answers with Vault's wire shapes.
// Each route is "METHOD /v1/path"; the handler sees the decoded JSON body.
type wireServer struct {
	t      testing.TB
	srv    *httptest.Server
	routes map[string]func(w http.ResponseWriter, r *http.Request, body map[string]any)
	last   *http.Request
}

func newWireServer(t testing.TB) *wireServer {
	ws := &wireServer{t: t, routes: map[string]func(http.ResponseWriter, *http.Request, map[string]any){}}
	ws.srv = httptest.NewServer(http.HandlerFunc(ws.serve))
	t.Cleanup(ws.srv.Close)
	return ws
}

func (ws *wireServer) serve(w http.ResponseWriter, r *http.Request) {
	ws.last = r
	h, ok := ws.routes[r.Method+" "+r.URL.Path]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []string{}})
		return
	}
	var body map[string]any
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 {
			if err := json.Unmarshal(b, &body); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []string{"bad json"}})
				return
			}
		}
	}
	h(w, r, body)
}

func (ws *wireServer) handle(route string, h func(http.ResponseWriter, *http.Request, map[string]any)) {
	ws.routes[route] = h
}

// reply registers a route answering status with v as JSON (no body if nil).
func (ws *wireServer) reply(route string, status int, v any) {
	ws.handle(route, func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		if v == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, v)
	})
}

func (ws *wireServer) client(t *testing.T, token string) *Client {
	t.Helper()
	c, err := NewClient(&Config{Address: ws.srv.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func envelope(data map[string]any) map[string]any {
	return map[string]any{"request_id": "req-1", "lease_id": "", "renewable": false,
		"lease_duration": 0, "data": data, "wrap_info": nil, "warnings": nil, "auth": nil}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"defaults", nil, Config{Address: DefaultAddress}},
		{"kinko wins over vault", map[string]string{
			EnvAddress: "http://k:1", EnvVaultAddress: "http://v:1", EnvToken: "kt", EnvVaultToken: "vt",
			EnvCACert: "k.pem", EnvVaultCACert: "v.pem", EnvSkipVerify: "true",
		}, Config{Address: "http://k:1", Token: "kt", TLS: TLSConfig{CACert: "k.pem", Insecure: true}}},
		{"vault fallback", map[string]string{
			EnvVaultAddress: "http://v:1", EnvVaultToken: "vt", EnvVaultCACert: "v.pem", EnvVaultSkipVerify: "1",
		}, Config{Address: "http://v:1", Token: "vt", TLS: TLSConfig{CACert: "v.pem", Insecure: true}}},
		{"unparsable skip-verify is false", map[string]string{EnvSkipVerify: "maybe"}, Config{Address: DefaultAddress}},
		{"client certificate and wrap TTL", map[string]string{
			EnvClientCert: "kc.pem", EnvVaultClientCert: "vc.pem", EnvClientKey: "kk.pem", EnvVaultClientKey: "vk.pem",
			EnvWrapTTL: "5m", EnvVaultWrapTTL: "1m",
		}, Config{Address: DefaultAddress, TLS: TLSConfig{ClientCert: "kc.pem", ClientKey: "kk.pem"}, WrapTTL: "5m"}},
		{"vault client certificate and wrap TTL fallback", map[string]string{
			EnvVaultClientCert: "vc.pem", EnvVaultClientKey: "vk.pem", EnvVaultWrapTTL: "60",
		}, Config{Address: DefaultAddress, TLS: TLSConfig{ClientCert: "vc.pem", ClientKey: "vk.pem"}, WrapTTL: "60"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestNewClientAddress(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr bool
	}{
		{"http://127.0.0.1:8200", false},
		{"https://kinko.example/prefix/", false},
		{"", false}, // default address
		{"127.0.0.1:8200", true},
		{"ftp://host", true},
		{"http://", true},
	}
	for _, tt := range tests {
		_, err := NewClient(&Config{Address: tt.addr})
		if (err != nil) != tt.wantErr {
			t.Errorf("NewClient(%q) error = %v, wantErr %v", tt.addr, err, tt.wantErr)
		}
	}
}

func TestLogicalOperations(t *testing.T) {
	ws := newWireServer(t)
	ws.handle("GET /v1/secret/data/app", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if r.Header.Get("X-Vault-Token") != "tok" || r.URL.Query().Get("version") != "2" {
			writeJSON(w, http.StatusForbidden, map[string]any{"errors": []string{"permission denied"}})
			return
		}
		writeJSON(w, 200, envelope(map[string]any{"data": map[string]any{"big": json.Number("12345678901234567890")}}))
	})
	ws.reply("GET /v1/secret/data/deleted", 404, envelope(map[string]any{"data": nil,
		"metadata": map[string]any{"version": 3, "deletion_time": "2024-01-01T00:00:00Z"}}))
	ws.reply("LIST /v1/secret/metadata/", 200, envelope(map[string]any{"keys": []string{"a", "b/"}}))
	ws.handle("PUT /v1/secret/data/app", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		writeJSON(w, 200, envelope(map[string]any{"echo": body, "ctype": r.Header.Get("Content-Type")}))
	})
	ws.handle("PATCH /v1/secret/data/app", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		writeJSON(w, 200, envelope(map[string]any{"echo": body, "ctype": r.Header.Get("Content-Type")}))
	})
	ws.reply("DELETE /v1/secret/data/app", 204, nil)
	ctx := context.Background()
	c := ws.client(t, "tok")

	s, err := c.Read(ctx, "secret/data/app", url.Values{"version": {"2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Data["data"].(map[string]any)["big"].(json.Number).String(); got != "12345678901234567890" {
		t.Errorf("large number decoded as %s", got)
	}
	if s, err := c.Read(ctx, "secret/data/missing", nil); s != nil || err != nil {
		t.Errorf("missing: got %v, %v; want nil, nil", s, err)
	}
	if s, err := c.Read(ctx, "secret/data/deleted", nil); err != nil || s == nil || s.Data["metadata"] == nil {
		t.Errorf("deleted version: got %v, %v; want the metadata", s, err)
	}
	if s, err := c.List(ctx, "secret/metadata/"); err != nil || len(s.Data["keys"].([]any)) != 2 {
		t.Errorf("list: got %v, %v", s, err)
	}
	s, err = c.Write(ctx, "secret/data/app", map[string]any{"data": map[string]any{"k": "v"}})
	if err != nil || s.Data["ctype"] != "application/json" || s.Data["echo"] == nil {
		t.Errorf("write: got %v, %v", s, err)
	}
	s, err = c.Patch(ctx, "secret/data/app", map[string]any{"data": map[string]any{"k": nil}})
	if err != nil || s.Data["ctype"] != "application/merge-patch+json" {
		t.Errorf("patch: got %v, %v", s, err)
	}
	if s, err := c.Delete(ctx, "secret/data/app"); s != nil || err != nil {
		t.Errorf("delete: got %v, %v; want nil, nil", s, err)
	}
}

func TestResponseError(t *testing.T) {
	ws := newWireServer(t)
	ws.reply("GET /v1/secret/data/app", 403, map[string]any{"errors": []string{"permission denied"}})
	ws.handle("PUT /v1/sys/seal", func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>bad gateway</html>")
	})
	c := ws.client(t, "secret-token-value")
	_, err := c.Read(context.Background(), "secret/data/app", nil)
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("got %T %v, want *ResponseError", err, err)
	}
	if re.StatusCode != 403 || len(re.Errors) != 1 || re.Errors[0] != "permission denied" {
		t.Errorf("got %+v", re)
	}
	msg := err.Error()
	if !strings.Contains(msg, "Code: 403") || !strings.Contains(msg, "* permission denied") ||
		!strings.Contains(msg, "GET "+ws.srv.URL+"/v1/secret/data/app") {
		t.Errorf("message lacks status, URL or server message:\n%s", msg)
	}
	if strings.Contains(msg, "secret-token-value") {
		t.Error("error message contains the token")
	}
	err = c.Seal(context.Background())
	if !errors.As(err, &re) || re.StatusCode != 502 || !strings.Contains(re.RawMessage, "bad gateway") {
		t.Errorf("non-JSON error body: got %v", err)
	}
}

func TestBoundedResponse(t *testing.T) {
	ws := newWireServer(t)
	big := strings.Repeat("x", 4096)
	ws.reply("GET /v1/big", 200, envelope(map[string]any{"v": big}))
	ws.reply("GET /v1/big-error", 500, map[string]any{"errors": []string{big}})
	c, err := NewClient(&Config{Address: ws.srv.URL, MaxResponseBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(context.Background(), "big", nil); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("got %v, want ErrResponseTooLarge", err)
	}
	var re *ResponseError
	if _, err := c.Read(context.Background(), "big-error", nil); !errors.As(err, &re) || re.StatusCode != 500 {
		t.Errorf("oversized error body: got %v, want a *ResponseError", err)
	}
	// Exactly at the limit is fine.
	c2, _ := NewClient(&Config{Address: ws.srv.URL, MaxResponseBytes: 1 << 20})
	if _, err := c2.Read(context.Background(), "big", nil); err != nil {
		t.Errorf("within limit: %v", err)
	}
}

func TestTokenHeaderAndSetToken(t *testing.T) {
	ws := newWireServer(t)
	ws.handle("GET /v1/auth/token/lookup-self", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		writeJSON(w, 200, envelope(map[string]any{"id": r.Header.Get("X-Vault-Token"),
			"request": r.Header.Get("X-Vault-Request")}))
	})
	c := ws.client(t, "")
	for _, tok := range []string{"", "t1", "t2"} {
		c.SetToken(tok)
		s, err := c.Read(context.Background(), "auth/token/lookup-self", nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.TokenID() != tok || s.Data["request"] != "true" {
			t.Errorf("token %q: server saw %v", tok, s.Data)
		}
	}
	if got := c.WithToken("other").Token(); got != "other" || c.Token() != "t2" {
		t.Errorf("WithToken changed the original or did not take: %q %q", got, c.Token())
	}
}

func TestRedirects(t *testing.T) {
	ws := newWireServer(t)
	ws.reply("GET /v1/target", 200, envelope(map[string]any{"ok": true}))
	ws.handle("GET /v1/same-host", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		http.Redirect(w, r, "/v1/target", http.StatusTemporaryRedirect)
	})
	ws.handle("GET /v1/other-host", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		http.Redirect(w, r, "http://other.invalid/v1/target", http.StatusTemporaryRedirect)
	})
	c := ws.client(t, "tok")
	if s, err := c.Read(context.Background(), "same-host", nil); err != nil || s.Data["ok"] != true {
		t.Errorf("same-host redirect: %v, %v", s, err)
	}
	_, err := c.Read(context.Background(), "other-host", nil)
	if err == nil || !strings.Contains(err.Error(), "refusing to follow redirect") {
		t.Errorf("cross-host http redirect: got %v, want refusal", err)
	}
}

func TestTLSCACert(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"initialized": true, "sealed": false})
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tls  TLSConfig
		ok   bool
	}{
		{"unknown CA rejected", TLSConfig{}, false},
		{"CA file trusted", TLSConfig{CACert: caFile}, true},
		{"insecure skips verification", TLSConfig{Insecure: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(&Config{Address: srv.URL, TLS: tt.tls})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SealStatus(context.Background())
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if _, err := NewClient(&Config{Address: srv.URL, TLS: TLSConfig{CACert: filepath.Join(t.TempDir(), "none")}}); err == nil {
		t.Error("missing CA file accepted")
	}
}
