package kv

import (
	"fmt"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func benchSecret() map[string]any {
	return map[string]any{"username": "app-user", "password": "correct-horse-battery-staple", "port": 5432}
}

func BenchmarkV2Read(b *testing.B) {
	e := newV2(b)
	for range 5 {
		e.put("app/db", benchSecret())
	}
	req := &logical.Request{Operation: logical.ReadOperation, Path: "data/app/db", Storage: e.s}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := e.b.HandleRequest(b.Context(), req)
		if err != nil || resp == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkV2ReadOldVersion(b *testing.B) {
	e := newV2(b)
	for range 5 {
		e.put("app/db", benchSecret())
	}
	req := &logical.Request{Operation: logical.ReadOperation, Path: "data/app/db",
		Data: map[string]any{"version": "2"}, Storage: e.s}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.b.HandleRequest(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkV2Write(b *testing.B) {
	e := newV2(b)
	data := map[string]any{"data": benchSecret()}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := &logical.Request{Operation: logical.UpdateOperation, Path: fmt.Sprintf("data/app/%d", i%100),
			Data: data, Storage: e.s}
		if _, err := e.b.HandleRequest(b.Context(), req); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkV2ReadParallel(b *testing.B) {
	e := newV2(b)
	e.put("app/db", benchSecret())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := &logical.Request{Operation: logical.ReadOperation, Path: "data/app/db", Storage: e.s}
		for pb.Next() {
			if _, err := e.b.HandleRequest(b.Context(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
