package kv

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// passthroughBackend is the KV version 1 engine: each path below the mount
// is one storage key holding the JSON of the request body.
//
// Reads return a Secret carrying only a TTL (the secret's "ttl" or "lease"
// field, else the mount's default lease TTL) so the HTTP layer can show
// lease_duration as Vault does. It is not renewable and, as in Vault, core
// must not register a lease for a kv mount.
type passthroughBackend struct {
	*logical.Framework
	system       logical.SystemView
	maxValueSize int
}

var (
	_ logical.Backend          = (*passthroughBackend)(nil)
	_ logical.ExistenceChecker = (*passthroughBackend)(nil)
)

// fallbackLeaseTTL is Vault's default lease TTL (32 days), used when neither
// the request nor the system view gives one.
const fallbackLeaseTTL = 768 * time.Hour

func newPassthrough(system logical.SystemView, maxValueSize int) *passthroughBackend {
	b := &passthroughBackend{system: system, maxValueSize: maxValueSize}
	b.Framework = (&logical.Framework{
		Help: passthroughHelp,
		PathList: []*logical.Path{{
			Pattern: logical.MatchAllRegex("path"),
			Fields: map[string]*logical.FieldSchema{
				"path": {Type: logical.TypeString, Description: "Location of the secret."},
			},
			TakesArbitraryInput: true,
			Operations: map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation:   b.read,
				logical.CreateOperation: b.write,
				logical.UpdateOperation: b.write,
				logical.DeleteOperation: b.delete,
				logical.ListOperation:   b.list,
			},
			ExistenceCheck:  b.exists,
			HelpSynopsis:    "Pass-through secret storage: read and write arbitrary JSON objects.",
			HelpDescription: passthroughPathHelp,
		}},
	}).Compile()
	return b
}

func (b *passthroughBackend) exists(ctx context.Context, req *logical.Request, _ *logical.FieldData) (bool, error) {
	if req.Path == "" || validatePath(req.Path) != nil {
		return false, nil
	}
	e, err := req.Storage.Get(ctx, req.Path)
	return e != nil, err
}

func (b *passthroughBackend) read(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	if err := validatePath(req.Path); err != nil || req.Path == "" {
		return nil, err
	}
	e, err := req.Storage.Get(ctx, req.Path)
	if e == nil || err != nil {
		return nil, err
	}
	data, err := decodeData(e.Value)
	if err != nil {
		return nil, err
	}
	return &logical.Response{
		Data:   data,
		Secret: &logical.Secret{LeaseOptions: logical.LeaseOptions{TTL: b.ttl(req, data)}},
	}, nil
}

// ttl is the secret's own "ttl" (or "lease") if it parses, else the mount's
// default lease TTL.
func (b *passthroughBackend) ttl(req *logical.Request, data map[string]any) time.Duration {
	raw, ok := data["ttl"]
	if !ok {
		raw, ok = data["lease"]
	}
	if ok {
		if d, err := logical.ParseDuration(raw); err == nil {
			return d
		}
	}
	switch {
	case req.MountConfig.DefaultLeaseTTL > 0:
		return req.MountConfig.DefaultLeaseTTL
	case b.system != nil && b.system.DefaultLeaseTTL() > 0:
		return b.system.DefaultLeaseTTL()
	}
	return fallbackLeaseTTL
}

func (b *passthroughBackend) write(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	if req.Path == "" {
		return nil, logical.InvalidRequest("missing path")
	}
	if err := validatePath(req.Path); err != nil {
		return nil, err
	}
	if len(req.Data) == 0 {
		return nil, logical.InvalidRequest("missing data fields")
	}
	buf, err := json.Marshal(req.Data)
	if err != nil {
		return nil, logical.InvalidRequest("secret data cannot be encoded as JSON")
	}
	if err := checkSize(buf, b.maxValueSize); err != nil {
		return nil, err
	}
	return nil, req.Storage.Put(ctx, &logical.StorageEntry{Key: req.Path, Value: buf})
}

func (b *passthroughBackend) delete(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	if err := validatePath(req.Path); err != nil || req.Path == "" {
		return nil, err
	}
	return nil, req.Storage.Delete(ctx, req.Path)
}

func (b *passthroughBackend) list(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	p := req.Path
	if err := validatePath(p); err != nil {
		return nil, err
	}
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	keys, err := req.Storage.List(ctx, p)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

const passthroughHelp = `
The kv backend (version 1) reads and writes arbitrary secrets. Secrets are
encrypted by the barrier before they reach storage. A "ttl" field in a secret
is returned as the lease duration of reads, a hint to re-read the secret; the
backend never revokes anything.
`

const passthroughPathHelp = `
A write stores the request body, a JSON object, at the path, replacing what
was there. A read returns it. A delete removes it. A list returns the keys
and folders below the path.
`
