package api_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/server"
	"github.com/kinko-dev/kinko/internal/testserver"
)

// TestAuditDevices drives the audit calls against a real server: enable a
// file device, list it, hash with it, read its chain, disable it.
func TestAuditDevices(t *testing.T) {
	dir := t.TempDir()
	ts := testserver.StartWith(t, server.DevOptions{AuditDir: dir})
	c, err := api.NewClient(&api.Config{Address: ts.Addr, Token: ts.RootToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	logPath := filepath.Join(dir, "audit.log")
	in := &api.EnableAuditOptions{Type: "file", Description: "main", Options: map[string]string{"file_path": logPath}}
	if err := c.EnableAudit(ctx, "/main/", in); err != nil {
		t.Fatalf("EnableAudit: %v", err)
	}
	devs, err := c.ListAudit(ctx)
	if err != nil || len(devs) != 1 {
		t.Fatalf("ListAudit = %v, %v", devs, err)
	}
	d := devs["main/"]
	if d == nil || d.Type != "file" || d.Description != "main" || d.Options["file_path"] != logPath || d.Declared {
		t.Fatalf("main/ = %+v", d)
	}
	h1, err := c.AuditHash(ctx, "main", "s3cret")
	h2, err2 := c.AuditHash(ctx, "main/", "s3cret")
	if err != nil || err2 != nil || !strings.HasPrefix(h1, "hmac-sha256:") || h1 != h2 {
		t.Fatalf("AuditHash = %q %v, %q %v", h1, err, h2, err2)
	}
	ch, err := c.AuditChain(ctx, "main")
	if err != nil || ch.Seq == 0 || !strings.HasPrefix(ch.HeadHMAC, "hmac-sha256:") {
		t.Fatalf("AuditChain = %+v, %v", ch, err)
	}
	if k, err := hex.DecodeString(ch.ChainKey); err != nil || len(k) == 0 {
		t.Fatalf("chain key %q: %v", ch.ChainKey, err)
	}
	if err := c.DisableAudit(ctx, "main"); err != nil {
		t.Fatalf("DisableAudit: %v", err)
	}
	if devs, err := c.ListAudit(ctx); err != nil || len(devs) != 0 {
		t.Fatalf("after disable: %v, %v", devs, err)
	}
	_, err = c.AuditChain(ctx, "main")
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Fatalf("chain of a disabled device: %v", err)
	}
}
