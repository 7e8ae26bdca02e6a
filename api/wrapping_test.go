package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseWrapTTL(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5m", 5 * time.Minute, true},
		{"300", 300 * time.Second, true},
		{" 90s ", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"1s", time.Second, true},
		{"500ms", 0, false},
		{"0", 0, false},
		{"-5", 0, false},
		{"-1m", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseWrapTTL(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseWrapTTL(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// wrapRecorder answers every request with an empty envelope and records
// the X-Vault-Wrap-TTL header each path received.
type wrapRecorder struct {
	mu   sync.Mutex
	seen map[string]string
}

func (wr *wrapRecorder) install(ws *wireServer, routes ...string) {
	wr.seen = map[string]string{}
	for _, route := range routes {
		ws.handle(route, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			wr.mu.Lock()
			wr.seen[r.URL.Path] = r.Header.Get(wrapTTLHeader)
			wr.mu.Unlock()
			writeJSON(w, 200, envelope(map[string]any{"path": "secret/", "type": "kv", "help": "h"}))
		})
	}
}

func (wr *wrapRecorder) header(path string) string {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	return wr.seen[path]
}

func TestWrapTTLHeader(t *testing.T) {
	ws := newWireServer(t)
	var wr wrapRecorder
	wr.install(ws, "GET /v1/secret/data/x", "GET /v1/sys/internal/ui/mounts/secret/x",
		"GET /v1/auth/userpass", "PUT /v1/sys/wrapping/lookup", "PUT /v1/secret/data/y")
	ctx := context.Background()

	if _, err := NewClient(&Config{Address: ws.srv.URL, WrapTTL: "soon"}); err == nil {
		t.Fatal("invalid Config.WrapTTL accepted")
	}
	c, err := NewClient(&Config{Address: ws.srv.URL, Token: "root", WrapTTL: "5m"})
	if err != nil {
		t.Fatal(err)
	}
	if c.WrapTTL() != 5*time.Minute {
		t.Errorf("WrapTTL() = %v", c.WrapTTL())
	}
	calls := []struct {
		name, path, want string
		call             func() error
	}{
		{"logical read is wrapped", "/v1/secret/data/x", "300s", func() error { _, err := c.Read(ctx, "secret/data/x", nil); return err }},
		{"token copy keeps wrapping", "/v1/secret/data/y", "300s", func() error {
			_, err := c.WithToken("other").Write(ctx, "secret/data/y", map[string]any{"a": "b"})
			return err
		}},
		{"mount look-up is not wrapped", "/v1/sys/internal/ui/mounts/secret/x", "", func() error {
			_, err := c.MountInfoForPath(ctx, "secret/x")
			return err
		}},
		{"help is not wrapped", "/v1/auth/userpass", "", func() error { _, err := c.Help(ctx, "auth/userpass/"); return err }},
		{"wrap lookup is not wrapped", "/v1/sys/wrapping/lookup", "", func() error { _, err := c.WrapLookup(ctx, "w"); return err }},
	}
	for _, tt := range calls {
		if err := tt.call(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := wr.header(tt.path); got != tt.want {
			t.Errorf("%s: X-Vault-Wrap-TTL = %q, want %q", tt.name, got, tt.want)
		}
	}
	c.SetWrapTTL(90 * time.Second)
	if _, err := c.Read(ctx, "secret/data/x", nil); err != nil || wr.header("/v1/secret/data/x") != "90s" {
		t.Errorf("after SetWrapTTL(90s): header %q, %v", wr.header("/v1/secret/data/x"), err)
	}
	c.SetWrapTTL(0)
	if _, err := c.Read(ctx, "secret/data/x", nil); err != nil || wr.header("/v1/secret/data/x") != "" {
		t.Errorf("after SetWrapTTL(0): header %q, %v", wr.header("/v1/secret/data/x"), err)
	}
}

func TestUnwrap(t *testing.T) {
	ws := newWireServer(t)
	type seen struct{ token, bodyToken string }
	var got seen
	ws.handle("PUT /v1/sys/wrapping/unwrap", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		bt, _ := body["token"].(string)
		got = seen{r.Header.Get("X-Vault-Token"), bt}
		if bt == "spent" || (bt == "" && got.token == "spent") {
			writeJSON(w, 400, map[string]any{"errors": []string{"wrapping token is not valid or does not exist"}})
			return
		}
		writeJSON(w, 200, envelope(map[string]any{"password": "hunter2"}))
	})
	ctx := context.Background()
	tests := []struct {
		name, clientToken, arg string
		want                   seen
	}{
		{"no argument: the client's token is the wrapping token", "wrap-1", "", seen{"wrap-1", ""}},
		{"argument equal to the client's token", "wrap-1", " wrap-1 ", seen{"wrap-1", ""}},
		{"client without a token authenticates with the wrapping token", "", "wrap-2", seen{"wrap-2", ""}},
		{"client with a token sends the wrapping token in the body", "root", "wrap-3", seen{"root", "wrap-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ws.client(t, tt.clientToken).Unwrap(ctx, tt.arg)
			if err != nil || s == nil || s.Data["password"] != "hunter2" {
				t.Fatalf("Unwrap = %+v, %v", s, err)
			}
			if got != tt.want {
				t.Errorf("server saw %+v, want %+v", got, tt.want)
			}
		})
	}
	_, err := ws.client(t, "root").Unwrap(ctx, "spent")
	if err == nil || !strings.Contains(err.Error(), "wrapping token is not valid") {
		t.Errorf("spent token: err = %v", err)
	}
}

func TestHelp(t *testing.T) {
	ws := newWireServer(t)
	var query string
	ws.handle("GET /v1/auth/userpass", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		query = r.URL.RawQuery
		writeJSON(w, 200, envelope(map[string]any{"help": "log in with a password", "paths": []string{"login"}}))
	})
	ws.reply("GET /v1/auth/vault-style", 200, map[string]any{"help": "top-level help", "see_also": []string{"x"}})
	c := ws.client(t, "root")
	h, err := c.Help(context.Background(), "/auth/userpass/")
	if err != nil || h.Help != "log in with a password" || query != "help=1" {
		t.Errorf("Help = %+v, %v (query %q)", h, err, query)
	}
	h, err = c.Help(context.Background(), "auth/vault-style")
	if err != nil || h.Help != "top-level help" || len(h.SeeAlso) != 1 {
		t.Errorf("top-level Help = %+v, %v", h, err)
	}
	if _, err := c.Help(context.Background(), "auth/none"); err == nil {
		t.Error("help of an unknown path: no error")
	}
}
