package core

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *systemBackend) mountPaths() []*logical.Path {
	tune := map[string]*logical.FieldSchema{
		"path":              {Type: logical.TypeString, Description: "mount path"},
		"default_lease_ttl": {Type: logical.TypeDurationSecond, Description: "default lease TTL"},
		"max_lease_ttl":     {Type: logical.TypeDurationSecond, Description: "maximum lease TTL"},
		"description":       {Type: logical.TypeString, Description: "human-friendly description"},
		"options":           {Type: logical.TypeKVPairs, Description: "engine options, e.g. version=2 for kv"},
		"user_lockout_config": {Type: logical.TypeMap, Description: "auth methods with user lockout (userpass): " +
			"lockout_threshold, lockout_duration, lockout_counter_reset, lockout_disable"},
	}
	enable := map[string]*logical.FieldSchema{
		"path":                    {Type: logical.TypeString, Description: "mount path"},
		"type":                    {Type: logical.TypeString, Required: true, Description: "engine type, e.g. kv"},
		"description":             {Type: logical.TypeString, Description: "human-friendly description"},
		"config":                  {Type: logical.TypeMap, Description: "default_lease_ttl, max_lease_ttl"},
		"options":                 {Type: logical.TypeKVPairs, Description: "engine options, e.g. version=2 for kv"},
		"local":                   {Type: logical.TypeBool, Description: "not replicated (accepted for compatibility)"},
		"seal_wrap":               {Type: logical.TypeBool, Description: "accepted for compatibility"},
		"plugin_name":             {Type: logical.TypeString, Description: "deprecated alias of type"},
		"external_entropy_access": {Type: logical.TypeBool, Description: "accepted for compatibility"},
	}
	var paths []*logical.Path
	for _, table := range []string{TableMounts, TableAuth} {
		table := table
		paths = append(paths,
			&logical.Path{
				Pattern: table + "/(?P<path>.+?)/tune", Fields: tune,
				Operations: ops(map[logical.Operation]logical.OperationFunc{
					logical.ReadOperation:   b.handleTuneRead(table),
					logical.UpdateOperation: b.handleTuneWrite(table),
				}),
				HelpSynopsis: "Tune a mount's configuration.",
			},
			&logical.Path{
				Pattern: table + "/(?P<path>.+)", Fields: enable,
				Operations: ops(map[logical.Operation]logical.OperationFunc{
					logical.ReadOperation:   b.handleMountRead(table),
					logical.UpdateOperation: b.handleMountEnable(table),
					logical.DeleteOperation: b.handleMountDisable(table),
				}),
				HelpSynopsis: "Enable, read or disable a mount.",
			},
			&logical.Path{
				Pattern:      table + "/?",
				Operations:   ops(map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.handleMountList(table)}),
				HelpSynopsis: "List mounts.",
			},
		)
	}
	return paths
}

func mountFullPath(table, p string) string {
	p = strings.Trim(p, "/") + "/"
	if table == TableAuth {
		return "auth/" + p
	}
	return p
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

func mountInfo(m *MountEntry) map[string]any {
	opts := m.Options
	if opts == nil {
		opts = map[string]string{}
	}
	info := map[string]any{
		"type": m.Type, "description": m.Description, "accessor": m.Accessor, "uuid": m.UUID,
		"config": map[string]any{
			"default_lease_ttl": secs(m.Config.DefaultLeaseTTL), "max_lease_ttl": secs(m.Config.MaxLeaseTTL),
			"force_no_cache": false,
		},
		"options": opts, "local": m.Local, "seal_wrap": m.SealWrap, "external_entropy_access": false,
		"plugin_version": "", "running_plugin_version": "v" + Version + "+builtin.kinko", "running_sha256": "",
	}
	if lc := m.Config.UserLockout; lc != nil {
		info["config"].(map[string]any)["user_lockout_config"] = userLockoutInfo(lc)
	}
	return info
}

func (b *systemBackend) handleMountList(table string) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		ms, err := b.c.Mounts(table)
		if err != nil {
			return nil, err
		}
		data := map[string]any{}
		for _, m := range ms {
			data[m.Path] = mountInfo(m)
		}
		return logical.DataResponse(data), nil
	}
}

func (b *systemBackend) handleMountRead(table string) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		ms, err := b.c.Mounts(table)
		if err != nil {
			return nil, err
		}
		want := strings.Trim(d.Get("path").(string), "/") + "/"
		for _, m := range ms {
			if m.Path == want {
				return logical.DataResponse(mountInfo(m)), nil
			}
		}
		return nil, logical.Errorf(logical.ErrInvalidRequest, "no mount at %q", want)
	}
}

func (b *systemBackend) handleMountEnable(table string) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		typ := d.Get("type").(string)
		if typ == "" {
			typ = d.Get("plugin_name").(string)
		}
		m := &MountEntry{Path: d.Get("path").(string), Type: typ, Description: d.Get("description").(string),
			Options: d.Get("options").(map[string]string), Local: d.Get("local").(bool), SealWrap: d.Get("seal_wrap").(bool)}
		if err := applyMountConfig(&m.Config, d.Get("config").(map[string]any)); err != nil {
			return nil, err
		}
		if typ == "kv-v2" {
			m.Type = "kv"
			m.Options["version"] = "2"
		}
		return nil, b.c.EnableMount(ctx, table, m)
	}
}

func applyMountConfig(mc *MountConfig, cfg map[string]any) error {
	for k, v := range cfg {
		switch k {
		case "default_lease_ttl", "max_lease_ttl":
			dur, err := logical.ParseDuration(v)
			if err != nil {
				return logical.InvalidRequest("invalid config.%s: %v", k, err)
			}
			if k == "default_lease_ttl" {
				mc.DefaultLeaseTTL = dur
			} else {
				mc.MaxLeaseTTL = dur
			}
		}
	}
	if mc.MaxLeaseTTL > 0 && mc.DefaultLeaseTTL > mc.MaxLeaseTTL {
		return logical.InvalidRequest("default_lease_ttl must not exceed max_lease_ttl")
	}
	return nil
}

func (b *systemBackend) handleMountDisable(table string) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		return nil, b.c.DisableMount(ctx, table, d.Get("path").(string))
	}
}

func (b *systemBackend) handleTuneRead(table string) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		st, err := b.state()
		if err != nil {
			return nil, err
		}
		full := mountFullPath(table, d.Get("path").(string))
		e, rel := st.router.Load().match(strings.TrimSuffix(full, "/"))
		if e == nil || rel != "" {
			return nil, logical.InvalidRequest("no mount at %q", full)
		}
		sv := sysView{b.c, e.mount}
		data := map[string]any{
			"default_lease_ttl": secs(sv.DefaultLeaseTTL()), "max_lease_ttl": secs(sv.MaxLeaseTTL()),
			"force_no_cache": false, "description": e.mount.Description, "options": e.mount.Options,
		}
		if lc := e.mount.Config.UserLockout; lc != nil {
			maps.Copy(data, userLockoutInfo(lc))
		}
		return logical.DataResponse(data), nil
	}
}

func (b *systemBackend) handleTuneWrite(table string) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		full := mountFullPath(table, d.Get("path").(string))
		if v, ok, _ := d.GetOk("user_lockout_config"); ok && len(v.(map[string]any)) > 0 {
			if err := b.checkLockoutTunable(full); err != nil {
				return nil, err
			}
		}
		return nil, b.c.TuneMount(ctx, strings.TrimSuffix(full, "/"), func(m *MountEntry) error {
			return tuneEntry(m, d)
		})
	}
}

func tuneEntry(m *MountEntry, d *logical.FieldData) error {
	cfg := m.Config
	if v, ok, _ := d.GetOk("default_lease_ttl"); ok {
		cfg.DefaultLeaseTTL = v.(time.Duration)
	}
	if v, ok, _ := d.GetOk("max_lease_ttl"); ok {
		cfg.MaxLeaseTTL = v.(time.Duration)
	}
	if cfg.MaxLeaseTTL > 0 && cfg.DefaultLeaseTTL > cfg.MaxLeaseTTL {
		return logical.InvalidRequest("default_lease_ttl must not exceed max_lease_ttl")
	}
	if v, ok, _ := d.GetOk("user_lockout_config"); ok {
		lc, err := logical.ApplyUserLockoutConfig(cfg.UserLockout, v.(map[string]any))
		if err != nil {
			return err
		}
		cfg.UserLockout = lc
	}
	m.Config = cfg
	if v, ok, _ := d.GetOk("description"); ok {
		m.Description = v.(string)
	}
	if v, ok, _ := d.GetOk("options"); ok {
		opts := map[string]string{}
		for k, x := range m.Options {
			opts[k] = x
		}
		for k, x := range v.(map[string]string) {
			if k == "version" && m.Type == "kv" && opts["version"] != "" && x != opts["version"] {
				return logical.InvalidRequest("changing the kv version of a mount is not supported")
			}
			opts[k] = x
		}
		m.Options = opts
	}
	return nil
}
