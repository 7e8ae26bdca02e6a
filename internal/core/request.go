package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/kinko-dev/kinko/internal/audit"
	"github.com/kinko-dev/kinko/internal/auth/tokenutil"
	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/policy"
	"github.com/kinko-dev/kinko/internal/token"
)

// HandleRequest runs one request through the pipeline. req.Path is the full
// API path below /v1/ ("secret/data/foo"); req.ClientToken is the caller's
// raw token. On return req.Path is still the full path.
//
// Every request that reaches an unsealed core is audited twice: before it
// is served (with the caller authenticated and authorised, or with the
// reason it was refused) and with its outcome. If audit devices are
// enabled and none can record either entry, the request is refused.
func (c *Core) HandleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	st, err := c.unsealed()
	if err != nil {
		return nil, err
	}
	fullPath := req.Path
	e, rel := st.router.Load().match(fullPath)
	if e == nil {
		in := &audit.Input{Request: req}
		err := c.auditRefused(ctx, in, logical.Errorf(logical.ErrUnsupportedPath, "no handler for route %q. route entry not found.", fullPath))
		c.observe(st, in, false)
		return nil, err
	}
	inner := *req
	inner.Path, inner.Storage, inner.MountPoint = rel, e.view, e.prefix
	inner.MountConfig = logical.MountConfig{DefaultLeaseTTL: e.mount.Config.DefaultLeaseTTL, MaxLeaseTTL: e.mount.Config.MaxLeaseTTL, UserLockout: e.mount.Config.UserLockout}
	var (
		authErr   error
		tokenHash string
	)
	unauth := e.isUnauthenticated(fullPath)
	if !unauth {
		tokenHash, authErr = c.authorize(ctx, st, e, &inner, fullPath)
	}
	logged := inner
	logged.Path = fullPath
	in := &audit.Input{Request: &logged, Auth: inner.Auth, MountPoint: e.prefix, MountType: e.mount.Type, MountAccessor: e.mount.Accessor}
	if authErr != nil {
		err := c.auditRefused(ctx, in, authErr)
		c.observe(st, in, false)
		return nil, err
	}
	in.Time = c.conf.Now()
	if err := c.audit.LogRequest(ctx, in); err != nil {
		return nil, errAuditFailed
	}
	resp, err := c.serve(ctx, st, e, &inner, fullPath, tokenHash)
	in.Response, in.Err, in.Time = resp, err, c.conf.Now()
	if aerr := c.audit.LogResponse(ctx, in); aerr != nil {
		return nil, errAuditFailed
	}
	c.observe(st, in, isLogin(fullPath, unauth))
	return resp, err
}

// serve runs an authorised request in its backend, completes logins,
// registers the lease of a dynamic secret (tied to the caller's token,
// by its hash) and wraps the response if asked.
func (c *Core) serve(ctx context.Context, st *unsealedState, e *routeEntry, req *logical.Request, fullPath, tokenHash string) (*logical.Response, error) {
	resp, err := e.backend.HandleRequest(ctx, req)
	if err != nil {
		return resp, err
	}
	if resp != nil && resp.Auth != nil && resp.Auth.ClientToken == "" {
		if err := c.completeLogin(ctx, st, e, fullPath, resp); err != nil {
			return nil, err
		}
	}
	if resp != nil && resp.Secret.IssuesLease() && resp.Secret.LeaseID == "" {
		if err := c.registerLease(ctx, st, e, req, fullPath, tokenHash, resp); err != nil {
			return nil, err
		}
	}
	if req.WrapTTL > 0 && resp != nil && resp.WrapInfo == nil && resp.Raw == nil {
		return c.wrapResponse(ctx, st, fullPath, req.WrapTTL, resp)
	}
	return resp, nil
}

// auditRefused records a request refused before reaching its backend (no
// route, no or bad token, denied by policy) and returns why it was refused,
// or the audit failure.
func (c *Core) auditRefused(ctx context.Context, in *audit.Input, cause error) error {
	in.Err, in.Time = cause, c.conf.Now()
	if err := c.audit.LogRequest(ctx, in); err != nil {
		return errAuditFailed
	}
	if err := c.audit.LogResponse(ctx, in); err != nil {
		return errAuditFailed
	}
	return cause
}

// authorize authenticates the token (setting req.Auth), resolves create vs
// update, checks the ACL (and sudo for root paths) and spends one use of a
// limited token. It returns the token's hash.
func (c *Core) authorize(ctx context.Context, st *unsealedState, e *routeEntry, req *logical.Request, fullPath string) (string, error) {
	te, err := c.authenticate(ctx, st, req)
	if err != nil {
		return "", err
	}
	if len(te.BoundCIDRs) > 0 && (req.Conn == nil || !tokenutil.RemoteAllowed(te.BoundCIDRs, req.Conn.RemoteAddr)) {
		return "", logical.Errorf(logical.ErrPermissionDenied, "permission denied: the token may not be used from this address")
	}
	policies, err := st.effectivePolicies(ctx, te)
	if err != nil {
		return "", err
	}
	req.Auth = authFromEntry(te)
	if req.Operation == logical.UpdateOperation || req.Operation == logical.CreateOperation {
		req.Operation = logical.UpdateOperation
		if ec, ok := e.backend.(logical.ExistenceChecker); ok {
			found, exists, err := ec.HandleExistenceCheck(ctx, req)
			if err != nil {
				return "", err
			}
			if found && !exists {
				req.Operation = logical.CreateOperation
			}
		}
	}
	acl, err := st.policies.ACL(ctx, policies)
	if err != nil {
		return "", err
	}
	res := acl.Check(req.Operation, fullPath, req.Data, req.WrapTTL)
	if !res.Allowed || (e.isRoot(fullPath) && !res.Sudo) {
		return "", logical.Errorf(logical.ErrPermissionDenied, "permission denied")
	}
	req.Sudo = res.Sudo
	if te.NumUses > 0 {
		if te, err = st.tokens.UseToken(ctx, te); err != nil {
			return "", err
		}
		if te == nil {
			return "", logical.Errorf(logical.ErrPermissionDenied, "permission denied: token has no uses left")
		}
		req.Auth.NumUses = te.NumUses
	}
	return te.Hash, nil
}

// authenticate finds the caller's token: the client token, or the token
// behind an access key whose signature a front end verified.
func (c *Core) authenticate(ctx context.Context, st *unsealedState, req *logical.Request) (*token.Entry, error) {
	if req.ClientToken == "" && req.AccessKeyID != "" {
		return c.accessKeyToken(ctx, st, req.AccessKeyID)
	}
	if req.ClientToken == "" {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "permission denied: missing client token")
	}
	te, err := st.tokens.Lookup(ctx, req.ClientToken)
	if err != nil {
		return nil, err
	}
	if te == nil {
		if c.revoked.parentRevoked(st.tokens.HashID(req.ClientToken)) {
			return nil, errRevokedParentToken
		}
		return nil, logical.Errorf(logical.ErrPermissionDenied, "permission denied: invalid token")
	}
	return te, nil
}

// errRevokedParentToken is refused like any invalid token; the detector
// tells it apart.
var errRevokedParentToken = logical.Errorf(logical.ErrPermissionDenied, "permission denied: invalid token")

func authFromEntry(te *token.Entry) *logical.Auth {
	return &logical.Auth{
		Accessor:       te.Accessor,
		Policies:       te.Policies,
		TokenPolicies:  te.Policies,
		Metadata:       te.Meta,
		DisplayName:    te.DisplayName,
		EntityID:       te.EntityID,
		Orphan:         te.Orphan,
		NumUses:        te.NumUses,
		Period:         te.Period,
		ExplicitMaxTTL: te.ExplicitMaxTTL,
		TokenType:      "service",
		LeaseOptions:   logical.LeaseOptions{TTL: te.TTL, Renewable: te.Renewable, IssueTime: te.CreationTime},
	}
}

// mintToken creates the token a login response asks for.
func (c *Core) mintToken(ctx context.Context, st *unsealedState, path string, a *logical.Auth) error {
	policies := append([]string(nil), a.Policies...)
	if !a.NoDefaultPolicy && !contains(policies, "default") && !contains(policies, "root") {
		policies = append(policies, "default")
	}
	explicit := a.ExplicitMaxTTL
	if a.MaxTTL > 0 && (explicit == 0 || a.MaxTTL < explicit) {
		explicit = a.MaxTTL // the role's max TTL caps the token's whole life
	}
	te := &token.Entry{
		Policies: policies, Meta: a.Metadata, DisplayName: loginDisplayName(path, a.DisplayName), NumUses: a.NumUses,
		TTL: a.TTL, ExplicitMaxTTL: explicit, Period: a.Period, Renewable: a.Renewable,
		Orphan: true, Path: path, EntityID: a.EntityID, InternalData: a.InternalData, BoundCIDRs: a.BoundCIDRs,
	}
	if err := st.tokens.Create(ctx, te); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	a.ClientToken, a.Accessor, a.Policies, a.TokenPolicies, a.Orphan = te.ID, te.Accessor, te.Policies, te.Policies, true
	a.TTL, a.TokenType = te.TTL, "service"
	return nil
}

// loginDisplayName is Vault's display name of a login token: the auth
// mount path (without "auth/", slashes as dashes) and the method's name.
func loginDisplayName(path, name string) string {
	mount := strings.TrimPrefix(path, "auth/")
	if i := strings.Index(mount, "/login"); i >= 0 {
		mount = mount[:i]
	} else {
		mount = strings.TrimSuffix(mount, "/oidc/callback") // OIDC browser logins
	}
	prefix := strings.ReplaceAll(strings.Trim(mount, "/"), "/", "-")
	if name == "" {
		return prefix
	}
	return prefix + "-" + name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ACLForToken returns the compiled ACL of a token, or ErrPermissionDenied.
func (c *Core) ACLForToken(ctx context.Context, raw string) (*policy.ACL, error) {
	st, err := c.unsealed()
	if err != nil {
		return nil, err
	}
	te, err := st.tokens.Lookup(ctx, raw)
	if err != nil {
		return nil, err
	}
	if te == nil {
		return nil, logical.Errorf(logical.ErrPermissionDenied, "permission denied")
	}
	return st.policies.ACL(ctx, te.Policies)
}

// CheckAccess verifies that the token may perform op on path (for endpoints
// served outside the router, such as sys/metrics).
func (c *Core) CheckAccess(ctx context.Context, raw string, op logical.Operation, path string) error {
	acl, err := c.ACLForToken(ctx, raw)
	if err != nil {
		return err
	}
	if ok, _ := acl.Allow(op, strings.TrimPrefix(path, "/"), nil); !ok {
		return logical.Errorf(logical.ErrPermissionDenied, "permission denied")
	}
	return nil
}
