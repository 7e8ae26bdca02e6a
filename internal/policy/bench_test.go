package policy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

const smallPolicy = `
path "secret/data/app/*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/app/*" { capabilities = ["list", "read"] }
path "secret/data/app/admin" { capabilities = ["deny"] }
path "database/creds/app" { capabilities = ["read"] }
path "transit/encrypt/app" { capabilities = ["update"] }
path "transit/decrypt/app" { capabilities = ["update"] }
path "kv/+/shared/*" { capabilities = ["read"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "sys/leases/renew" { capabilities = ["update"] }
`

// largePolicy has 500 rules: 300 exact, 150 prefix and 50 with "+".
func largePolicy() string {
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "path \"secret/data/team%d/app%d\" { capabilities = [\"read\"] }\n", i%40, i)
	}
	for i := range 150 {
		fmt.Fprintf(&b, "path \"mount%d/data/team%d/*\" { capabilities = [\"read\", \"list\"] }\n", i%25, i)
	}
	for i := range 50 {
		fmt.Fprintf(&b, "path \"kv%d/+/team%d/*\" { capabilities = [\"read\"] }\n", i%10, i)
	}
	return b.String()
}

func benchAllow(b *testing.B, a *ACL, op logical.Operation, path string, data map[string]any, want bool) {
	b.Helper()
	if got, _ := a.Allow(op, path, data); got != want {
		b.Fatalf("Allow(%s, %q) = %v, want %v", op, path, got, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Allow(op, path, data)
	}
}

func BenchmarkAllow(b *testing.B) {
	small := mustACL(b, smallPolicy, DefaultPolicy)
	large := mustACL(b, largePolicy(), DefaultPolicy)
	cases := []struct {
		name string
		a    *ACL
		op   logical.Operation
		path string
		want bool
	}{
		{"small/exact", small, logical.ReadOperation, "database/creds/app", true},
		{"small/prefix", small, logical.ReadOperation, "secret/data/app/config/db", true},
		{"small/plus", small, logical.ReadOperation, "kv/data/shared/x", true},
		{"small/miss", small, logical.ReadOperation, "secret/data/other/x", false},
		{"small/list", small, logical.ListOperation, "secret/metadata/app/", true},
		{"large/exact", large, logical.ReadOperation, "secret/data/team7/app287", true},
		{"large/prefix", large, logical.ReadOperation, "mount3/data/team128/a/b/c", true},
		{"large/plus", large, logical.ReadOperation, "kv4/data/team44/x", true},
		{"large/miss", large, logical.ReadOperation, "kv4/data/team45/x", false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) { benchAllow(b, c.a, c.op, c.path, nil, c.want) })
	}
	params := mustACL(b, `path "auth/token/create" {
  capabilities = ["update"]
  allowed_parameters = { "policies" = ["dev", "ops-*"], "ttl" = [], "display_name" = [] }
  denied_parameters = { "no_parent" = [] }
}`)
	data := map[string]any{"policies": []any{"dev", "ops-a"}, "ttl": "1h", "display_name": "ci"}
	b.Run("params", func(b *testing.B) { benchAllow(b, params, logical.UpdateOperation, "auth/token/create", data, true) })
}

func BenchmarkNewACL(b *testing.B) {
	p := mustParse(b, "large", largePolicy())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewACL(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("default", DefaultPolicy); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreACLCached(b *testing.B) {
	ctx := context.Background()
	s := NewStore(inmem.New())
	if err := s.Set(ctx, "app", smallPolicy); err != nil {
		b.Fatal(err)
	}
	if err := s.Set(ctx, "ops", `path "sys/*" { capabilities = ["read"] }`); err != nil {
		b.Fatal(err)
	}
	for _, names := range [][]string{{"app"}, {"app", "default", "ops"}, {"Default", "app"}} {
		b.Run(strings.Join(names, "+"), func(b *testing.B) {
			want, err := s.ACL(ctx, names)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if a, _ := s.ACL(ctx, names); a != want {
					b.Fatal("cache miss")
				}
			}
		})
	}
}
