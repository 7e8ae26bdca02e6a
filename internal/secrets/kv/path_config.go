package kv

import (
	"context"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *versionedBackend) pathConfig() *logical.Path {
	return &logical.Path{
		Pattern: `config`,
		Fields: map[string]*logical.FieldSchema{
			"max_versions": {Type: logical.TypeInt, Description: "Versions to keep per key (0: 10)."},
			"cas_required": {Type: logical.TypeBool, Description: "If true, every write must carry options.cas."},
			"delete_version_after": {Type: logical.TypeRaw,
				Description: "Time after which a new version is deleted; negative disables it for all keys, 0 clears it."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.configRead,
			logical.UpdateOperation: b.configWrite,
		},
		HelpSynopsis:    "Configure settings that apply to every key of the engine.",
		HelpDescription: "max_versions, cas_required and delete_version_after; a key's metadata may override them.",
	}
}

func (b *versionedBackend) configRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]any{
		"max_versions":         cfg.MaxVersions,
		"cas_required":         cfg.CASRequired,
		"delete_version_after": cfg.DeleteVersionAfter.String(),
	}}, nil
}

// configLockName is the lock stripe of config writes; "" is no secret's name.
const configLockName = ""

// configInput holds the settings a config write sent.
type configInput struct {
	maxVersions *int
	casRequired *bool
	dva         *time.Duration
}

func decodeConfigInput(d *logical.FieldData) (*configInput, error) {
	in := &configInput{}
	if mv, ok, err := setting[int](d, "max_versions"); err != nil {
		return nil, err
	} else if ok {
		if mv < 0 || mv > 1<<32-1 {
			return nil, logical.InvalidRequest("max_versions must be between 0 and %d", uint32(1<<32-1))
		}
		in.maxVersions = &mv
	}
	if c, ok, err := setting[bool](d, "cas_required"); err != nil {
		return nil, err
	} else if ok {
		in.casRequired = &c
	}
	if raw, ok := d.Raw["delete_version_after"]; ok {
		dva, err := parseSignedDuration(raw)
		if err != nil {
			return nil, logical.InvalidRequest("invalid value for \"delete_version_after\": %v", err)
		}
		in.dva = &dva
	}
	return in, nil
}

// configWrite changes the sent settings; like Vault, sending none is a no-op.
func (b *versionedBackend) configWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, err := decodeConfigInput(d)
	if err != nil || (in.maxVersions == nil && in.casRequired == nil && in.dva == nil) {
		return nil, err
	}
	defer b.locks.lock(configLockName)()
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if in.maxVersions != nil {
		cfg.MaxVersions = uint32(*in.maxVersions)
	}
	if in.casRequired != nil {
		cfg.CASRequired = *in.casRequired
	}
	if in.dva != nil {
		switch dva := *in.dva; {
		case dva < 0:
			cfg.DeleteVersionAfter = -time.Second // Vault's "disabled" marker
		default:
			cfg.DeleteVersionAfter = dva
		}
	}
	return nil, logical.PutJSON(ctx, req.Storage, configKey, cfg)
}

// parseSignedDuration is logical.ParseDuration that also accepts a
// negative value ("-1", "-1s", -1); null is zero.
func parseSignedDuration(raw any) (time.Duration, error) {
	neg := false
	switch x := raw.(type) {
	case nil:
		return 0, nil
	case string:
		if len(x) > 0 && x[0] == '-' {
			neg, raw = true, x[1:]
		}
	default:
		if n, err := weakInt(x); err == nil && n < 0 {
			neg, raw = true, -n
		}
	}
	d, err := logical.ParseDuration(raw)
	if neg {
		d = -d
	}
	return d, err
}
