package autoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/api"
)

// fakeKinko answers logins with a token per login and records their bodies;
// renew-self answers with renewTTL, or 403 when renewFails.
type fakeKinko struct {
	mu         sync.Mutex
	logins     []map[string]any
	renews     int
	loginTTL   int
	renewTTL   int
	renewFails bool
}

func (f *fakeKinko) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/login") && r.Header.Get("X-Vault-Token") != "":
		w.WriteHeader(400) // a login must not carry a token
	case strings.HasSuffix(r.URL.Path, "/login"):
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.logins = append(f.logins, body)
		tok := "token-" + string(rune('a'+len(f.logins)-1))
		_ = json.NewEncoder(w).Encode(map[string]any{"auth": map[string]any{"client_token": tok, "lease_duration": f.loginTTL, "renewable": true}})
	case r.URL.Path == "/v1/auth/token/renew-self":
		f.renews++
		if f.renewFails {
			w.WriteHeader(403)
			_, _ = io.WriteString(w, `{"errors":["permission denied"]}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"auth": map[string]any{"client_token": r.Header.Get("X-Vault-Token"), "lease_duration": f.renewTTL, "renewable": true}})
	default:
		w.WriteHeader(404)
	}
}

func newFake(t *testing.T, f *fakeKinko) *api.Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := api.NewClient(&api.Config{Address: srv.URL, Token: "must-not-be-used"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAppRoleSecretIDFileLifecycle(t *testing.T) {
	dir := t.TempDir()
	f := &fakeKinko{}
	c := newFake(t, f)
	a := &AppRole{RoleIDFile: filepath.Join(dir, "role"), SecretIDFile: filepath.Join(dir, "secret"), RemoveSecretIDFile: true, MountPath: "/auth/apps/"}
	write(t, a.RoleIDFile, " role-1\n")
	if _, err := a.Login(context.Background(), c); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("no secret ID yet: %v", err)
	}
	write(t, a.SecretIDFile, "secret-1\n")
	for range 2 { // the second login uses the secret ID kept in memory
		if _, err := a.Login(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(a.SecretIDFile); !os.IsNotExist(err) {
			t.Fatalf("secret ID file kept: %v", err)
		}
	}
	write(t, a.SecretIDFile, "secret-2")
	if _, err := a.Login(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	want := []string{"role-1/secret-1", "role-1/secret-1", "role-1/secret-2"}
	for i, l := range f.logins {
		if got := l["role_id"].(string) + "/" + l["secret_id"].(string); got != want[i] {
			t.Errorf("login %d: %s, want %s", i, got, want[i])
		}
	}
	write(t, a.RoleIDFile, "")
	if _, err := a.Login(context.Background(), c); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty role ID: %v", err)
	}
}

func TestJWTReadAtEachLogin(t *testing.T) {
	dir := t.TempDir()
	f := &fakeKinko{}
	c := newFake(t, f)
	j := &JWT{Path: filepath.Join(dir, "jwt"), Role: "web"}
	write(t, j.Path, "jwt-1")
	j.Login(context.Background(), c)
	write(t, j.Path, "jwt-2\n")
	j.Login(context.Background(), c)
	j.RemoveAfterReading = true
	write(t, j.Path, "jwt-3")
	j.Login(context.Background(), c)
	j.Login(context.Background(), c) // the file is gone: the last JWT is used
	var got []string
	for _, l := range f.logins {
		got = append(got, l["jwt"].(string)+"@"+l["role"].(string))
	}
	if strings.Join(got, ",") != "jwt-1@web,jwt-2@web,jwt-3@web,jwt-3@web" {
		t.Fatalf("logins %v", got)
	}
	if _, err := (&JWT{Path: filepath.Join(dir, "none"), Role: "r"}).Login(context.Background(), c); err == nil {
		t.Fatal("a missing JWT file with nothing read before must fail")
	}
}

func TestReadValueRefusesLargeFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	write(t, p, strings.Repeat("x", 64<<10+1))
	if _, err := readValue(p); err == nil || !strings.Contains(err.Error(), "64 KiB") {
		t.Fatalf("err = %v", err)
	}
}

func TestFileSink(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode, want os.FileMode
	}{{0, 0o600}, {0o640, 0o640}} {
		s := &FileSink{Path: filepath.Join(dir, "t"+tc.want.String()), Mode: tc.mode}
		for _, tok := range []string{"first", "second"} {
			if err := s.Write(tok); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(s.Path)
			st, _ := os.Stat(s.Path)
			if string(b) != tok || st.Mode().Perm() != tc.want {
				t.Fatalf("sink %q %v", b, st.Mode())
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestManagerRenewsThenLogsInAgain(t *testing.T) {
	f := &fakeKinko{loginTTL: 1, renewTTL: 1}
	c := newFake(t, f)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "role"), "r")
	var mu sync.Mutex
	var seen []string
	m := New(Config{Method: &AppRole{RoleIDFile: filepath.Join(dir, "role")}, Client: c,
		Sinks:  []*FileSink{{Path: filepath.Join(dir, "sink")}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MinBackoff: 10 * time.Millisecond,
		OnNewToken: func(tok string) { mu.Lock(); seen = append(seen, tok); mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if tok, err := m.WaitToken(ctx); err != nil || tok != "token-a" {
		t.Fatalf("first token %q %v", tok, err)
	}
	wait(t, func() bool { return m.Stats().Renewals >= 2 })
	f.mu.Lock()
	f.renewFails = true
	f.mu.Unlock()
	wait(t, func() bool { return m.Stats().Logins >= 2 })
	if st := m.Stats(); st.RenewalFailures < 1 {
		t.Fatalf("stats %+v", st)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "sink"))
	mu.Lock()
	defer mu.Unlock()
	if string(b) != "token-b" || len(seen) < 2 || seen[0] != "token-a" || seen[1] != "token-b" {
		t.Fatalf("sink %q, OnNewToken %v", b, seen)
	}
}

func TestManagerBacksOffOnFailedLogins(t *testing.T) {
	c := newFake(t, &fakeKinko{loginTTL: 60})
	m := New(Config{Method: &AppRole{RoleIDFile: filepath.Join(t.TempDir(), "missing")}, Client: c,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	wait(t, func() bool { return m.Stats().LoginFailures >= 4 })
	cancel()
	<-done
	if m.Token() != "" {
		t.Fatal("a token without a login")
	}
	if _, err := m.WaitToken(ctx); err == nil {
		t.Fatal("WaitToken after the end without a login")
	}
}

func TestJitter(t *testing.T) {
	for range 100 {
		if d := jitter(time.Second); d > time.Second || d < 750*time.Millisecond {
			t.Fatalf("jitter(1s) = %s", d)
		}
	}
	if jitter(time.Nanosecond) != time.Nanosecond {
		t.Fatal("tiny durations are kept")
	}
}

func wait(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		<-tick.C
	}
}

func TestRemovalFailureIsLoggedNotFatal(t *testing.T) {
	// a non-empty folder cannot be removed, even by root: it stands for a
	// read-only mount such as a Kubernetes projected token
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inside"), "x")
	var logged strings.Builder
	removeRead(slog.New(slog.NewTextHandler(&logged, nil)), dir)
	if !strings.Contains(logged.String(), "could not remove the credential file") {
		t.Fatalf("log: %q", logged.String())
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

func TestIsInvalidToken(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"invalid token", &api.ResponseError{StatusCode: 403, Errors: []string{"permission denied: invalid token"}}, true},
		{"wrapped", fmt.Errorf("reading: %w", &api.ResponseError{StatusCode: 403, Errors: []string{"invalid token"}}), true},
		{"missing permission", &api.ResponseError{StatusCode: 403, Errors: []string{"permission denied"}}, false},
		{"other status", &api.ResponseError{StatusCode: 400, Errors: []string{"invalid token"}}, false},
		{"not a response", errors.New("invalid token"), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		if got := IsInvalidToken(tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
