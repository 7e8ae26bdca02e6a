package core

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/expiration"
	"github.com/kinko-dev/kinko/internal/logical"
)

// leaseRootPaths need sudo (Vault's list).
var leaseRootPaths = []string{"leases/lookup/*", "leases/revoke-prefix/*", "leases/revoke-force/*",
	"revoke-prefix/*", "revoke-force/*"}

// leasePaths serve sys/leases/* and Vault's older sys/renew, sys/revoke,
// sys/revoke-prefix and sys/revoke-force.
func (b *systemBackend) leasePaths() []*logical.Path {
	idField := map[string]*logical.FieldSchema{
		"lease_id":  {Type: logical.TypeString, Description: "The lease to act on; also accepted in the URL."},
		"url_lease": {Type: logical.TypeString, Description: "The lease ID in the URL."},
		"increment": {Type: logical.TypeDurationSecond, Description: "How much longer the lease should live, from now (the engine's default when 0)."},
		"sync":      {Type: logical.TypeBool, Default: true, Description: "Revoke before answering (false: queue the revocation and answer at once)."},
	}
	prefixField := map[string]*logical.FieldSchema{
		"prefix": {Type: logical.TypeString, Description: "A lease ID prefix, such as a mount or a role path."},
		"sync":   {Type: logical.TypeBool, Default: true, Description: "Revoke before answering."},
	}
	upd := func(h logical.OperationFunc) map[logical.Operation]logical.OperationFunc {
		return ops(map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: h})
	}
	var paths []*logical.Path
	for _, base := range []string{"leases/", ""} {
		paths = append(paths,
			&logical.Path{Pattern: base + "renew" + `(/(?P<url_lease>.+))?`, Fields: idField, Operations: upd(b.byID(b.handleLeaseRenew)),
				HelpSynopsis: "Renew a lease, extending it by increment (capped by the engine's and the mount's max TTL)."},
			&logical.Path{Pattern: base + "revoke" + `(/(?P<url_lease>.+))?`, Fields: idField, Operations: upd(b.byID(b.handleLeaseRevoke)),
				HelpSynopsis: "Revoke a lease: the engine undoes the secret (drops the database user)."},
			&logical.Path{Pattern: base + `revoke-prefix/(?P<prefix>.+)`, Fields: prefixField, Operations: upd(b.byPrefix(b.handleLeaseRevokePrefix)),
				HelpSynopsis: "Revoke every lease whose ID starts with prefix (sudo)."},
			&logical.Path{Pattern: base + `revoke-force/(?P<prefix>.+)`, Fields: prefixField, Operations: upd(b.byPrefix(b.handleLeaseRevokeForce)),
				HelpSynopsis: "Delete every lease under prefix WITHOUT asking the engine to revoke it (sudo): for secrets already removed by hand."},
		)
	}
	paths = append(paths,
		&logical.Path{Pattern: "leases/lookup", Fields: idField, Operations: upd(b.byID(b.handleLeaseLookup)),
			HelpSynopsis: "Show a lease: issue and expiry time, TTL, renewable."},
		&logical.Path{Pattern: `leases/lookup/(?P<prefix>.*)`, Fields: prefixField, Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.ListOperation: b.handleLeaseList}), HelpSynopsis: "List lease IDs one level below prefix (sudo)."},
		&logical.Path{Pattern: "leases/tidy", Operations: upd(b.handleLeaseTidy),
			HelpSynopsis: "Clean the lease index and revoke leases whose token is gone."},
		&logical.Path{Pattern: "leases/count", Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation: b.handleLeaseCount}), HelpSynopsis: "Count the leases held."},
	)
	return paths
}

// byID wraps a handler of one lease: the unsealed state and the lease ID
// (from the body or the URL), checked.
func (b *systemBackend) byID(h func(ctx context.Context, st *unsealedState, id string, d *logical.FieldData) (*logical.Response, error)) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		st, err := b.state()
		if err != nil {
			return nil, err
		}
		id, err := leaseID(d)
		if err != nil {
			return nil, err
		}
		return h(ctx, st, id, d)
	}
}

// byPrefix wraps a handler of every lease under a prefix (checked).
func (b *systemBackend) byPrefix(h func(ctx context.Context, st *unsealedState, prefix string, d *logical.FieldData) error) logical.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		st, err := b.state()
		if err != nil {
			return nil, err
		}
		p := strings.TrimSpace(d.Get("prefix").(string))
		if err := expiration.ValidateID(p, true); err != nil {
			return nil, err
		}
		return nil, h(ctx, st, p, d)
	}
}

// leaseID takes the lease ID from the body or the URL.
func leaseID(d *logical.FieldData) (string, error) {
	id := d.Get("lease_id").(string)
	if id == "" {
		id = d.Get("url_lease").(string)
	}
	id = strings.TrimSpace(id)
	return id, expiration.ValidateID(id, false)
}

// leaseErr maps the lease manager's errors to API errors.
func leaseErr(err error) error {
	switch {
	case errors.Is(err, expiration.ErrNotFound):
		return logical.InvalidRequest("lease not found or lease is not renewable")
	case errors.Is(err, expiration.ErrNotRenewable):
		return logical.InvalidRequest("lease is not renewable")
	}
	return err
}

func (b *systemBackend) handleLeaseLookup(ctx context.Context, st *unsealedState, id string, d *logical.FieldData) (*logical.Response, error) {
	l, err := st.leases.Lookup(ctx, id)
	if errors.Is(err, expiration.ErrNotFound) {
		return nil, logical.InvalidRequest("invalid lease")
	} else if err != nil {
		return nil, err
	}
	now := b.c.conf.Now()
	data := map[string]any{
		"id": l.ID, "issue_time": l.IssueTime.Format(time.RFC3339Nano), "expire_time": l.ExpireTime.Format(time.RFC3339Nano),
		"last_renewal": nil, "renewable": l.Renewable && l.RevokeAttempts == 0, "ttl": secs(l.TTL(now).Round(time.Second)),
	}
	if !l.LastRenewal.IsZero() {
		data["last_renewal"] = l.LastRenewal.Format(time.RFC3339Nano)
	}
	if l.RevokeAttempts > 0 {
		data["revoke_attempts"], data["last_revoke_error"] = l.RevokeAttempts, l.LastError
		data["next_revoke_attempt"] = l.NextAttempt.Format(time.RFC3339Nano)
	}
	return logical.DataResponse(data), nil
}

func (b *systemBackend) handleLeaseList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	prefix := d.Get("prefix").(string)
	if prefix != "" {
		if err := expiration.ValidateID(prefix, true); err != nil {
			return nil, err
		}
		if !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
	}
	keys, err := st.leases.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (b *systemBackend) handleLeaseRenew(ctx context.Context, st *unsealedState, id string, d *logical.FieldData) (*logical.Response, error) {
	l, warnings, err := st.leases.Renew(ctx, id, d.Get("increment").(time.Duration))
	if err != nil {
		return nil, leaseErr(err)
	}
	return &logical.Response{Warnings: warnings, Secret: &logical.Secret{LeaseID: l.ID,
		LeaseOptions: logical.LeaseOptions{TTL: l.TTL(b.c.conf.Now()).Round(time.Second), Renewable: l.Renewable}}}, nil
}

func (b *systemBackend) handleLeaseRevoke(ctx context.Context, st *unsealedState, id string, d *logical.FieldData) (*logical.Response, error) {
	return nil, st.leases.Revoke(ctx, id, d.Get("sync").(bool))
}

func (b *systemBackend) handleLeaseRevokePrefix(ctx context.Context, st *unsealedState, p string, d *logical.FieldData) error {
	_, err := st.leases.RevokePrefix(ctx, p, d.Get("sync").(bool))
	return err
}

func (b *systemBackend) handleLeaseRevokeForce(ctx context.Context, st *unsealedState, p string, d *logical.FieldData) error {
	_, err := st.leases.RevokeForce(ctx, p)
	return err
}

func (b *systemBackend) handleLeaseTidy(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	res, err := st.leases.Tidy(ctx, st.tokenExists)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"stale_index_entries_removed": res.StaleIndex,
		"leases_of_revoked_tokens": res.Orphaned, "leases_rescheduled": res.Rescheduled}), nil
}

func (b *systemBackend) handleLeaseCount(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"lease_count": st.leases.Count()}), nil
}
