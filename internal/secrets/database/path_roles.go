package database

import (
	"context"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

// dynamicRole is a stored dynamic role (role/<name>).
type dynamicRole struct {
	DBName               string        `json:"db_name"`
	DefaultTTL           time.Duration `json:"default_ttl"`
	MaxTTL               time.Duration `json:"max_ttl"`
	CreationStatements   []string      `json:"creation_statements"`
	RevocationStatements []string      `json:"revocation_statements"`
	RollbackStatements   []string      `json:"rollback_statements"`
	RenewStatements      []string      `json:"renew_statements"`
	CredentialType       string        `json:"credential_type"`
}

func (b *Backend) rolePaths() []*logical.Path {
	fields := map[string]*logical.FieldSchema{
		"name":                  {Type: logical.TypeString, Description: "Name of the role."},
		"db_name":               {Type: logical.TypeString, Description: "The connection (config/:name) the role uses."},
		"default_ttl":           {Type: logical.TypeDurationSecond, Description: "Lease TTL of the credentials (the mount's default when 0)."},
		"max_ttl":               {Type: logical.TypeDurationSecond, Description: "Longest the credentials may be renewed to (the mount's max when 0)."},
		"creation_statements":   {Type: logical.TypeStringSlice, Description: "Statements that create the user; {{name}}, {{password}}, {{expiration}} are filled in."},
		"revocation_statements": {Type: logical.TypeStringSlice, Description: "Statements that remove the user (the plugin's default when empty)."},
		"rollback_statements":   {Type: logical.TypeStringSlice, Description: "Statements run when creation fails."},
		"renew_statements":      {Type: logical.TypeStringSlice, Description: "Statements that extend the user's expiry on renewal."},
		"credential_type":       {Type: logical.TypeString, Default: "password", Description: "Only password is supported."},
	}
	return []*logical.Path{
		{Pattern: "roles/?", Operations: map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.listPrefix("role/")},
			HelpSynopsis: "List dynamic roles."},
		{Pattern: "roles/" + logical.GenericNameRegex("name"), Fields: fields, ExistenceCheck: b.exists("role/"),
			Operations: map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.handleRoleRead,
				logical.CreateOperation: b.handleRoleWrite, logical.UpdateOperation: b.handleRoleWrite, logical.DeleteOperation: b.handleRoleDelete},
			HelpSynopsis: "A dynamic role: how to create, renew and revoke a user for creds/:name."},
	}
}

func (b *Backend) loadRole(ctx context.Context, name string) (*dynamicRole, error) {
	return load[dynamicRole](ctx, b.view, "role/"+name)
}

func (b *Backend) handleRoleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := b.loadRole(ctx, d.Get("name").(string))
	if err != nil || r == nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"db_name": r.DBName, "default_ttl": int64(r.DefaultTTL / time.Second), "max_ttl": int64(r.MaxTTL / time.Second),
		"creation_statements": nonNil(r.CreationStatements), "revocation_statements": nonNil(r.RevocationStatements),
		"rollback_statements": nonNil(r.RollbackStatements), "renew_statements": nonNil(r.RenewStatements),
		"credential_type": r.CredentialType, "credential_config": map[string]any{},
	}), nil
}

func (b *Backend) handleRoleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	r, err := b.loadRole(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &dynamicRole{}
	}
	setString(d, "db_name", &r.DBName)
	setString(d, "credential_type", &r.CredentialType)
	setDuration(d, "default_ttl", &r.DefaultTTL)
	setDuration(d, "max_ttl", &r.MaxTTL)
	for key, dst := range map[string]*[]string{"creation_statements": &r.CreationStatements, "revocation_statements": &r.RevocationStatements,
		"rollback_statements": &r.RollbackStatements, "renew_statements": &r.RenewStatements} {
		setStrings(d, key, dst)
	}
	if r.CredentialType == "" {
		r.CredentialType = "password"
	}
	switch {
	case r.DBName == "":
		return nil, logical.InvalidRequest("db_name is required")
	case r.CredentialType != "password":
		return nil, logical.InvalidRequest("credential_type %q is not supported: use password", r.CredentialType)
	case len(r.CreationStatements) == 0:
		return nil, logical.InvalidRequest("creation_statements are required")
	case r.MaxTTL > 0 && r.DefaultTTL > r.MaxTTL:
		return nil, logical.InvalidRequest("default_ttl must not be longer than max_ttl")
	}
	db, cfg, err := b.db(ctx, r.DBName)
	if err != nil {
		return nil, err
	}
	if !cfg.allows(name) {
		return nil, logical.InvalidRequest("role %q is not in the allowed_roles of connection %q", name, r.DBName)
	}
	if err := validateStatements(ctx, db, map[dbplugin.StatementKind][]string{
		dbplugin.CreationStatements: r.CreationStatements, dbplugin.RevocationStatements: r.RevocationStatements,
		dbplugin.RollbackStatements: r.RollbackStatements, dbplugin.RenewStatements: r.RenewStatements}); err != nil {
		return nil, err
	}
	return nil, logical.PutJSON(ctx, b.view, "role/"+name, r)
}

// validateStatements asks the plugin, when it can, to check statements
// without leaving anything behind.
func validateStatements(ctx context.Context, db dbplugin.Database, byKind map[dbplugin.StatementKind][]string) error {
	v, ok := db.(dbplugin.StatementValidator)
	if !ok {
		return nil
	}
	for _, kind := range []dbplugin.StatementKind{dbplugin.CreationStatements, dbplugin.RevocationStatements,
		dbplugin.RollbackStatements, dbplugin.RenewStatements, dbplugin.RotationStatements} {
		if len(byKind[kind]) == 0 {
			continue
		}
		if err := v.ValidateStatements(ctx, kind, dbplugin.Statements{Commands: byKind[kind]}); err != nil {
			return dbError(err)
		}
	}
	return nil
}

func (b *Backend) handleRoleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, b.view.Delete(ctx, "role/"+d.Get("name").(string))
}

func setString(d *logical.FieldData, key string, dst *string) {
	if v, ok, _ := d.GetOk(key); ok {
		*dst = v.(string)
	}
}

func setDuration(d *logical.FieldData, key string, dst *time.Duration) {
	if v, ok, _ := d.GetOk(key); ok {
		*dst = v.(time.Duration)
	}
}

func setStrings(d *logical.FieldData, key string, dst *[]string) {
	if v, ok, _ := d.GetOk(key); ok {
		*dst = v.([]string)
	}
}
