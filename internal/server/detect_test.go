package server_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/kinko-dev/kinko/internal/detect"
	"github.com/kinko-dev/kinko/internal/detect/alert"
	"github.com/kinko-dev/kinko/internal/hooksig"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// webhookReceiver records the findings posted to it, checking signatures.
type webhookReceiver struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	got    []alert.Payload
}

func (w *webhookReceiver) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := hooksig.VerifySignature(w.secret, r.Header.Get(alert.TimestampHeader), body, r.Header.Get(alert.SignatureHeader)); err != nil {
		w.t.Errorf("webhook signature: %v", err)
		rw.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p alert.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		w.t.Errorf("webhook body: %v", err)
	}
	w.mu.Lock()
	w.got = append(w.got, p)
	w.mu.Unlock()
	rw.WriteHeader(http.StatusNoContent)
}

func (w *webhookReceiver) rules() map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]bool{}
	for _, p := range w.got {
		out[p.Finding.Rule] = true
	}
	return out
}

// eventually polls cond until it holds or 10s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func findings(t *testing.T, c *vault.Client, rule string) []detect.Finding {
	t.Helper()
	s, err := c.Logical().ReadWithData("sys/detect/findings", map[string][]string{"rule": {rule}})
	must(t, err)
	if s == nil {
		return nil
	}
	b, _ := json.Marshal(s.Data["findings"])
	var out []detect.Finding
	_ = json.Unmarshal(b, &out)
	return out
}

// TestDetectionEndToEnd drives a real server into the detector's rules and
// checks the findings, the signed webhook alerts and an automatic response.
func TestDetectionEndToEnd(t *testing.T) {
	ts := testserver.Start(t)
	c := testserver.VaultClient(t, ts.Addr, ts.RootToken)
	recv := &webhookReceiver{t: t, secret: []byte("0123456789abcdef-webhook")}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	_, err := c.Logical().Write("sys/detect/sinks/ops", map[string]any{"type": "webhook", "url": hook.URL, "secret": string(recv.secret)})
	must(t, err)
	sink, err := c.Logical().Read("sys/detect/sinks/ops")
	must(t, err)
	if sink.Data["secret"] != nil || sink.Data["url"] != hook.URL {
		t.Fatalf("sink read back: %v", sink.Data)
	}
	test, err := c.Logical().Write("sys/detect/sinks/ops/test", nil)
	must(t, err)
	if test.Data["delivered"] != true || !recv.rules()["test"] {
		t.Fatalf("test alert: %v", test.Data)
	}

	// A burst of denials from one token: found, alerted, and (as set)
	// answered by revoking the token.
	_, err = c.Logical().Write("sys/detect/rules/denied_burst", map[string]any{"threshold": 5, "response": "revoke_token"})
	must(t, err)
	tok, err := c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"default"}})
	must(t, err)
	intruder := testserver.VaultClient(t, ts.Addr, tok.Auth.ClientToken)
	for i := 0; i < 5; i++ {
		if _, err := intruder.Logical().Read("secret/data/prod/db"); err == nil {
			t.Fatal("default token read a secret")
		}
	}
	eventually(t, "denied_burst finding", func() bool { return len(findings(t, c, "denied_burst")) > 0 })
	f := findings(t, c, "denied_burst")[0]
	if f.Subject.Accessor != tok.Auth.Accessor || len(f.Evidence) < 5 || len(f.Actions) == 0 {
		t.Fatalf("finding = %+v", f)
	}
	if _, err := c.Auth().Token().LookupAccessor(tok.Auth.Accessor); err == nil {
		t.Fatal("the automatic response did not revoke the token")
	}
	eventually(t, "denied_burst alert", func() bool { return recv.rules()["denied_burst"] })

	// A child token used after its parent was revoked.
	must(t, c.Sys().PutPolicy("creator", `path "auth/token/create" { capabilities = ["update"] }`))
	parent, err := c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"creator"}})
	must(t, err)
	child, err := testserver.VaultClient(t, ts.Addr, parent.Auth.ClientToken).Auth().Token().Create(&vault.TokenCreateRequest{})
	must(t, err)
	must(t, c.Auth().Token().RevokeTree(parent.Auth.ClientToken))
	_, err = testserver.VaultClient(t, ts.Addr, child.Auth.ClientToken).Auth().Token().LookupSelf()
	var re *vault.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 403 {
		t.Fatalf("revoked child token: %v", err)
	}
	eventually(t, "revoked_parent_token_use finding", func() bool { return len(findings(t, c, "revoked_parent_token_use")) > 0 })

	// Root token use is reported.
	eventually(t, "root_token_use finding", func() bool { return len(findings(t, c, "root_token_use")) > 0 })
	status, err := c.Logical().Read("sys/detect/status")
	must(t, err)
	if status.Data == nil {
		t.Fatal("no detector status")
	}
	// Sinks are sudo-only: a default token cannot point alerts elsewhere.
	other, err := c.Auth().Token().Create(&vault.TokenCreateRequest{Policies: []string{"default"}})
	must(t, err)
	if _, err := testserver.VaultClient(t, ts.Addr, other.Auth.ClientToken).Logical().Write("sys/detect/sinks/x",
		map[string]any{"type": "log"}); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("default token configured a sink: %v", err)
	}
}

func TestDetectionLoginFailures(t *testing.T) {
	ts := testserver.Start(t)
	c := testserver.VaultClient(t, ts.Addr, ts.RootToken)
	must(t, c.Sys().EnableAuthWithOptions("userpass", &vault.EnableAuthOptions{Type: "userpass"}))
	_, err := c.Logical().Write("auth/userpass/users/bob", map[string]any{"password": "right-password-1"})
	must(t, err)
	_, err = c.Logical().Write("sys/detect/rules/login_failure_spike", map[string]any{"threshold": 4})
	must(t, err)
	anon := testserver.VaultClient(t, ts.Addr, "")
	for i := 0; i < 4; i++ {
		if _, err := anon.Logical().Write("auth/userpass/login/bob", map[string]any{"password": "guess"}); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	eventually(t, "login_failure_spike finding", func() bool { return len(findings(t, c, "login_failure_spike")) > 0 })
	f := findings(t, c, "login_failure_spike")[0]
	if f.Subject.RemoteAddr != "127.0.0.1" && f.Subject.Path == "" {
		t.Fatalf("finding subject: %+v", f)
	}
}
