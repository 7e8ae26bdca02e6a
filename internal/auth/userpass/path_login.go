package userpass

import (
	"context"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

// Login refusals, worded as Vault's.
var (
	// errInvalidCredentials is a wrong password or an unknown user (400).
	errInvalidCredentials = logical.InvalidRequest("invalid username or password")
	// errDenied is a locked-out username or a refused source address (403).
	errDenied = logical.Errorf(logical.ErrPermissionDenied, "permission denied")
)

func (b *backend) pathLogin() *logical.Path {
	return &logical.Path{
		Pattern: "login/" + logical.GenericNameRegex("username"),
		Fields: map[string]*logical.FieldSchema{
			"username": {Type: logical.TypeString, Description: "Username of the user (case-insensitive)."},
			"password": {Type: logical.TypeString, Description: "Password of the user."},
		},
		Operations:   map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.login},
		HelpSynopsis: "Log in with a username and password.",
		HelpDescription: `Trades a username and password for a token. Repeated failures lock the
username out for a while (see config/lockout); the user's token_bound_cidrs
also limit where it may log in from.`,
	}
}

// login checks the password and returns the token to mint. It reads the
// lockout config and the user, and writes nothing.
func (b *backend) login(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := usernameOf(d)
	password := d.Get("password").(string)
	if password == "" {
		return nil, logical.InvalidRequest("missing password")
	}
	cfg, err := b.lockoutConfig(ctx, req.Storage, req.MountConfig)
	if err != nil {
		return nil, err
	}
	u, err := readUser(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	key := newCounterKey(name, u != nil)
	if !cfg.Disable {
		if !b.lockouts.begin(key, name, b.now(), cfg) {
			return nil, errDenied
		}
	}
	auth, o, err := b.authenticate(req, name, password, u)
	if !cfg.Disable {
		b.lockouts.end(key, b.now(), cfg, o)
	}
	if err != nil {
		return nil, err
	}
	return &logical.Response{Auth: auth}, nil
}

// authenticate checks password against u (nil: unknown user, compared with
// a dummy hash so it costs the same) and then the source address.
func (b *backend) authenticate(req *logical.Request, name, password string, u *user) (*logical.Auth, outcome, error) {
	hash, err := dummyHash(b.cost)
	if err != nil {
		return nil, attemptAborted, err
	}
	if u != nil {
		hash = u.PasswordHash
	}
	if !passwordMatches(hash, password) || u == nil {
		return nil, attemptFailed, errInvalidCredentials
	}
	remote := ""
	if req.Conn != nil {
		remote = req.Conn.RemoteAddr
	}
	if !tokenutil.RemoteAllowed(u.TokenBoundCIDRs, remote) {
		return nil, attemptAborted, errDenied
	}
	return loginAuth(name, u), attemptSucceeded, nil
}

// loginAuth is the token request of a successful login, as Vault builds it.
func loginAuth(name string, u *user) *logical.Auth {
	a := &logical.Auth{
		Metadata:    map[string]string{"username": name},
		DisplayName: name,
		Alias:       &logical.Alias{Name: name},
	}
	u.Params.PopulateAuth(a)
	return a
}

// errUserGone refuses renewing a token of a user deleted since the login.
var errUserGone = logical.InvalidRequest("the user no longer exists, not renewing")

// renew answers core's renewal of a token a login minted, as Vault: the
// user must still exist and still grant the policies the token has; the
// token then renews by the user's current token_ttl, token_max_ttl and
// token_period.
func (b *backend) renew(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	name := normalizeUsername(req.Auth.Metadata["username"])
	if name == "" {
		return nil, errUserGone
	}
	u, err := readUser(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errUserGone
	}
	if err := u.Params.CheckPolicies(req.Auth); err != nil {
		return nil, err
	}
	return &logical.Response{Auth: u.Params.RenewAuth(req.Auth)}, nil
}
