package core

import (
	"context"
	"encoding/hex"

	"github.com/kinko-dev/kinko/internal/audit"
	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *systemBackend) auditPaths() []*logical.Path {
	pathField := &logical.FieldSchema{Type: logical.TypeString, Description: "path of the audit device, e.g. file/"}
	return []*logical.Path{
		{Pattern: "audit/?", Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation: b.handleAuditList}),
			HelpSynopsis: "List the enabled audit devices."},
		{Pattern: "audit/(?P<path>.+)", Fields: map[string]*logical.FieldSchema{
			"path":        pathField,
			"type":        {Type: logical.TypeString, Description: "device type: file, socket or syslog"},
			"description": {Type: logical.TypeString, Description: "human-friendly description"},
			"options":     {Type: logical.TypeKVPairs, Description: "device options, e.g. file_path, log_raw, hmac_accessor, mode"},
			"local":       {Type: logical.TypeBool, Description: "not replicated (accepted for compatibility)"},
		}, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.handleAuditRead,
			logical.UpdateOperation: b.handleAuditEnable,
			logical.DeleteOperation: b.handleAuditDisable,
		}), HelpSynopsis: "Enable, read or disable an audit device."},
		{Pattern: "audit-hash/(?P<path>.+)", Fields: map[string]*logical.FieldSchema{
			"path":  pathField,
			"input": {Type: logical.TypeString, Required: true, Description: "value to hash as the device writes it"},
		}, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.handleAuditHash}),
			HelpSynopsis: "HMAC a value with an audit device's salt, to search its log for it."},
		{Pattern: "audit-chain/(?P<path>.+)", Fields: map[string]*logical.FieldSchema{"path": pathField},
			Operations: ops(map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation: b.handleAuditChain}),
			HelpSynopsis: "The hash-chain key and head of an audit device, to verify its log (sudo)."},
	}
}

func auditInfo(c audit.Config) map[string]any {
	opts := c.Options
	if opts == nil {
		opts = map[string]string{}
	}
	return map[string]any{"type": c.Type, "description": c.Description, "options": opts, "local": c.Local,
		"path": c.Path, "declared": c.Declared}
}

func (b *systemBackend) handleAuditList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	devs, err := b.c.AuditDevices()
	if err != nil {
		return nil, err
	}
	data := map[string]any{}
	for _, c := range devs {
		data[c.Path] = auditInfo(c)
	}
	return logical.DataResponse(data), nil
}

func (b *systemBackend) device(d *logical.FieldData) (*audit.Device, error) {
	if _, err := b.state(); err != nil {
		return nil, err
	}
	path := normalizeAuditPath(d.Get("path").(string))
	dev := b.c.audit.Device(path)
	if dev == nil {
		return nil, logical.Errorf(logical.ErrNotFound, "no audit device at %q", path)
	}
	return dev, nil
}

func (b *systemBackend) handleAuditRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	dev, err := b.device(d)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(auditInfo(dev.Config())), nil
}

func (b *systemBackend) handleAuditEnable(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, b.c.EnableAudit(ctx, audit.Config{
		Path: d.Get("path").(string), Type: d.Get("type").(string), Description: d.Get("description").(string),
		Options: d.Get("options").(map[string]string), Local: d.Get("local").(bool),
	})
}

func (b *systemBackend) handleAuditDisable(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, b.c.DisableAudit(ctx, d.Get("path").(string))
}

func (b *systemBackend) handleAuditHash(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	dev, err := b.device(d)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"hash": dev.Hash(d.Get("input").(string))}), nil
}

func (b *systemBackend) handleAuditChain(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	dev, err := b.device(d)
	if err != nil {
		return nil, err
	}
	h := dev.Head()
	return logical.DataResponse(map[string]any{
		"chain_key": hex.EncodeToString(dev.Config().ChainKey), "seq": h.Seq, "head_hmac": h.HMAC,
	}), nil
}
