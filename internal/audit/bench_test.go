package audit

import (
	"testing"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// kvReadInput is shaped like an audited KV v2 read.
func kvReadInput() *Input {
	return &Input{
		Request: &logical.Request{ID: "6f1c0a2e-8d7b-4c55-9b1e-3a0d2f4e5c6b", Operation: logical.ReadOperation, Path: "secret/data/bench",
			ClientToken: "hvs.CAESIJx0rootTokenValue1234567890", Conn: &logical.Connection{RemoteAddr: "127.0.0.1:51234"}},
		Auth: &logical.Auth{Accessor: "1xTSZtsDGxIxM2aPwPJvQk3U", Policies: []string{"root"}, TokenPolicies: []string{"root"},
			DisplayName: "root", TokenType: "service", LeaseOptions: logical.LeaseOptions{IssueTime: time.Now()}},
		MountPoint: "secret/", MountType: "kv", MountAccessor: "kv_5e1f2a3b", Time: time.Now(),
		Response: &logical.Response{Data: map[string]any{
			"data":     map[string]any{"user": "app", "password": "correct horse battery staple"},
			"metadata": map[string]any{"created_time": time.Now(), "custom_metadata": nil, "deletion_time": "", "destroyed": false, "version": uint64(1)},
		}},
	}
}

func BenchmarkFormatKVRead(b *testing.B) {
	c := Config{Path: "file/", Type: "file"}
	_ = c.NewKeys()
	f := formatter{h: newHasher(c.Salt), hmacAccessor: true}
	in := kvReadInput()
	dev := &Device{}
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		in.shared.dev = nil
		buf = f.format(dev, "request", in, buf[:0])
		buf = f.format(dev, "response", in, buf[:0])
	}
}

func BenchmarkChainLine(b *testing.B) {
	c := chain{key: make([]byte, 32), mac: newHasher(make([]byte, 32))}
	line := make([]byte, 700)
	for i := 0; i < b.N; i++ {
		c.advance(line)
	}
}
