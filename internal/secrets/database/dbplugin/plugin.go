// Package dbplugin is the contract between the database secrets engine
// and the database it manages (PostgreSQL, MySQL/MariaDB, Redis), in the
// spirit of Vault's database plugin interface v5.
//
// A Database is built by its Factory for one connection (config/:name),
// initialised once with the stored connection details, then used
// concurrently by the engine: NewUser for dynamic credentials, UpdateUser
// to change a password or an expiry (static roles, root rotation,
// renewals), DeleteUser on revocation. A plugin never logs or returns a
// password in an error; errors name the connection (host, port,
// database) so an operator can tell which one failed.
//
// Statements are templates: {{name}} and {{username}} are replaced by the
// user name, {{password}} by the password and {{expiration}} by the
// expiry time (see Expand). Each element of a Statements list may hold
// several statements separated by ';'.
package dbplugin

import (
	"context"
	"errors"
	"time"
)

// Database is one managed database connection.
type Database interface {
	// Initialize checks and keeps the connection details. With
	// VerifyConnection it connects (and fails if it cannot); without, the
	// first use connects. The returned Config is what the engine stores
	// (normalised, unknown keys refused).
	Initialize(ctx context.Context, req InitializeRequest) (InitializeResponse, error)
	// NewUser creates a user with the given password that expires at
	// Expiration, running the creation statements in one transaction
	// where the database has them; on failure it runs the rollback
	// statements (best effort) and returns the first error.
	NewUser(ctx context.Context, req NewUserRequest) (NewUserResponse, error)
	// UpdateUser changes a user's password and/or expiry.
	UpdateUser(ctx context.Context, req UpdateUserRequest) error
	// DeleteUser removes a user and what it was granted; deleting a user
	// that does not exist succeeds.
	DeleteUser(ctx context.Context, req DeleteUserRequest) error
	// Type names the plugin ("postgresql-database-plugin").
	Type() string
	// Close releases the connections.
	Close() error
}

// StatementValidator is an optional capability: it checks statements of
// a role before the role is stored, without leaving anything behind (run
// in a transaction that is rolled back, or prepared and not executed),
// so that broken SQL is reported when the role is written.
type StatementValidator interface {
	ValidateStatements(ctx context.Context, kind StatementKind, stmts Statements) error
}

// StatementKind says what a list of statements is for.
type StatementKind string

// The kinds of statements a role can carry.
const (
	CreationStatements   StatementKind = "creation_statements"
	RevocationStatements StatementKind = "revocation_statements"
	RollbackStatements   StatementKind = "rollback_statements"
	RenewStatements      StatementKind = "renew_statements"
	RotationStatements   StatementKind = "rotation_statements"
)

// Factory builds an uninitialised Database.
type Factory func() Database

// InitializeRequest carries the connection details of config/:name: the
// plugin-specific keys (connection_url, username, password, host, port,
// tls, max_open_connections, username_template, ...).
type InitializeRequest struct {
	Config           map[string]any
	VerifyConnection bool
}

// InitializeResponse returns the connection details to store.
type InitializeResponse struct {
	Config map[string]any
}

// Statements is a list of statement templates.
type Statements struct {
	Commands []string
}

// UsernameMetadata is what a generated user name is made from.
type UsernameMetadata struct {
	DisplayName string // the caller's token display name
	RoleName    string
}

// NewUserRequest asks for a new user.
type NewUserRequest struct {
	UsernameConfig     UsernameMetadata
	Statements         Statements
	RollbackStatements Statements
	Password           string
	Expiration         time.Time
}

// NewUserResponse names the user created.
type NewUserResponse struct {
	Username string
}

// UpdateUserRequest changes an existing user; nil parts are left alone.
type UpdateUserRequest struct {
	Username   string
	Password   *ChangePassword
	Expiration *ChangeExpiration
}

// ChangePassword sets a new password with the given statements (the
// plugin's default when empty).
type ChangePassword struct {
	NewPassword string
	Statements  Statements
}

// ChangeExpiration moves a user's expiry with the given statements (the
// plugin's default when empty).
type ChangeExpiration struct {
	NewExpiration time.Time
	Statements    Statements
}

// DeleteUserRequest removes a user with the given statements (the
// plugin's default when empty).
type DeleteUserRequest struct {
	Username   string
	Statements Statements
}

// ErrInvalidConfig wraps errors about the connection details a caller
// sent (a bad URL, a missing field): the engine answers 400.
var ErrInvalidConfig = errors.New("invalid database configuration")

// ErrInvalidStatements wraps errors about statements a caller sent: the
// engine answers 400 with the database's message.
var ErrInvalidStatements = errors.New("invalid statements")
