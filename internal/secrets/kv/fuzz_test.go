package kv

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

// FuzzDataWrite sends arbitrary JSON bodies to data/ writes and patches and
// checks the engine never panics and that what it accepts reads back.
func FuzzDataWrite(f *testing.F) {
	for _, s := range []string{
		`{"data":{"a":"b"}}`,
		`{"data":{"a":{"b":[1,2,{"c":null}]}},"options":{"cas":0}}`,
		`{"data":{},"options":{"cas":"1"}}`,
		`{"data":"x"}`,
		`{"data":null,"options":[]}`,
		`{"data":{"n":1e400}}`,
		`{"version":"x","data":{"k":true}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var in map[string]any
		if dec.Decode(&in) != nil {
			return
		}
		e := newEnv(t, map[string]string{"version": "2", "max_value_size": "4096"})
		resp, err := e.do(logical.UpdateOperation, "data/f", in)
		if err == nil {
			if got := e.readData("f", 0); got == nil {
				t.Fatalf("accepted write does not read back: %v", resp)
			}
		}
		_, _ = e.do(logical.PatchOperation, "data/f", in)
		_, _ = e.do(logical.ReadOperation, "subkeys/f", in)
		_, _ = e.do(logical.UpdateOperation, "metadata/f", in)
	})
}
