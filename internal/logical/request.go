package logical

import (
	"context"
	"crypto/tls"
	"time"
)

// Operation is what a request asks to do with a path.
type Operation string

// The operations a request can carry.
const (
	CreateOperation Operation = "create"
	ReadOperation   Operation = "read"
	UpdateOperation Operation = "update"
	PatchOperation  Operation = "patch"
	DeleteOperation Operation = "delete"
	ListOperation   Operation = "list"
	HelpOperation   Operation = "help"
	// RevokeOperation and RenewOperation are sent by core to the engine that
	// issued a lease or a token.
	RevokeOperation Operation = "revoke"
	RenewOperation  Operation = "renew"
)

// Connection describes the network peer of a request.
type Connection struct {
	RemoteAddr string
	ConnState  *tls.ConnectionState
}

// Request is one call into a backend. Path is relative to the mount.
type Request struct {
	ID        string
	Operation Operation
	Path      string
	Data      map[string]any
	Storage   Storage
	Auth      *Auth
	Conn      *Connection
	// MountPoint is the mount path with trailing slash, e.g. "secret/".
	MountPoint string
	// ClientToken is the raw token of the caller; only the token store and
	// sys paths may look at it, never log it.
	ClientToken string
	// AccessKeyID, set only by a front end that verified the request's
	// signature with this kinko-issued access key (AWS SigV4), stands in
	// for ClientToken: the request runs as the key's token.
	AccessKeyID string
	// Headers holds selected request headers (canonical names).
	Headers map[string][]string
	// Secret is set for Renew/Revoke of a lease the backend issued.
	Secret *Secret
	// MountConfig gives the mount's effective lease TTLs.
	MountConfig MountConfig
	// Sudo is set by core when the caller holds sudo on this path (or is root).
	Sudo bool
	// WrapTTL asks for the response to be wrapped in a single-use token
	// (X-Vault-Wrap-TTL); zero means no wrapping.
	WrapTTL time.Duration
}

// MountConfig carries a mount's tunables into its backend.
type MountConfig struct {
	DefaultLeaseTTL time.Duration
	MaxLeaseTTL     time.Duration
	// UserLockout is the mount's tuned user lockout (nil: not tuned); it
	// is shared and read-only. See UserLockoutConfig.
	UserLockout *UserLockoutConfig
}

// Get returns a request data value.
func (r *Request) Get(key string) any {
	if r.Data == nil {
		return nil
	}
	return r.Data[key]
}

// Backend is what every secrets engine and auth method implements.
type Backend interface {
	HandleRequest(ctx context.Context, req *Request) (*Response, error)
	Paths() []*Path
}

// BackendConfig is given to a Factory to build a backend for one mount.
type BackendConfig struct {
	// StorageView is the mount's own barrier-encrypted view, for backends
	// that need storage outside of a request (initialisation, timers).
	StorageView Storage
	Config      map[string]string
	// System gives read-only facts about the server.
	System SystemView
}

// SystemView is the narrow window a backend has onto the server.
type SystemView interface {
	DefaultLeaseTTL() time.Duration
	MaxLeaseTTL() time.Duration
}

// PasswordGenerator is an optional capability of a SystemView: it makes a
// password from crypto/rand following the named password policy
// (sys/policies/password/:name), or the server's default policy when name
// is "". An unknown policy name is an ErrInvalidRequest.
type PasswordGenerator interface {
	GeneratePassword(ctx context.Context, policyName string) (string, error)
}

// Factory builds a backend for one mount; engines register one by type name.
type Factory func(ctx context.Context, conf *BackendConfig) (Backend, error)

// Initializer is an optional interface: Initialize is called once after the
// backend is mounted and the barrier is unsealed.
type Initializer interface {
	Initialize(ctx context.Context, s Storage) error
}

// Cleaner is an optional interface: Cleanup is called when the mount is
// disabled or the server seals.
type Cleaner interface {
	Cleanup(ctx context.Context)
}

// HTTPRawBodyKey is the request data key under which the HTTP layer hands
// an engine the undecoded body of a request whose media type is binary
// (application/ocsp-request), as a []byte.
const HTTPRawBodyKey = "http_raw_body"
