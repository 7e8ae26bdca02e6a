package transit

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestAutoRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.b.Initialize(ctx, e.s); err != nil {
		t.Fatal(err)
	}
	e.createKey("auto", typeAES256, map[string]any{"auto_rotate_period": "1h"})
	e.createKey("manual", typeAES256, nil)
	e.fail(logical.UpdateOperation, "keys/short", map[string]any{"auto_rotate_period": "30m"}, "at least an hour")
	latest := func(name string) int {
		return e.ok(logical.ReadOperation, "keys/"+name, nil).Data["latest_version"].(int)
	}
	e.clock.Advance(59 * time.Minute)
	if err := e.b.sched.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if latest("auto") != 1 {
		t.Fatal("rotated before the period ended")
	}
	e.clock.Advance(2 * time.Minute)
	if err := e.b.sched.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if latest("auto") != 2 || latest("manual") != 1 {
		t.Fatalf("after the period: auto v%d, manual v%d", latest("auto"), latest("manual"))
	}
	// The next rotation counts from the new version; turning it off stops it.
	e.write("keys/auto/config", map[string]any{"auto_rotate_period": 0})
	e.clock.Advance(3 * time.Hour)
	if err := e.b.sched.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if latest("auto") != 2 {
		t.Fatal("rotated after auto rotation was disabled")
	}
	// A restarted backend picks the schedule up from storage.
	e.write("keys/manual/config", map[string]any{"auto_rotate_period": "2h"})
	fresh := newBackend(e.s, e.clock.Now)
	defer fresh.Cleanup(ctx)
	if err := fresh.Initialize(ctx, e.s); err != nil {
		t.Fatal(err)
	}
	if err := fresh.sched.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p, _ := fresh.keys.get(ctx, e.s, "manual")
	if p.LatestVersion != 2 {
		t.Fatalf("restarted backend did not rotate the overdue key: v%d", p.LatestVersion)
	}
}

func TestKeyConfigAndTrim(t *testing.T) {
	e := newEnv(t)
	e.createKey("k", typeAES256, nil)
	for range 4 {
		e.write("keys/k/rotate", nil)
	}
	e.fail(logical.UpdateOperation, "keys/nope/config", map[string]any{"deletion_allowed": true}, "no existing key named nope")
	e.fail(logical.UpdateOperation, "keys/k/config", map[string]any{"min_decryption_version": 9}, "latest key version is 5")
	e.fail(logical.UpdateOperation, "keys/k/config", map[string]any{"min_decryption_version": 3, "min_encryption_version": 2},
		"must be greater than or equal to min decryption version")
	resp := e.write("keys/k/config", map[string]any{"min_decryption_version": 0})
	if len(resp.Warnings) != 1 || resp.Data["min_decryption_version"] != 1 {
		t.Fatalf("min_decryption_version 0: %v %v", resp.Warnings, resp.Data)
	}
	e.fail(logical.UpdateOperation, "keys/k/trim", map[string]any{"min_available_version": 2}, "minimum encryption version is not set")
	e.write("keys/k/config", map[string]any{"min_decryption_version": 3, "min_encryption_version": 4})
	e.fail(logical.UpdateOperation, "keys/k/trim", map[string]any{"min_available_version": 4}, "greater than minimum decryption version")
	resp = e.write("keys/k/trim", map[string]any{"min_available_version": 3})
	if resp.Data["min_available_version"] != 3 {
		t.Fatalf("trim: %v", resp.Data)
	}
	p, _ := e.b.keys.get(context.Background(), e.s, "k")
	if len(p.Versions) != 3 || p.Versions[2] != nil {
		t.Fatalf("trim kept versions %v", p.Versions)
	}
	e.fail(logical.UpdateOperation, "keys/k/trim", map[string]any{"min_available_version": 2}, "cannot be decremented")
	e.fail(logical.UpdateOperation, "keys/k/config", map[string]any{"min_decryption_version": 2}, "below the min available version")
	// Settings that cannot be undone stay set.
	e.write("keys/k/config", map[string]any{"exportable": true})
	if d := e.write("keys/k/config", map[string]any{"exportable": false}).Data; d["exportable"] != true {
		t.Fatal("exportable was unset")
	}
	// The trimmed state survives a restart (it is read back from storage).
	fresh := newBackend(e.s, e.clock.Now)
	if d := fresh.keyReadData(t, "k"); d["min_available_version"] != 3 || len(d["keys"].(map[string]any)) != 3 {
		t.Fatalf("after restart: %v", d)
	}
}

func (b *backend) keyReadData(t *testing.T, name string) map[string]any {
	t.Helper()
	resp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: "keys/" + name, Storage: b.view})
	if err != nil || resp == nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return resp.Data
}

func TestKeyCreateValidationAndList(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		data map[string]any
		msg  string
	}{
		{map[string]any{"type": "aes512"}, "unknown key type"},
		{map[string]any{"type": "ed25519", "convergent_encryption": true, "derived": true}, "convergent encryption not supported"},
		{map[string]any{"type": "rsa-2048", "derived": true}, "not supported for keys of type rsa-2048"},
		{map[string]any{"type": "aes256-gcm96", "key_size": 64}, "key_size is not valid"},
		{map[string]any{"type": "hmac", "key_size": 16}, "invalid key_size 16"},
	} {
		e.fail(logical.UpdateOperation, "keys/bad", tc.data, tc.msg)
	}
	e.createKey("mac", typeHMAC, map[string]any{"key_size": 64})
	if d := e.ok(logical.ReadOperation, "keys/mac", nil).Data; d["key_size"] != 64 || d["supports_signing"] != false {
		t.Fatalf("hmac key: %v", d)
	}
	if w := e.write("keys/mac", nil).Warnings; len(w) != 1 || !strings.Contains(w[0], "already existed") {
		t.Fatalf("second create: %v", w)
	}
	for _, n := range []string{"b", "a", "c"} {
		e.createKey(n, typeAES128, nil)
	}
	list := e.ok(logical.ListOperation, "keys/", map[string]any{"after": "a", "limit": 2}).Data["keys"].([]string)
	if strings.Join(list, ",") != "b,c" {
		t.Fatalf("list after a limit 2: %v", list)
	}
	e.fail(logical.DeleteOperation, "keys/a", nil, "deletion is not allowed")
	e.fail(logical.DeleteOperation, "keys/zz", nil, "not found")
}

func TestRandomAndHash(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path   string
		data   map[string]any
		length int
	}{
		{"random", nil, 44},
		{"random/16", map[string]any{"format": "hex"}, 32},
		{"random/all/8", map[string]any{"format": "hex"}, 16},
		{"random/platform", map[string]any{"bytes": 3}, 4},
	} {
		got := e.write(tc.path, tc.data).Data["random_bytes"].(string)
		if len(got) != tc.length {
			t.Errorf("%s %v: %q", tc.path, tc.data, got)
		}
	}
	e.fail(logical.UpdateOperation, "random/0", nil, "cannot be less than 1")
	e.fail(logical.UpdateOperation, "random/999999", nil, "should be less than")
	e.fail(logical.UpdateOperation, "random/seed", nil, "error parsing url-set byte count")
	e.fail(logical.UpdateOperation, "random", map[string]any{"format": "b32"}, "unsupported encoding format")

	in := b64([]byte("abc"))
	for path, want := range map[string]string{
		"hash":          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"hash/sha3-256": "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
	} {
		if got := e.write(path, map[string]any{"input": in}).Data["sum"]; got != want {
			t.Errorf("%s(abc) = %v", path, got)
		}
	}
	sum := e.write("hash/sha2-512", map[string]any{"input": in, "format": "base64"}).Data["sum"].(string)
	if len(unb64(t, sum)) != 64 {
		t.Errorf("sha2-512 base64: %q", sum)
	}
	e.fail(logical.UpdateOperation, "hash/md5", map[string]any{"input": in}, "unsupported algorithm")
	e.fail(logical.UpdateOperation, "hash", nil, "input missing")
}

// TestConcurrentUseDuringRotation encrypts and decrypts from many
// goroutines while the key rotates; every ciphertext must decrypt.
func TestConcurrentUseDuringRotation(t *testing.T) {
	e := newEnv(t)
	e.createKey("k", typeAES256, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				pt := []byte{byte(w), byte(i)}
				resp, err := e.do(logical.UpdateOperation, "encrypt/k", map[string]any{"plaintext": b64(pt)})
				if err != nil {
					errs <- err
					return
				}
				out, err := e.do(logical.UpdateOperation, "decrypt/k", map[string]any{"ciphertext": resp.Data["ciphertext"]})
				if err != nil || out.Data["plaintext"] != b64(pt) {
					errs <- err
					return
				}
			}
		}()
	}
	for range 20 {
		e.write("keys/k/rotate", nil)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent use: %v", err)
	}
	if v := e.ok(logical.ReadOperation, "keys/k", nil).Data["latest_version"]; v != 21 {
		t.Fatalf("latest_version %v after 20 rotations", v)
	}
}
