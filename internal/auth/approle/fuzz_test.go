package approle

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// FuzzLoginBody sends arbitrary JSON bodies to login. A login may only
// succeed with the exact role ID and secret ID; every failure must be a
// user-facing error without an Auth and without the real secret ID in it.
func FuzzLoginBody(f *testing.F) {
	e := newEnv(f)
	roleID := e.role("web", map[string]any{"role_id": "fuzz-role"})
	e.ok(logical.UpdateOperation, "role/web/custom-secret-id", map[string]any{"secret_id": "fuzz-secret"})
	for _, seed := range []string{
		`{"role_id":"fuzz-role","secret_id":"fuzz-secret"}`,
		`{"role_id":" fuzz-role ","secret_id":"fuzz-secret\n"}`,
		`{"role_id":"fuzz-role","secret_id":"fuzz-secreT"}`,
		`{"role_id":"fuzz-role"}`, `{"secret_id":"fuzz-secret"}`, `{}`,
		`{"role_id":1,"secret_id":2.5}`, `{"role_id":null,"secret_id":true}`,
		`{"role_id":["fuzz-role"],"secret_id":{"a":"b"}}`,
		`{"role_id":"fuzz-role","secret_id":"fuzz-secret","extra":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var data map[string]any
		if err := dec.Decode(&data); err != nil {
			return
		}
		resp, err := e.do(logical.UpdateOperation, "login", data)
		if err == nil {
			if resp == nil || resp.Auth == nil {
				t.Fatalf("login of %s: no error and no Auth", body)
			}
			if strings.TrimSpace(str(data["role_id"])) != roleID || strings.TrimSpace(str(data["secret_id"])) != "fuzz-secret" {
				t.Fatalf("login of %s succeeded with wrong credentials", body)
			}
			return
		}
		if resp != nil && resp.Auth != nil {
			t.Fatalf("failed login of %s returned an Auth", body)
		}
		var le *logical.Error
		if !errors.As(err, &le) {
			t.Fatalf("login of %s: internal error %v", body, err)
		}
		if strings.Contains(err.Error(), "fuzz-secret") {
			t.Fatalf("error %q reveals the secret ID", err)
		}
	})
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// FuzzParseMetadata checks metadata parsing never panics and that a JSON
// object it accepts round-trips.
func FuzzParseMetadata(f *testing.F) {
	for _, seed := range []string{`{"a":"b"}`, "a=b,c=d", "eyJrIjoidiJ9", "", "=", `{"a":1}`, "a=b=c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := parseMetadata(in)
		if err != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseMetadata(string(b))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip of %q: %v %v, want %v", in, again, err, m)
		}
	})
}
