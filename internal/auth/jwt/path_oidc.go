package jwt

import (
	"context"
	"crypto/subtle"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
)

// maxClientNonce bounds the client_nonce kept with a pending login.
const maxClientNonce = 512

// errStateMissing answers a callback whose state is unknown, used or
// expired.
var errStateMissing = logical.InvalidRequest("OIDC login failed: expired or missing OAuth state " +
	"(a state works once, for 10 minutes: start again with oidc/auth_url)")

func (b *backend) pathOIDCAuthURL() *logical.Path {
	return &logical.Path{
		Pattern: "oidc/auth_url",
		Fields: map[string]*logical.FieldSchema{
			"role":         {Type: logical.TypeString, Description: "OIDC role to log in with (default: the config's default_role)."},
			"redirect_uri": {Type: logical.TypeString, Description: "Where the provider sends the browser back; one of the role's allowed_redirect_uris."},
			"client_nonce": {Type: logical.TypeString, Description: "Optional value the callback must repeat (binds it to this client)."},
		},
		Operations:   map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.oidcAuthURL},
		HelpSynopsis: "Start an OIDC login: returns the provider's authorization URL.",
		HelpDescription: `Returns auth_url, the provider's authorization endpoint with the client ID,
redirect_uri, scopes, a fresh state and nonce and a PKCE (S256) challenge.
The state is kept in memory for 10 minutes and is good for one callback.`,
	}
}

func (b *backend) pathOIDCCallback() *logical.Path {
	return &logical.Path{
		Pattern: "oidc/callback",
		Fields: map[string]*logical.FieldSchema{
			"state":        {Type: logical.TypeString, Description: "The state of the authorization URL, as the provider returned it."},
			"code":         {Type: logical.TypeString, Description: "The provider's authorization code."},
			"nonce":        {Type: logical.TypeString, Description: "Optional: the nonce of the authorization URL (checked when sent)."},
			"client_nonce": {Type: logical.TypeString, Description: "The client_nonce sent to auth_url, if one was."},
			"id_token":     {Type: logical.TypeString, Description: "ID token delivered by form_post (response type id_token)."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.oidcCallback,
			logical.UpdateOperation: b.oidcCallbackPost,
		},
		HelpSynopsis: "Complete an OIDC login.",
		HelpDescription: `GET (read) completes the login: the code is exchanged at the provider's token
endpoint (with the PKCE verifier and the client's credentials), the ID token
is verified (signature, issuer, audience, expiry, nonce) and checked against
the role, and a token is returned as a JWT login would return it. POST
(form_post response mode) only records the code or id_token the provider
posted, for the GET that follows, and answers with a small HTML page.`,
	}
}

// oidcKeyring returns the keyring and the provider's discovery document of
// a mount configured for OIDC logins.
func (b *backend) oidcKeyring(ctx context.Context, s logical.Storage) (*keyring, *providerMeta, error) {
	k, err := b.keyringFor(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	if k == nil {
		return nil, nil, logical.InvalidRequest("could not load configuration")
	}
	if k.cfg.OIDCClientID == "" || k.remote == nil || k.remote.discoveryURL == "" {
		return nil, nil, logical.InvalidRequest("OIDC login is not configured: set oidc_discovery_url and oidc_client_id in the config")
	}
	meta, err := k.remote.provider(ctx)
	if err != nil {
		return nil, nil, logical.InvalidRequest("error fetching the OIDC provider's discovery document")
	}
	return k, meta, nil
}

// oidcRole loads the named role (the default role when name is empty),
// which must exist and be of type "oidc".
func oidcRole(ctx context.Context, s logical.Storage, k *keyring, name string) (*role, error) {
	if name == "" {
		name = k.cfg.DefaultRole
	}
	switch {
	case name == "":
		return nil, logical.InvalidRequest("missing role")
	case len(name) > maxNameLength:
		return nil, logical.InvalidRequest("role %q could not be found", name[:maxNameLength]+"...")
	}
	r, err := loadRole(ctx, s, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("role %q could not be found", name)
	}
	if r.RoleType != roleTypeOIDC {
		return nil, logical.InvalidRequest("role %q is not an OIDC role (role_type is %q; log in at login with a JWT)", r.Name, r.RoleType)
	}
	return r, nil
}

// oidcAuthURL starts a login: it keeps a pending login under a fresh state
// and returns the provider's authorization URL.
func (b *backend) oidcAuthURL(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	k, meta, err := b.oidcKeyring(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	r, err := oidcRole(ctx, req.Storage, k, d.Get("role").(string))
	if err != nil {
		return nil, err
	}
	redirect := d.Get("redirect_uri").(string)
	if redirect == "" {
		return nil, logical.InvalidRequest("missing redirect_uri")
	}
	if !slices.Contains(r.AllowedRedirectURIs, redirect) {
		return nil, logical.InvalidRequest("redirect_uri %q is not allowed for role %q (see its allowed_redirect_uris)", printable(redirect, 256), r.Name)
	}
	clientNonce := d.Get("client_nonce").(string)
	if len(clientNonce) > maxClientNonce {
		return nil, logical.InvalidRequest("client_nonce is longer than %d bytes", maxClientNonce)
	}
	authEP, err := providerEndpoint(meta.AuthorizationEndpoint, k.remote.discoveryURL)
	if err != nil {
		return nil, logical.InvalidRequest("the OIDC provider's discovery document has no valid authorization_endpoint")
	}
	p := &pending{role: r.Name, redirectURI: redirect, clientNonce: clientNonce, expires: b.now().Add(pendingTTL)}
	state, err := randomToken()
	if err == nil {
		p.nonce, err = randomToken()
	}
	if err == nil {
		p.codeVerifier, err = randomToken()
	}
	if err != nil {
		return nil, err
	}
	if err := b.pending.add(state, p, b.now()); err != nil {
		return nil, err
	}
	authEP.RawQuery = authQuery(authEP.Query(), k.cfg, r, state, p).Encode()
	return &logical.Response{Data: map[string]any{"auth_url": authEP.String()}}, nil
}

// authQuery adds the authorization request's parameters (OIDC Core
// §3.1.2.1, RFC 7636) to the endpoint's own query.
func authQuery(q url.Values, cfg *config, r *role, state string, p *pending) url.Values {
	scopes := []string{"openid"}
	for _, s := range r.OIDCScopes {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	q.Set("client_id", cfg.OIDCClientID)
	q.Set("redirect_uri", p.redirectURI)
	q.Set("response_type", strings.Join(cfg.responseTypes(), " "))
	q.Set("scope", strings.Join(scopes, " "))
	q.Set("state", state)
	q.Set("nonce", p.nonce)
	q.Set("code_challenge", pkceChallenge(p.codeVerifier))
	q.Set("code_challenge_method", "S256")
	if cfg.OIDCResponseMode == responseModeFormPost {
		q.Set("response_mode", responseModeFormPost)
	}
	if r.MaxAge > 0 {
		q.Set("max_age", strconv.FormatInt(int64(r.MaxAge.Seconds()), 10))
	}
	return q
}

// oidcCallback completes a login: the state is taken (whatever happens
// next, it never works again), the code exchanged for an ID token, the
// token verified and checked against the role.
func (b *backend) oidcCallback(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p := b.pending.take(d.Get("state").(string), b.now())
	if p == nil {
		return nil, errStateMissing
	}
	if p.clientNonce != "" && subtle.ConstantTimeCompare([]byte(d.Get("client_nonce").(string)), []byte(p.clientNonce)) != 1 {
		return nil, logical.InvalidRequest("OIDC login failed: invalid client_nonce")
	}
	if n := d.Get("nonce").(string); n != "" && subtle.ConstantTimeCompare([]byte(n), []byte(p.nonce)) != 1 {
		return nil, logical.InvalidRequest("OIDC login failed: invalid nonce")
	}
	k, meta, err := b.oidcKeyring(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	r, err := oidcRole(ctx, req.Storage, k, p.role)
	if err != nil {
		return nil, err
	}
	if err := checkRemote(req, r); err != nil {
		return nil, err
	}
	code := d.Get("code").(string)
	if code == "" {
		code = p.code
	}
	var raw string
	switch {
	case code != "":
		if raw, err = b.exchangeCode(ctx, k, meta, p, code); err != nil {
			return nil, err
		}
	case p.idToken != "" && slices.Contains(k.cfg.responseTypes(), responseTypeIDToken):
		raw = p.idToken
	default:
		return nil, logical.InvalidRequest("OIDC login failed: no code or id_token received")
	}
	all, err := b.verifyIDToken(ctx, k, meta, r, p.nonce, raw)
	if err != nil {
		return nil, err
	}
	a, err := loginAuth(r, all)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Auth: a}, nil
}

// formPostPage is the answer to a form_post callback.
const formPostPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>kinko OIDC login</title></head>
<body><p>The OIDC provider's answer was received. The login completes in the
application that started it; you may close this window.</p></body></html>
`

// oidcCallbackPost records what the provider delivered by form_post for
// the GET callback that completes the login (as Vault's CLI does: POST,
// then GET with the same state).
func (b *backend) oidcCallbackPost(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	code, idToken := d.Get("code").(string), d.Get("id_token").(string)
	switch {
	case code == "" && idToken == "":
		return nil, logical.InvalidRequest("OIDC login failed: no code or id_token received")
	case len(code) > maxCodeSize:
		return nil, logical.InvalidRequest("OIDC login failed: the code is longer than %d bytes", maxCodeSize)
	case len(idToken) > maxJWTSize:
		return nil, logical.InvalidRequest("OIDC login failed: the id_token is larger than %d bytes", maxJWTSize)
	}
	if !b.pending.amend(d.Get("state").(string), code, idToken, b.now()) {
		return nil, errStateMissing
	}
	return &logical.Response{Raw: []byte(formPostPage), RawContentType: "text/html; charset=utf-8", RawStatus: 200}, nil
}

// checkRemote refuses a caller outside the role's token_bound_cidrs.
func checkRemote(req *logical.Request, r *role) error {
	if len(r.TokenBoundCIDRs) == 0 {
		return nil
	}
	remote := ""
	if req.Conn != nil {
		remote = req.Conn.RemoteAddr
	}
	if !tokenutil.RemoteAllowed(r.TokenBoundCIDRs, remote) {
		return logical.Errorf(logical.ErrPermissionDenied, "permission denied")
	}
	return nil
}
