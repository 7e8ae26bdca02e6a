package database

import (
	"context"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// connConfig is a stored connection (config/<name>).
type connConfig struct {
	PluginName string `json:"plugin_name"`
	// ConnectionDetails are the plugin's keys, password included (below
	// the barrier only; never returned).
	ConnectionDetails      map[string]any `json:"connection_details"`
	AllowedRoles           []string       `json:"allowed_roles"`
	RootRotationStatements []string       `json:"root_credentials_rotate_statements"`
	PasswordPolicy         string         `json:"password_policy"`
	VerifyConnection       bool           `json:"verify_connection"`
}

// allows reports whether a role may use this connection ("*" and globs).
func (c *connConfig) allows(role string) bool {
	for _, p := range c.AllowedRoles {
		if p == "*" || p == role {
			return true
		}
		if ok, _ := path.Match(p, role); ok {
			return true
		}
	}
	return false
}

// engineKeys are config fields the engine keeps; every other field of a
// config write is a connection detail for the plugin.
var engineKeys = map[string]bool{"name": true, "plugin_name": true, "plugin_version": true, "verify_connection": true,
	"allowed_roles": true, "root_rotation_statements": true, "password_policy": true}

// secretKeys are connection details never returned by a read.
var secretKeys = map[string]bool{"password": true, "private_key": true, "tls_certificate_key": true}

func (b *Backend) configPaths() []*logical.Path {
	fields := map[string]*logical.FieldSchema{
		"name":                     {Type: logical.TypeString, Description: "Name of the connection."},
		"plugin_name":              {Type: logical.TypeString, Description: "Database plugin: postgresql-database-plugin, mysql-database-plugin, redis-database-plugin, ..."},
		"plugin_version":           {Type: logical.TypeString, Description: "Accepted for Vault compatibility; must be empty."},
		"verify_connection":        {Type: logical.TypeBool, Default: true, Description: "Connect when the configuration is written."},
		"allowed_roles":            {Type: logical.TypeCommaStringSlice, Description: "Roles that may use this connection (names, globs, or *)."},
		"root_rotation_statements": {Type: logical.TypeStringSlice, Description: "Statements that change the root user's password (plugin default when empty)."},
		"password_policy":          {Type: logical.TypeString, Description: "Password policy for generated passwords (sys/policies/password)."},
	}
	name := map[string]*logical.FieldSchema{"name": fields["name"]}
	return []*logical.Path{
		{Pattern: "config/?", Operations: map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.listPrefix("config/")},
			HelpSynopsis: "List database connections."},
		{Pattern: "config/" + logical.GenericNameRegex("name"), Fields: fields, TakesArbitraryInput: true,
			ExistenceCheck: b.exists("config/"),
			Operations: map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.handleConfigRead,
				logical.CreateOperation: b.handleConfigWrite, logical.UpdateOperation: b.handleConfigWrite, logical.DeleteOperation: b.handleConfigDelete},
			HelpSynopsis: "Configure a connection to a database: plugin, connection details, allowed roles."},
		{Pattern: "reset/" + logical.GenericNameRegex("name"), Fields: name,
			Operations:   map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.handleReset},
			HelpSynopsis: "Close the connection and open it again from its stored configuration."},
	}
}

func (b *Backend) listPrefix(prefix string) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		keys, err := b.view.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		return logical.ListResponse(keys), nil
	}
}

func (b *Backend) loadConfig(ctx context.Context, name string) (*connConfig, error) {
	return load[connConfig](ctx, b.view, "config/"+name)
}

func (b *Backend) handleConfigRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	c, err := b.loadConfig(ctx, d.Get("name").(string))
	if err != nil || c == nil {
		return nil, err
	}
	details := map[string]any{}
	for k, v := range c.ConnectionDetails {
		if secretKeys[k] {
			continue
		}
		if str, ok := v.(string); ok && k == "connection_url" {
			v = redactURL(str)
		}
		details[k] = v
	}
	return logical.DataResponse(map[string]any{
		"plugin_name": c.PluginName, "plugin_version": "", "connection_details": details,
		"allowed_roles": nonNil(c.AllowedRoles), "root_credentials_rotate_statements": nonNil(c.RootRotationStatements),
		"password_policy": c.PasswordPolicy, "verify_connection": c.VerifyConnection,
	}), nil
}

// redactURL hides a password written into a connection URL itself
// (postgres://user:secret@host, user:secret@tcp(host)/, password=secret)
// rather than through the {{password}} placeholder.
func redactURL(s string) string {
	start, userinfoEnd := 0, strings.LastIndex(s, "@")
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
		authority := s[start:]
		if end := strings.IndexAny(authority, "/?#"); end >= 0 {
			authority = authority[:end]
		}
		userinfoEnd = -1
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			userinfoEnd = start + at
		}
	}
	if userinfoEnd > start {
		if colon := strings.Index(s[start:userinfoEnd], ":"); colon >= 0 {
			colon += start
			if pw := s[colon+1 : userinfoEnd]; pw != "" && pw != "{{password}}" {
				s = s[:colon+1] + "*****" + s[userinfoEnd:]
			}
		}
	}
	return dsnPassword.ReplaceAllStringFunc(s, func(m string) string {
		if strings.Contains(m, "{{password}}") {
			return m
		}
		return "password=*****"
	})
}

var dsnPassword = regexp.MustCompile(`password=('[^']*'|\S*)`)

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (b *Backend) handleConfigWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	old, err := b.loadConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	c := &connConfig{ConnectionDetails: map[string]any{}}
	if old != nil {
		*c = *old
		c.ConnectionDetails = map[string]any{}
		for k, v := range old.ConnectionDetails {
			c.ConnectionDetails[k] = v
		}
	}
	if err := applyConfigFields(c, req, d, old == nil); err != nil {
		return nil, err
	}
	if v := d.Get("plugin_version").(string); v != "" {
		return nil, logical.InvalidRequest("plugin_version is not supported: kinko's plugins are built in")
	}
	if c.PasswordPolicy != "" {
		if _, err := b.generatePassword(ctx, c.PasswordPolicy); err != nil {
			return nil, err
		}
	}
	db, details, err := newInstance(ctx, c, c.VerifyConnection)
	if err != nil {
		return nil, err
	}
	c.ConnectionDetails = details
	if err := logical.PutJSON(ctx, b.view, "config/"+name, c); err != nil {
		_ = db.Close()
		return nil, err
	}
	b.setInstance(name, db)
	var out *logical.Response
	if len(c.AllowedRoles) == 0 {
		out = &logical.Response{}
		out.AddWarning("allowed_roles is empty: no role may use this connection until you set it")
	}
	return out, nil
}

// applyConfigFields copies the request's fields into c: the engine's own
// fields and, for every other key, a connection detail.
func applyConfigFields(c *connConfig, req *logical.Request, d *logical.FieldData, fresh bool) error {
	if v, ok, _ := d.GetOk("plugin_name"); ok {
		c.PluginName = v.(string)
	}
	if c.PluginName == "" {
		return logical.InvalidRequest("plugin_name is required")
	}
	if _, ok := plugins[c.PluginName]; !ok {
		names := pluginNames()
		sort.Strings(names)
		return logical.InvalidRequest("unknown plugin_name %q: use one of %s", c.PluginName, strings.Join(names, ", "))
	}
	if v, ok, _ := d.GetOk("allowed_roles"); ok {
		c.AllowedRoles = v.([]string)
	}
	if v, ok, _ := d.GetOk("root_rotation_statements"); ok {
		c.RootRotationStatements = v.([]string)
	}
	if v, ok, _ := d.GetOk("password_policy"); ok {
		c.PasswordPolicy = v.(string)
	}
	if v, ok, _ := d.GetOk("verify_connection"); ok {
		c.VerifyConnection = v.(bool)
	} else if fresh {
		c.VerifyConnection = true
	}
	for k, v := range req.Data {
		if !engineKeys[k] {
			c.ConnectionDetails[k] = v
		}
	}
	return nil
}

func (b *Backend) handleConfigDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if err := b.view.Delete(ctx, "config/"+name); err != nil {
		return nil, err
	}
	b.dropInstance(name)
	return nil, nil
}

func (b *Backend) handleReset(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	c, err := b.loadConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, logical.InvalidRequest("database connection %q does not exist", name)
	}
	db, _, err := newInstance(ctx, c, c.VerifyConnection)
	if err != nil {
		return nil, err
	}
	b.setInstance(name, db)
	return nil, nil
}
