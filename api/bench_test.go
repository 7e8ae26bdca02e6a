package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

func benchEnvelope(b *testing.B, keys int) []byte {
	data := map[string]any{}
	for i := 0; i < keys; i++ {
		data[fmt.Sprintf("key-%d", i)] = fmt.Sprintf("value-%d", i)
	}
	body, err := json.Marshal(envelope(map[string]any{"data": data,
		"metadata": map[string]any{"version": 3, "created_time": "2024-01-01T00:00:00Z"}}))
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkParseSecret(b *testing.B) {
	body := benchEnvelope(b, 20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSecret(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead measures a full KV read over loopback HTTP.
func BenchmarkRead(b *testing.B) {
	body := benchEnvelope(b, 20)
	ws := newWireServer(b)
	ws.handle("GET /v1/secret/data/app", func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	c, err := NewClient(&Config{Address: ws.srv.URL, Token: "tok"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Read(ctx, "secret/data/app", nil); err != nil {
			b.Fatal(err)
		}
	}
}
