package kv

import (
	"context"
	"errors"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *versionedBackend) pathData() *logical.Path {
	return &logical.Path{
		// A secret name never ends in "/" (Vault's matchAllNoTrailingSlash).
		Pattern: `data/(?P<path>.*[^/])`,
		Fields: map[string]*logical.FieldSchema{
			"path":    {Type: logical.TypeString, Description: "Location of the secret."},
			"version": {Type: logical.TypeInt, Description: "On read, the version to return (default: the latest)."},
			"options": {Type: logical.TypeMap, Description: `Write options. "cas": only write if the current version equals this number (0: only if the secret does not exist).`},
			"data":    {Type: logical.TypeMap, Description: "The secret: a JSON object stored and returned on read."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.dataRead,
			logical.CreateOperation: b.dataWrite,
			logical.UpdateOperation: b.dataWrite,
			logical.PatchOperation:  b.dataPatch,
			logical.DeleteOperation: b.dataDelete,
		},
		ExistenceCheck:  b.secretExists,
		HelpSynopsis:    "Write, patch, read and delete versions of a secret.",
		HelpDescription: dataHelp,
	}
}

// dataRead returns the latest or the requested version of a secret.
func (b *versionedBackend) dataRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := pathField(d)
	if err != nil {
		return nil, err
	}
	want, _ := d.Get("version").(int)
	// An older version's data can vanish between reading the record and
	// reading the data (a concurrent prune or destroy): read again once.
	for attempt := 0; ; attempt++ {
		resp, data, err := b.readVersion(ctx, req.Storage, p, want)
		if resp == nil || err != nil {
			return resp, err
		}
		if data == nil {
			if attempt == 0 {
				continue
			}
			return nil, errors.New("kv: version data missing from storage")
		}
		if resp.Data["data"], err = decodeData(data); err != nil {
			return nil, err
		}
		return resp, nil
	}
}

// readVersion loads the record of p and the JSON data of version want (0:
// current). It returns the response to send: nil when there is no such
// version, a 404 body with errNotFound when it is deleted or destroyed, or a
// response (still without "data") and the raw data. data is nil if the
// version's data key was missing.
func (b *versionedBackend) readVersion(ctx context.Context, s logical.Storage, p string, want int) (*logical.Response, []byte, error) {
	m, err := loadMeta(ctx, s, p)
	if m == nil || err != nil {
		return nil, nil, err
	}
	n := m.Current
	if want > 0 {
		n = uint64(want)
	}
	vm := m.version(n)
	if vm == nil {
		return nil, nil, nil
	}
	resp := &logical.Response{Data: map[string]any{"data": nil, "metadata": versionInfo(n, vm, m.Custom)}}
	if vm.Destroyed || vm.deleted(b.nowNanos()) {
		return resp, nil, errNotFound
	}
	if n == m.Current {
		return resp, m.Data, nil
	}
	data, err := loadVersionData(ctx, s, p, n)
	return resp, data, err
}

// writeInput is the decoded body of a data write or patch.
type writeInput struct {
	path    string
	data    map[string]any
	options map[string]any
}

func decodeWriteInput(d *logical.FieldData) (*writeInput, error) {
	p, err := pathField(d)
	if err != nil {
		return nil, err
	}
	data, ok, err := optional[map[string]any](d, "data")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, logical.InvalidRequest("no data provided")
	}
	opts, _, err := optional[map[string]any](d, "options")
	if err != nil {
		return nil, err
	}
	return &writeInput{path: p, data: data, options: opts}, nil
}

// dataWrite stores a new version of a secret.
func (b *versionedBackend) dataWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, err := decodeWriteInput(d)
	if err != nil {
		return nil, err
	}
	encoded, err := encodeData(in.data, b.maxValueSize)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	defer b.locks.lock(in.path)()
	m, err := loadMeta(ctx, req.Storage, in.path)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = &secretMeta{}
	}
	if err := checkCAS(in.options, cfg, m); err != nil {
		return nil, err
	}
	ops, vm := m.addVersion(in.path, encoded, b.nowNanos(), cfg)
	if err := commit(ctx, req.Storage, ops); err != nil {
		return nil, err
	}
	return writeResult(m, &vm), nil
}

// dataPatch applies a JSON merge patch (RFC 7386) to the current version
// and stores the result as a new version.
func (b *versionedBackend) dataPatch(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, err := decodeWriteInput(d)
	if err != nil {
		return nil, err
	}
	defer b.locks.lock(in.path)()
	m, err := loadMeta(ctx, req.Storage, in.path)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, logical.Errorf(logical.ErrNotFound, "no secret at this path")
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if err := checkCAS(in.options, cfg, m); err != nil {
		return nil, err
	}
	cur := m.version(m.Current)
	if cur == nil {
		return nil, logical.Errorf(logical.ErrNotFound, "no secret at this path")
	}
	if cur.Destroyed || cur.deleted(b.nowNanos()) {
		return writeResult(m, cur), errNotFound
	}
	existing, err := decodeData(m.Data)
	if err != nil {
		return nil, err
	}
	encoded, err := encodeData(mergePatchObject(existing, in.data), b.maxValueSize)
	if err != nil {
		return nil, err
	}
	ops, vm := m.addVersion(in.path, encoded, b.nowNanos(), cfg)
	if err := commit(ctx, req.Storage, ops); err != nil {
		return nil, err
	}
	return writeResult(m, &vm), nil
}

// dataDelete soft-deletes the current version.
func (b *versionedBackend) dataDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := pathField(d)
	if err != nil {
		return nil, err
	}
	defer b.locks.lock(p)()
	m, err := loadMeta(ctx, req.Storage, p)
	if m == nil || err != nil {
		return nil, err
	}
	now := b.nowNanos()
	cur := m.version(m.Current)
	if cur == nil || cur.Destroyed || cur.deleted(now) {
		return nil, nil
	}
	cur.Deletion = now
	return nil, commit(ctx, req.Storage, saveMeta(p, m))
}

const dataHelp = `
A write stores the "data" object as a new version; "options.cas" makes it
conditional on the current version. A patch merges "data" into the current
version (JSON merge patch, RFC 7386) and stores the result as a new version;
the secret must exist and its current version must be neither deleted nor
destroyed. A read returns the latest version, or the one named by "version".
A delete marks the latest version as deleted; undelete/ reverts that.
`
