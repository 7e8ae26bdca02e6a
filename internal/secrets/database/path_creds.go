package database

import (
	"context"
	"fmt"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/secrets/database/dbplugin"
)

const secretCredsType = "creds"

func (b *Backend) credsPath() *logical.Path {
	return &logical.Path{Pattern: "creds/" + logical.GenericNameRegex("name"),
		Fields:       map[string]*logical.FieldSchema{"name": {Type: logical.TypeString, Description: "The dynamic role."}},
		Operations:   map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.handleCreds},
		HelpSynopsis: "Create a database user for the role, under a lease: revoking the lease drops the user."}
}

func (b *Backend) credsSecret() *logical.SecretType {
	return &logical.SecretType{Type: secretCredsType, Renew: b.renewCreds, Revoke: b.revokeCreds}
}

// ttls are the role's TTLs, or else the mount's (mc, as tuned), or else
// the server's; the TTL never exceeds the max.
func (b *Backend) ttls(r *dynamicRole, mc logical.MountConfig) (ttl, max time.Duration) {
	ttl, max = r.DefaultTTL, r.MaxTTL
	if ttl <= 0 {
		ttl = mc.DefaultLeaseTTL
	}
	if max <= 0 {
		max = mc.MaxLeaseTTL
	}
	if ttl <= 0 && b.system != nil {
		ttl = b.system.DefaultLeaseTTL()
	}
	if max <= 0 && b.system != nil {
		max = b.system.MaxLeaseTTL()
	}
	if max > 0 && ttl > max {
		ttl = max
	}
	return ttl, max
}

func (b *Backend) handleCreds(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	r, err := b.loadRole(ctx, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("unknown role: %s", name)
	}
	db, cfg, err := b.db(ctx, r.DBName)
	if err != nil {
		return nil, err
	}
	if !cfg.allows(name) {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "role %q is not allowed to use connection %q", name, r.DBName)
	}
	pw, err := b.generatePassword(ctx, cfg.PasswordPolicy)
	if err != nil {
		return nil, err
	}
	ttl, max := b.ttls(r, req.MountConfig)
	display := "token"
	if req.Auth != nil && req.Auth.DisplayName != "" {
		display = req.Auth.DisplayName
	}
	res, err := db.NewUser(ctx, dbplugin.NewUserRequest{
		UsernameConfig: dbplugin.UsernameMetadata{DisplayName: display, RoleName: name},
		Statements:     dbplugin.Statements{Commands: r.CreationStatements}, RollbackStatements: dbplugin.Statements{Commands: r.RollbackStatements},
		Password: pw, Expiration: b.now().Add(ttl)})
	if err != nil {
		return nil, dbError(err)
	}
	resp := b.credsSecret().Response(map[string]any{"username": res.Username, "password": pw},
		map[string]any{"username": res.Username, "role": name, "db_name": r.DBName, "revocation_statements": r.RevocationStatements})
	resp.Secret.TTL, resp.Secret.MaxTTL = ttl, max
	return resp, nil
}

func internalString(s *logical.Secret, key string) string {
	v, _ := s.InternalData[key].(string)
	return v
}

// internalStrings reads a []string kept in a lease (JSON gives []any).
func internalStrings(s *logical.Secret, key string) []string {
	switch v := s.InternalData[key].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if str, ok := x.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

func (b *Backend) renewCreds(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s := req.Secret
	role := internalString(s, "role")
	r, err := b.loadRole(ctx, role)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("role %q no longer exists: its credentials cannot be renewed", role)
	}
	ttl, max := b.ttls(r, req.MountConfig)
	if s.TTL > 0 {
		ttl = s.TTL
	}
	now := b.now()
	exp, warning := now.Add(ttl), ""
	if limit := s.IssueTime.Add(max); max > 0 && !s.IssueTime.IsZero() && exp.After(limit) {
		exp = limit
		warning = fmt.Sprintf("TTL of %q exceeded the effective max_ttl of %q; TTL value is capped accordingly",
			ttl.String(), exp.Sub(now).Truncate(time.Second).String())
	}
	db, _, err := b.db(ctx, internalString(s, "db_name"))
	if err != nil {
		return nil, err
	}
	err = db.UpdateUser(ctx, dbplugin.UpdateUserRequest{Username: internalString(s, "username"),
		Expiration: &dbplugin.ChangeExpiration{NewExpiration: exp, Statements: dbplugin.Statements{Commands: r.RenewStatements}}})
	if err != nil {
		return nil, dbError(err)
	}
	resp := &logical.Response{Secret: &logical.Secret{LeaseOptions: logical.LeaseOptions{TTL: exp.Sub(now), MaxTTL: max, Renewable: true}}}
	if warning != "" {
		resp.AddWarning(warning)
	}
	return resp, nil
}

func (b *Backend) revokeCreds(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s := req.Secret
	dbName := internalString(s, "db_name")
	db, _, err := b.db(ctx, dbName)
	if err != nil {
		return nil, err
	}
	stmts := internalStrings(s, "revocation_statements")
	if len(stmts) == 0 {
		if r, _ := b.loadRole(ctx, internalString(s, "role")); r != nil {
			stmts = r.RevocationStatements
		}
	}
	err = db.DeleteUser(ctx, dbplugin.DeleteUserRequest{Username: internalString(s, "username"), Statements: dbplugin.Statements{Commands: stmts}})
	return nil, dbError(err)
}
