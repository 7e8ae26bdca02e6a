package pki

import (
	"context"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

func (b *backend) pathExpiring() *logical.Path {
	return &logical.Path{
		Pattern: `certs/expiring`,
		Fields: map[string]*logical.FieldSchema{
			"days": {Type: logical.TypeInt, Default: 30, Description: "Window in days from now."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.expiring},
		HelpSynopsis:    "Count and list stored, unrevoked certificates that expire within N days.",
		HelpDescription: "Certificates already expired are not counted. count is the figure to export as a gauge.",
	}
}

// expiringCerts returns the stored certificates that are not revoked, not
// yet expired, and expire before now+within.
func (b *backend) expiringCerts(ctx context.Context, s logical.Storage, within time.Duration) ([]certInfo, error) {
	certs, err := scanCerts(ctx, s)
	if err != nil {
		return nil, err
	}
	revokedKeys, err := s.List(ctx, revokedPrefix)
	if err != nil {
		return nil, err
	}
	revoked := make(map[string]bool, len(revokedKeys))
	for _, k := range revokedKeys {
		revoked[keyToSerial(k)] = true
	}
	now := b.now().Unix()
	limit := b.now().Add(within).Unix()
	var out []certInfo
	for _, c := range certs {
		if !revoked[c.serial] && c.entry.NotAfter > now && c.entry.NotAfter <= limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (b *backend) expiring(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	days := d.Get("days").(int)
	if days < 0 || days > 36500 {
		return nil, logical.InvalidRequest("days must be between 0 and 36500")
	}
	certs, err := b.expiringCerts(ctx, req.Storage, time.Duration(days)*24*time.Hour)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(certs))
	info := make(map[string]any, len(certs))
	for i, c := range certs {
		keys[i] = c.serial
		info[c.serial] = c.info()
	}
	return logical.DataResponse(map[string]any{"days": days, "count": len(certs), "keys": keys, "key_info": info}), nil
}

// ExpiringWithin reports how many stored, unrevoked certificates of this
// mount expire within the given window from now; it reads the mount's
// storage view, for a metrics gauge outside any request.
func (b *backend) ExpiringWithin(ctx context.Context, within time.Duration) (int, error) {
	if b.view == nil {
		return 0, nil
	}
	certs, err := b.expiringCerts(ctx, b.view, within)
	return len(certs), err
}

func (b *backend) pathTidy() *logical.Path {
	return &logical.Path{
		Pattern: `tidy`,
		Fields: map[string]*logical.FieldSchema{
			"tidy_cert_store":    {Type: logical.TypeBool, Description: "Delete expired certificates from the store."},
			"tidy_revoked_certs": {Type: logical.TypeBool, Description: "Delete revocations of expired certificates (they leave the CRL)."},
			"tidy_revoked_cert_issuer_associations": {Type: logical.TypeBool,
				Description: "Accepted for compatibility; revocations always know their issuer."},
			"safety_buffer": {Type: logical.TypeDurationSecond, Default: "72h",
				Description: "Only certificates expired for longer than this are removed."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.tidy},
		HelpSynopsis:    "Remove expired certificates and revocations.",
		HelpDescription: "Runs to completion before answering and reports how many entries it deleted.",
	}
}

func (b *backend) tidy(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	certStore, revokedToo := d.Get("tidy_cert_store").(bool), d.Get("tidy_revoked_certs").(bool)
	if !certStore && !revokedToo {
		return nil, logical.InvalidRequest("at least one of tidy_cert_store and tidy_revoked_certs must be true")
	}
	buffer := d.Get("safety_buffer").(time.Duration)
	if buffer < time.Second {
		return nil, logical.InvalidRequest("safety_buffer must be at least 1s")
	}
	cutoff := b.now().Add(-buffer).Unix()
	b.mu.Lock()
	defer b.mu.Unlock()
	var certsDeleted, revokedDeleted int
	var err error
	if revokedToo {
		if revokedDeleted, err = b.tidyRevoked(ctx, req.Storage, cutoff); err != nil {
			return nil, err
		}
	}
	if certStore {
		if certsDeleted, err = tidyCerts(ctx, req.Storage, cutoff); err != nil {
			return nil, err
		}
	}
	return logical.DataResponse(map[string]any{
		"cert_store_deleted_count": certsDeleted, "revoked_cert_deleted_count": revokedDeleted,
		"safety_buffer": int64(buffer / time.Second),
	}), nil
}

// tidyCerts deletes stored certificates that expired before cutoff.
func tidyCerts(ctx context.Context, s logical.Storage, cutoff int64) (int, error) {
	certs, err := scanCerts(ctx, s)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range certs {
		if c.entry.NotAfter >= cutoff {
			continue
		}
		if err := s.Delete(ctx, certPrefix+serialKeyOf(c.serial)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// tidyRevoked deletes revocations (and stored certificates) of
// certificates that expired before cutoff, then rebuilds the CRLs.
func (b *backend) tidyRevoked(ctx context.Context, s logical.Storage, cutoff int64) (int, error) {
	keys, err := s.List(ctx, revokedPrefix)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		rev, err := loadRevoked(ctx, s, k)
		if err != nil {
			return n, err
		}
		if rev == nil || rev.NotAfter >= cutoff {
			continue
		}
		if err := s.Delete(ctx, revokedPrefix+k); err != nil {
			return n, err
		}
		if err := s.Delete(ctx, certPrefix+k); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		return n, b.rebuildCRLs(ctx, s)
	}
	return n, nil
}

func serialKeyOf(apiSerial string) string {
	out := []byte(apiSerial)
	for i, c := range out {
		if c == ':' {
			out[i] = '-'
		}
	}
	return string(out)
}
