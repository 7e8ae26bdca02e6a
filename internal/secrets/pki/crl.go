package pki

import (
	"context"
	"crypto/x509"
	"math/big"
	"sort"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// crlRecord is an issuer's current CRL with the entries it lists, so a
// revocation appends one entry instead of rescanning every revocation.
type crlRecord struct {
	Number     int64     `json:"number"`
	DER        []byte    `json:"der"`
	NextUpdate time.Time `json:"next_update"`
	Entries    []crlItem `json:"entries"`
	// Complete is set once Entries was built from a scan of revoked/.
	Complete bool `json:"complete"`
}

// crlItem is one revoked serial (hex) and its revocation time (unix).
type crlItem struct {
	Serial string `json:"s"`
	Time   int64  `json:"t"`
}

func (it crlItem) entry() x509.RevocationListEntry {
	n, _ := new(big.Int).SetString(it.Serial, 16)
	return x509.RevocationListEntry{SerialNumber: n, RevocationTime: time.Unix(it.Time, 0).UTC()}
}

func itemOf(e x509.RevocationListEntry) crlItem {
	return crlItem{Serial: e.SerialNumber.Text(16), Time: e.RevocationTime.Unix()}
}

// revokedByIssuer loads every revocation, grouped by issuer id.
func revokedByIssuer(ctx context.Context, s logical.Storage) (map[string][]crlItem, error) {
	keys, err := s.List(ctx, revokedPrefix)
	if err != nil {
		return nil, err
	}
	sort.Strings(keys)
	out := map[string][]crlItem{}
	for _, k := range keys {
		rev, err := loadRevoked(ctx, s, k)
		if err != nil {
			return nil, err
		}
		serial, perr := parseSerial(k)
		if rev == nil || perr != nil {
			continue
		}
		out[rev.IssuerID] = append(out[rev.IssuerID], crlItem{Serial: serial.Text(16), Time: rev.RevocationTime.Unix()})
	}
	return out, nil
}

// canSignCRL reports whether an issuer can sign CRLs.
func canSignCRL(pi *parsedIssuer) bool {
	return pi.signer != nil && (pi.cert.KeyUsage == 0 || pi.cert.KeyUsage&x509.KeyUsageCRLSign != 0)
}

// rebuildCRLs rescans every revocation and signs a new CRL for every
// issuer that can. The caller holds b.mu.
func (b *backend) rebuildCRLs(ctx context.Context, s logical.Storage) error {
	all, err := b.listIssuers(ctx, s)
	if err != nil {
		return err
	}
	revoked, err := revokedByIssuer(ctx, s)
	if err != nil {
		return err
	}
	for _, pi := range all {
		if !canSignCRL(pi) {
			continue
		}
		var rec crlRecord
		if _, err := logical.GetJSON(ctx, s, crlPrefix+pi.entry.ID, &rec); err != nil {
			return err
		}
		rec.Entries, rec.Complete = revoked[pi.entry.ID], true
		if err := b.signCRL(ctx, s, pi, &rec); err != nil {
			return err
		}
	}
	return nil
}

// appendCRL adds one revocation to the CRL of issuer id and re-signs it.
// The caller holds b.mu.
func (b *backend) appendCRL(ctx context.Context, s logical.Storage, id string, e x509.RevocationListEntry) error {
	var rec crlRecord
	ok, err := logical.GetJSON(ctx, s, crlPrefix+id, &rec)
	if err != nil {
		return err
	}
	pi, err := b.loadIssuer(ctx, s, id)
	if err != nil {
		return err
	}
	if !ok || !rec.Complete || pi == nil {
		return b.rebuildCRLs(ctx, s)
	}
	if !canSignCRL(pi) {
		return nil
	}
	rec.Entries = append(rec.Entries, itemOf(e))
	return b.signCRL(ctx, s, pi, &rec)
}

// signCRL signs rec's entries as the next CRL of pi and stores it.
func (b *backend) signCRL(ctx context.Context, s logical.Storage, pi *parsedIssuer, rec *crlRecord) error {
	cfg, err := loadCRLConfig(ctx, s)
	if err != nil {
		return err
	}
	now := b.now().UTC().Truncate(time.Second)
	rec.Number++
	tmpl := &x509.RevocationList{Number: big.NewInt(rec.Number), ThisUpdate: now, NextUpdate: now.Add(cfg.Expiry)}
	if !cfg.Disable {
		tmpl.RevokedCertificateEntries = make([]x509.RevocationListEntry, len(rec.Entries))
		for i, it := range rec.Entries {
			tmpl.RevokedCertificateEntries[i] = it.entry()
		}
	}
	der, err := x509.CreateRevocationList(b.rand, tmpl, pi.cert, pi.signer)
	if err != nil {
		return err
	}
	rec.DER, rec.NextUpdate = der, tmpl.NextUpdate
	return logical.PutJSON(ctx, s, crlPrefix+pi.entry.ID, rec)
}

// currentCRL returns the default issuer's CRL, re-signing it when it is
// missing or past its nextUpdate. nil when there is no default issuer.
func (b *backend) currentCRL(ctx context.Context, s logical.Storage) ([]byte, error) {
	cfg, err := loadIssuersConfig(ctx, s)
	if err != nil || cfg.Default == "" {
		return nil, err
	}
	var rec crlRecord
	ok, err := logical.GetJSON(ctx, s, crlPrefix+cfg.Default, &rec)
	if err != nil {
		return nil, err
	}
	if ok && b.now().Before(rec.NextUpdate) {
		return rec.DER, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// Read again under the lock: a revocation may have re-signed it.
	rec = crlRecord{}
	if ok, err = logical.GetJSON(ctx, s, crlPrefix+cfg.Default, &rec); err != nil || (ok && b.now().Before(rec.NextUpdate)) {
		return rec.DER, err
	}
	pi, err := b.loadIssuer(ctx, s, cfg.Default)
	if err != nil || pi == nil || !canSignCRL(pi) {
		return nil, err
	}
	if !ok || !rec.Complete {
		if err := b.rebuildCRLs(ctx, s); err != nil {
			return nil, err
		}
	} else if err := b.signCRL(ctx, s, pi, &rec); err != nil {
		return nil, err
	}
	_, err = logical.GetJSON(ctx, s, crlPrefix+cfg.Default, &rec)
	return rec.DER, err
}
