package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

var quiet = slog.New(slog.DiscardHandler)

var hashRE = regexp.MustCompile(`hmac-sha256:[0-9a-f]{64}`)

func testConfig(t *testing.T, typ string, opts map[string]string) Config {
	t.Helper()
	c := Config{Path: typ + "/", Type: typ, Options: opts}
	if err := c.NewKeys(); err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleInput(secret string) *Input {
	return &Input{
		Request: &logical.Request{
			ID: "req-1", Operation: logical.UpdateOperation, Path: "secret/data/app",
			ClientToken: "hvs.rootTokenValue", Conn: &logical.Connection{RemoteAddr: "10.1.2.3:5555"},
			Data: map[string]any{"data": map[string]any{"password": secret, "pin": 4711, "list": []any{secret}}},
		},
		Auth:      &logical.Auth{Accessor: "accessorValue", Policies: []string{"root"}, DisplayName: "root"},
		MountType: "kv", MountPoint: "secret/", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Response: &logical.Response{
			Data: map[string]any{"data": map[string]any{"password": secret}},
			Auth: &logical.Auth{ClientToken: "hvs.newLoginToken", Accessor: "newAccessor"},
		},
	}
}

func newFileDevice(t *testing.T, path string, opts map[string]string) *Device {
	t.Helper()
	o := map[string]string{"file_path": path}
	for k, v := range opts {
		o[k] = v
	}
	c := testConfig(t, "file", o)
	c.Path = filepath.Base(path) + "/"
	d, err := Open(c, filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestNoPlaintextAndHashReproduces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	d := newFileDevice(t, path, nil)
	b := NewBroker(quiet)
	if err := b.Add(d); err != nil {
		t.Fatal(err)
	}
	in := sampleInput("s3cr3t-hunter2")
	if err := b.LogRequest(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if err := b.LogResponse(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(path)
	// The HMACs are random hex, so a short plaintext such as "4711" can occur
	// inside one by chance: look for leaks only outside the hashes.
	unhashed := hashRE.ReplaceAll(log, []byte("HASH"))
	for _, leak := range []string{"s3cr3t-hunter2", "hvs.rootTokenValue", "hvs.newLoginToken", "accessorValue", "newAccessor", "4711"} {
		if bytes.Contains(unhashed, []byte(leak)) {
			t.Errorf("audit log contains %q:\n%s", leak, log)
		}
	}
	for _, want := range []string{d.Hash("s3cr3t-hunter2"), d.Hash("hvs.rootTokenValue"), d.Hash("4711"), `"path":"secret/data/app"`,
		`"remote_address":"10.1.2.3"`, `"type":"request"`, `"type":"response"`, `"operation":"update"`} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("audit log lacks %q", want)
		}
	}
	if d.Hash("x") != d.Hash("x") || d.Hash("x") == d.Hash("y") || !strings.HasPrefix(d.Hash("x"), HashPrefix) {
		t.Error("Hash is not a deterministic HMAC")
	}
	other := newFileDevice(t, filepath.Join(t.TempDir(), "b.log"), nil)
	if other.Hash("x") == d.Hash("x") {
		t.Error("two devices share a salt")
	}
}

func TestLogRaw(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	b := NewBroker(quiet)
	_ = b.Add(newFileDevice(t, path, map[string]string{"log_raw": "true", "hmac_accessor": "false"}))
	if err := b.LogResponse(context.Background(), sampleInput("visible")); err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(path)
	for _, want := range []string{"visible", "hvs.rootTokenValue", `"pin":4711`, `"accessor":"accessorValue"`} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("raw log lacks %q:\n%s", want, log)
		}
	}
}

func TestOptionsValidated(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		conf Config
		dir  string
		want string
	}{
		{"unknown type", Config{Type: "carrier-pigeon"}, dir, "unknown device type"},
		{"no path", Config{Type: "file", Options: map[string]string{}}, dir, "file_path is required"},
		{"bad mode", Config{Type: "file", Options: map[string]string{"file_path": dir + "/a", "mode": "rw"}}, dir, "octal"},
		{"outside dir", Config{Type: "file", Options: map[string]string{"file_path": "/etc/cron.d/x"}}, dir, "below the audit directory"},
		{"no audit dir", Config{Type: "file", Options: map[string]string{"file_path": dir + "/a"}}, "", "audit_dir"},
		{"relative", Config{Type: "file", Options: map[string]string{"file_path": "a.log"}}, dir, "absolute"},
		{"bad bool", Config{Type: "file", Options: map[string]string{"file_path": dir + "/b", "log_raw": "yes please"}}, dir, "true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.conf
			_ = c.NewKeys()
			_, err := Open(c, tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSymlinkEscapeRefused(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "target"), filepath.Join(dir, "file.log")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "link", "audit.log"), filepath.Join(dir, "file.log")} {
		c := testConfig(t, "file", map[string]string{"file_path": p})
		if _, err := Open(c, dir); err == nil {
			t.Errorf("%s: symlink out of the audit dir accepted", p)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "target")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a file was created outside the audit dir")
	}
}

func TestFailClosed(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("/dev/full is not available")
	}
	c := testConfig(t, "file", map[string]string{"file_path": "/dev/full"})
	c.Declared = true
	full, err := Open(c, "")
	if err == nil {
		// /dev/full is not a regular file: refused at open, which is the
		// safe outcome too.
		_ = full.Close()
		t.Fatal("a non-regular file was accepted as an audit log")
	}
	b := NewBroker(quiet)
	path := filepath.Join(t.TempDir(), "audit.log")
	d := newFileDevice(t, path, nil)
	_ = b.Add(d)
	if err := b.LogRequest(context.Background(), sampleInput("v")); err != nil {
		t.Fatal(err)
	}
	// Replace the file by a directory: reopening (SIGHUP) fails, and with
	// no device able to record, the broker refuses.
	_ = os.Remove(path)
	_ = os.Mkdir(path, 0o700)
	if err := b.Reopen(); err == nil {
		t.Fatal("reopen of a directory succeeded")
	}
	if err := b.LogRequest(context.Background(), sampleInput("v")); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("err = %v, want ErrNoDevice", err)
	}
	// A second, working device keeps the server serving.
	_ = b.Add(newFileDevice(t, filepath.Join(t.TempDir(), "second.log"), nil))
	if err := b.LogRequest(context.Background(), sampleInput("v")); err != nil {
		t.Fatalf("one working device must be enough: %v", err)
	}
	// Fix the first device: it recovers on the next write.
	_ = os.Remove(path)
	if err := b.LogRequest(context.Background(), sampleInput("v")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("first device did not recover: %v", err)
	}
}

func TestBrokerWithoutDevicesIsOpen(t *testing.T) {
	if err := NewBroker(quiet).LogRequest(context.Background(), sampleInput("v")); err != nil {
		t.Fatal(err)
	}
}

// TestReadEntriesWrittenTogether: a read's request entry waits for its
// response entry and both are written as consecutive lines, before the
// response may be served.
func TestReadEntriesWrittenTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	b := NewBroker(quiet)
	_ = b.Add(newFileDevice(t, path, nil))
	in := sampleInput("read-value")
	in.Request.Operation = logical.ReadOperation
	if err := b.LogRequest(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() != 0 {
		t.Fatal("a read's request entry was written before its response")
	}
	if err := b.LogResponse(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(path)
	lines := bytes.Split(bytes.TrimSpace(log), []byte("\n"))
	if len(lines) != 2 || !bytes.Contains(lines[0], []byte(`"type":"request"`)) || !bytes.Contains(lines[0], []byte(`"seq":1,`)) ||
		!bytes.Contains(lines[1], []byte(`"type":"response"`)) || !bytes.Contains(lines[1], []byte(`"seq":2,`)) {
		t.Fatalf("log:\n%s", log)
	}
	// The request parts of both entries are the same bytes.
	req0 := lines[0][bytes.Index(lines[0], []byte(`"request":`)):bytes.Index(lines[0], []byte(`,"seq"`))]
	if !bytes.Contains(lines[1], req0) {
		t.Fatal("the response entry's request part differs from the request entry's")
	}
}
