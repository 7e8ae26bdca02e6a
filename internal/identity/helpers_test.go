package identity

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/testclock"
)

// clock is the settable test clock.
type clock = testclock.Clock

type fx struct {
	t     testing.TB
	s     *Store
	b     logical.Backend
	st    *inmem.Backend
	clock *clock
}

func newFx(t testing.TB) *fx { return newFxOpts(t, Options{}) }

func newFxOpts(t testing.TB, opts Options) *fx {
	t.Helper()
	st := inmem.New()
	c := testclock.New(time.Unix(1_700_000_010, 0)) // a multiple of 30 s: the start of a time step
	opts.Now = c.Now
	s, err := NewStore(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &fx{t: t, s: s, b: s.Backend(), st: st, clock: c}
}

var bg = context.Background()

func (f *fx) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return f.b.HandleRequest(bg, &logical.Request{Operation: op, Path: path, Data: data, Storage: f.st})
}

func (f *fx) write(path string, data map[string]any) *logical.Response {
	f.t.Helper()
	r, err := f.do(logical.UpdateOperation, path, data)
	if err != nil {
		f.t.Fatalf("write %s %v: %v", path, data, err)
	}
	return r
}

func (f *fx) read(path string) map[string]any {
	f.t.Helper()
	r, err := f.do(logical.ReadOperation, path, nil)
	if err != nil {
		f.t.Fatalf("read %s: %v", path, err)
	}
	if r == nil {
		return nil
	}
	return r.Data
}

func (f *fx) list(path string) []string {
	f.t.Helper()
	r, err := f.do(logical.ListOperation, path, nil)
	if err != nil || r == nil {
		f.t.Fatalf("list %s: %v %v", path, r, err)
	}
	return r.Data["keys"].([]string)
}

// id writes and returns the "id" (or "method_id") of the response.
func (f *fx) id(path string, data map[string]any) string {
	f.t.Helper()
	r := f.write(path, data)
	if r == nil {
		f.t.Fatalf("write %s: no response", path)
	}
	if id, ok := r.Data["id"].(string); ok {
		return id
	}
	return r.Data["method_id"].(string)
}

func (f *fx) login(accessor, name string) *Entity {
	f.t.Helper()
	e, err := f.s.LoginEntity(bg, accessor, "userpass", &logical.Alias{Name: name})
	if err != nil {
		f.t.Fatalf("login %s/%s: %v", accessor, name, err)
	}
	return e
}

func (f *fx) policies(entityID string) []string {
	f.t.Helper()
	p, err := f.s.IdentityPolicies(bg, entityID)
	if err != nil {
		f.t.Fatalf("IdentityPolicies(%s): %v", entityID, err)
	}
	return p
}

// enrol creates a TOTP method with the given settings, enrols entityID and
// returns the method ID and the key.
func (f *fx) enrol(entityID string, settings map[string]any) (string, []byte) {
	f.t.Helper()
	data := map[string]any{"issuer": "kinko"}
	for k, v := range settings {
		data[k] = v
	}
	mid := f.id("mfa/method/totp", data)
	r := f.write("mfa/method/totp/admin-generate", map[string]any{"method_id": mid, "entity_id": entityID})
	u, err := url.Parse(r.Data["url"].(string))
	if err != nil {
		f.t.Fatal(err)
	}
	key, err := b32.DecodeString(u.Query().Get("secret"))
	if err != nil {
		f.t.Fatal(err)
	}
	return mid, key
}

// wantKind fails unless err is of the given logical kind (nil: no error).
func wantKind(t testing.TB, what string, err, kind error) {
	t.Helper()
	switch {
	case kind == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case kind != nil && !errors.Is(err, kind):
		t.Errorf("%s: error %v, want kind %v", what, err, kind)
	case kind != nil:
		if _, ok := logical.UserMessage(err); !ok {
			t.Errorf("%s: error %v has no user message", what, err)
		}
	}
}
