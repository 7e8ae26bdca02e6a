package builtin

import (
	"context"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

func TestRegistry(t *testing.T) {
	lb := LogicalBackends()
	for _, name := range []string{"kv"} {
		f, ok := lb[name]
		if !ok {
			t.Fatalf("engine %q not registered", name)
		}
		b, err := f(context.Background(), &logical.BackendConfig{StorageView: inmem.New(), Config: map[string]string{}})
		if err != nil || b == nil {
			t.Fatalf("factory %q: %v", name, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate registration did not panic")
		}
	}()
	registry(map[string]logical.Factory{}, []entry{{"x", nil}, {"x", nil}})
}
