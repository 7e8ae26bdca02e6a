package pki

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"regexp"
	"slices"

	"github.com/kinko-dev/kinko/internal/logical"
)

// defaultRef names the mount's default issuer wherever an issuer_ref is
// accepted.
const defaultRef = "default"

// Leaf notAfter behaviours of an issuer.
var leafBehaviors = []string{"err", "truncate", "permit"}

var issuerNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// validIssuerName checks a new issuer name against existing issuers
// (except the one being renamed, skipID). "" is always fine.
func validIssuerName(name, skipID string, all []*parsedIssuer) error {
	if name == "" {
		return nil
	}
	if name == defaultRef || !issuerNameRe.MatchString(name) {
		return logical.InvalidRequest("invalid issuer_name %q: use up to 128 letters, digits, '_', '-' or '.', and not \"default\"", name)
	}
	for _, pi := range all {
		if pi.entry.ID == skipID {
			continue
		}
		if pi.entry.Name == name || pi.entry.ID == name {
			return logical.InvalidRequest("issuer_name %q is already in use by issuer %s", name, pi.entry.ID)
		}
	}
	return nil
}

// resolveIssuer finds an issuer by id, by name, or "default" (also "").
func (b *backend) resolveIssuer(ctx context.Context, s logical.Storage, ref string) (*parsedIssuer, error) {
	pi, err := b.findIssuer(ctx, s, ref)
	if err == nil && pi == nil {
		err = logical.InvalidRequest("unable to find PKI issuer for reference: %s", ref)
	}
	return pi, err
}

// findIssuer is resolveIssuer that returns nil, nil for an unknown issuer.
func (b *backend) findIssuer(ctx context.Context, s logical.Storage, ref string) (*parsedIssuer, error) {
	if ref == "" || ref == defaultRef {
		cfg, err := loadIssuersConfig(ctx, s)
		if err != nil {
			return nil, err
		}
		if cfg.Default == "" {
			return nil, logical.InvalidRequest("no default issuer currently configured: generate or import a CA first")
		}
		ref = cfg.Default
	}
	if pi, err := b.loadIssuer(ctx, s, ref); err != nil || pi != nil {
		return pi, err
	}
	all, err := b.listIssuers(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, pi := range all {
		if pi.entry.Name == ref {
			return pi, nil
		}
	}
	return nil, nil
}

// defaultIssuer returns the default issuer, or nil when none is set.
func (b *backend) defaultIssuer(ctx context.Context, s logical.Storage) (*parsedIssuer, error) {
	cfg, err := loadIssuersConfig(ctx, s)
	if err != nil || cfg.Default == "" {
		return nil, err
	}
	return b.loadIssuer(ctx, s, cfg.Default)
}

// signingIssuer is resolveIssuer for an issuer that must hold its key.
func (b *backend) signingIssuer(ctx context.Context, s logical.Storage, ref string) (*parsedIssuer, error) {
	pi, err := b.resolveIssuer(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	if pi.signer == nil {
		return nil, logical.InvalidRequest("issuer %s has no private key in this mount and cannot sign", pi.entry.ID)
	}
	return pi, nil
}

// chainOf returns pi's certificate followed by its parents among all, as
// far as they are known (a self-signed certificate ends the chain).
func chainOf(pi *parsedIssuer, all []*parsedIssuer) []*x509.Certificate {
	chain := []*x509.Certificate{pi.cert}
	cur := pi.cert
	for len(chain) < 10 && !selfSigned(cur) {
		parent := findParent(cur, all)
		if parent == nil {
			break
		}
		chain = append(chain, parent)
		cur = parent
	}
	return chain
}

func findParent(c *x509.Certificate, all []*parsedIssuer) *x509.Certificate {
	for _, cand := range all {
		if cand.cert.Equal(c) || !bytes.Equal(cand.cert.RawSubject, c.RawIssuer) {
			continue
		}
		if c.CheckSignatureFrom(cand.cert) == nil {
			return cand.cert
		}
	}
	return nil
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// chainPEM renders a chain as a list of PEM strings.
func chainPEM(chain []*x509.Certificate) []string {
	out := make([]string, len(chain))
	for i, c := range chain {
		out[i] = pemCert(c.Raw)
	}
	return out
}

// issuerChain returns pi's chain: the stored one, or computed from all
// issuers for an entry written before chains were stored.
func (b *backend) issuerChain(ctx context.Context, s logical.Storage, pi *parsedIssuer) ([]*x509.Certificate, error) {
	if len(pi.entry.CAChain) > 0 {
		chain := make([]*x509.Certificate, 0, len(pi.entry.CAChain))
		for _, p := range pi.entry.CAChain {
			c, err := b.certPEM(p)
			if err != nil {
				return nil, fmt.Errorf("pki: chain of issuer %s: %w", pi.entry.ID, err)
			}
			chain = append(chain, c)
		}
		return chain, nil
	}
	all, err := b.listIssuers(ctx, s)
	if err != nil {
		return nil, err
	}
	return chainOf(pi, all), nil
}

// rebuildChains recomputes and stores every issuer's chain after the set
// of issuers changed. The caller holds b.mu.
func (b *backend) rebuildChains(ctx context.Context, s logical.Storage) error {
	all, err := b.listIssuers(ctx, s)
	if err != nil {
		return err
	}
	for _, pi := range all {
		chain := chainPEM(chainOf(pi, all))
		if slices.Equal(chain, pi.entry.CAChain) {
			continue
		}
		pi.entry.CAChain = chain
		if err := logical.PutJSON(ctx, s, issuerPrefix+pi.entry.ID, pi.entry); err != nil {
			return err
		}
	}
	return nil
}

// addIssuer stores a new issuer for cert (keyID may be empty) and makes it
// the default when there is none and it can sign. The caller holds b.mu.
func (b *backend) addIssuer(ctx context.Context, s logical.Storage, cert *x509.Certificate, keyID, name string) (*issuerEntry, error) {
	id, err := newID(b.rand)
	if err != nil {
		return nil, err
	}
	e := &issuerEntry{ID: id, Name: name, KeyID: keyID, Certificate: pemCert(cert.Raw), LeafNotAfterBehavior: "err"}
	if err := logical.PutJSON(ctx, s, issuerPrefix+id, e); err != nil {
		return nil, err
	}
	if err := storeCert(ctx, s, cert, id); err != nil {
		return nil, err
	}
	cfg, err := loadIssuersConfig(ctx, s)
	if err != nil {
		return nil, err
	}
	if cfg.Default == "" && keyID != "" {
		cfg.Default = id
		if err := logical.PutJSON(ctx, s, configIssuersKey, cfg); err != nil {
			return nil, err
		}
	}
	return e, nil
}
