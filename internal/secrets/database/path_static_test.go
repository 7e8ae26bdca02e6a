package database

import (
	"context"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// TestStaticCredsWaitForRotation: a static-creds read that arrives while
// a rotation is changing the password returns after it, with the
// password the database now has.
func TestStaticCredsWaitForRotation(t *testing.T) {
	store, b := fuzzEngine(t)
	defer b.Cleanup(context.Background())
	req := func(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
		return b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data, Storage: store})
	}
	if _, err := req(logical.UpdateOperation, "static-roles/s", map[string]any{"db_name": "f", "username": "u", "rotation_period": "1h"}); err != nil {
		t.Fatal(err)
	}
	b.mu.RLock()
	db := b.instances["f"].db.(*fakeDB)
	b.mu.RUnlock()
	db.mu.Lock()
	db.gate, db.entered = make(chan struct{}), make(chan struct{})
	db.mu.Unlock()
	rotated := make(chan error, 1)
	go func() {
		_, err := req(logical.UpdateOperation, "rotate-role/s", nil)
		rotated <- err
	}()
	<-db.entered // the rotation is inside the database now
	read := make(chan string, 1)
	go func() {
		resp, err := req(logical.ReadOperation, "static-creds/s", nil)
		if err != nil {
			t.Error(err)
		}
		read <- resp.Data["password"].(string)
	}()
	select {
	case pw := <-read:
		t.Fatalf("static-creds returned %q during the rotation", pw)
	case <-time.After(100 * time.Millisecond): // a negative check needs a bound
	}
	close(db.gate)
	if err := <-rotated; err != nil {
		t.Fatal(err)
	}
	if pw := <-read; pw != db.password("u") {
		t.Fatal("static-creds read during a rotation returned a password the database does not have")
	}
}
