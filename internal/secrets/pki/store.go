package pki

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Storage keys (see the package doc).
const (
	configIssuersKey = "config/issuers"
	configURLsKey    = "config/urls"
	configCRLKey     = "config/crl"
	issuerPrefix     = "issuer/"
	keyPrefix        = "key/"
	rolePrefix       = "role/"
	certPrefix       = "certs/"
	revokedPrefix    = "revoked/"
	crlPrefix        = "crl/"
)

// issuerEntry is one CA certificate of the mount.
type issuerEntry struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	KeyID       string `json:"key_id,omitempty"`
	Certificate string `json:"certificate"` // PEM
	// LeafNotAfterBehavior is err, truncate or permit: what to do when a
	// requested certificate would outlive this issuer.
	LeafNotAfterBehavior string `json:"leaf_not_after_behavior"`
	// CAChain is this certificate followed by its known parents (PEM),
	// recomputed whenever the set of issuers changes.
	CAChain []string `json:"ca_chain,omitempty"`
}

// keyEntry is a private key; only this record ever holds key material.
type keyEntry struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	PrivateKey string `json:"private_key"` // PKCS #8 PEM
}

// issuersConfig names the default issuer.
type issuersConfig struct {
	Default string `json:"default"`
}

// certEntry is a stored certificate with the facts listings need.
type certEntry struct {
	DER        []byte `json:"der"`
	NotAfter   int64  `json:"not_after"` // unix seconds
	CommonName string `json:"common_name"`
	IssuerID   string `json:"issuer_id,omitempty"`
}

// revokedEntry records a revocation.
type revokedEntry struct {
	DER            []byte    `json:"der"`
	RevocationTime time.Time `json:"revocation_time"`
	IssuerID       string    `json:"issuer_id"`
	NotAfter       int64     `json:"not_after"`
}

// parsedIssuer is an issuer with its certificate and (if any) key decoded.
type parsedIssuer struct {
	entry  *issuerEntry
	cert   *x509.Certificate
	signer crypto.Signer // nil when the mount does not hold the key
}

// parseCache keeps parsed storage values (certificates, keys, issuer
// records) by a hash of their kind and bytes, so the hot paths do not
// decode the same bytes on every request. Cached values are shared and
// must not be modified. It is cleared when it grows past a bound.
type parseCache struct {
	mu sync.Mutex
	m  map[[32]byte]any
}

const parseCacheMax = 512

// Kinds of cached values.
const (
	kindCert byte = iota + 1
	kindKey
	kindIssuer
)

func (c *parseCache) get(kind byte, raw []byte, parse func([]byte) (any, error)) (any, error) {
	h := sha256.New()
	h.Write([]byte{kind})
	h.Write(raw)
	var sum [32]byte
	h.Sum(sum[:0])
	c.mu.Lock()
	v, ok := c.m[sum]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := parse(raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= parseCacheMax {
		c.m = make(map[[32]byte]any)
	}
	c.m[sum] = v
	c.mu.Unlock()
	return v, nil
}

// certPEM and keyPEM parse a PEM certificate or private key through the
// cache.
func (b *backend) certPEM(text string) (*x509.Certificate, error) {
	v, err := b.cache.get(kindCert, []byte(text), parseCertPEM)
	if err != nil {
		return nil, err
	}
	return v.(*x509.Certificate), nil
}

func (b *backend) keyPEM(text string) (crypto.Signer, error) {
	v, err := b.cache.get(kindKey, []byte(text), parseKeyPEM)
	if err != nil {
		return nil, err
	}
	return v.(crypto.Signer), nil
}

func parseCertPEM(b []byte) (any, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("pki: stored certificate is not PEM")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseKeyPEM(b []byte) (any, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errBadKey
	}
	return parsePrivateKey(block)
}

// loadIssuer reads and parses issuer id; nil when it does not exist. The
// entry is the caller's to modify; the certificate and key are shared.
func (b *backend) loadIssuer(ctx context.Context, s logical.Storage, id string) (*parsedIssuer, error) {
	raw, err := s.Get(ctx, issuerPrefix+id)
	if err != nil || raw == nil {
		return nil, err
	}
	v, err := b.cache.get(kindIssuer, raw.Value, b.parseIssuer)
	if err != nil {
		return nil, fmt.Errorf("pki: issuer %s: %w", id, err)
	}
	cached := v.(*parsedIssuer)
	entry := *cached.entry
	pi := &parsedIssuer{entry: &entry, cert: cached.cert}
	if entry.KeyID == "" {
		return pi, nil
	}
	kraw, err := s.Get(ctx, keyPrefix+entry.KeyID)
	if err != nil || kraw == nil {
		return pi, err
	}
	if pi.signer, err = b.signerOf(kraw.Value); err != nil {
		return nil, fmt.Errorf("pki: key of issuer %s: %w", id, err)
	}
	return pi, nil
}

func (b *backend) parseIssuer(raw []byte) (any, error) {
	var e issuerEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, err
	}
	c, err := b.certPEM(e.Certificate)
	if err != nil {
		return nil, err
	}
	return &parsedIssuer{entry: &e, cert: c}, nil
}

// signerOf decodes a stored key record into its key.
func (b *backend) signerOf(raw []byte) (crypto.Signer, error) {
	v, err := b.cache.get(kindKey, raw, func(raw []byte) (any, error) {
		var k keyEntry
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, errBadKey
		}
		return parseKeyPEM([]byte(k.PrivateKey))
	})
	if err != nil {
		return nil, err
	}
	return v.(crypto.Signer), nil
}

// listIssuers loads every issuer, ordered by id.
func (b *backend) listIssuers(ctx context.Context, s logical.Storage) ([]*parsedIssuer, error) {
	ids, err := s.List(ctx, issuerPrefix)
	if err != nil {
		return nil, err
	}
	sort.Strings(ids)
	out := make([]*parsedIssuer, 0, len(ids))
	for _, id := range ids {
		pi, err := b.loadIssuer(ctx, s, id)
		if err != nil {
			return nil, err
		}
		if pi != nil {
			out = append(out, pi)
		}
	}
	return out, nil
}

func loadIssuersConfig(ctx context.Context, s logical.Storage) (*issuersConfig, error) {
	var c issuersConfig
	if _, err := logical.GetJSON(ctx, s, configIssuersKey, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// loadKeys reads every stored key.
func (b *backend) loadKeys(ctx context.Context, s logical.Storage) ([]*keyEntry, []crypto.Signer, error) {
	ids, err := s.List(ctx, keyPrefix)
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(ids)
	var entries []*keyEntry
	var signers []crypto.Signer
	for _, id := range ids {
		var k keyEntry
		ok, err := logical.GetJSON(ctx, s, keyPrefix+id, &k)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		signer, err := b.keyPEM(k.PrivateKey)
		if err != nil {
			return nil, nil, fmt.Errorf("pki: key %s: %w", id, err)
		}
		entries = append(entries, &k)
		signers = append(signers, signer)
	}
	return entries, signers, nil
}

// storeKey writes a new key record and returns it.
func (b *backend) storeKey(ctx context.Context, s logical.Storage, signer crypto.Signer, name string) (*keyEntry, error) {
	id, err := newID(b.rand)
	if err != nil {
		return nil, err
	}
	block, err := marshalPrivateKey(signer, "pkcs8")
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	k := &keyEntry{ID: id, Name: name, Type: keyTypeName(signer.Public()), PrivateKey: string(pem.EncodeToMemory(block))}
	if err := logical.PutJSON(ctx, s, keyPrefix+id, k); err != nil {
		return nil, err
	}
	return k, nil
}

// storeCert records a certificate under its serial.
func storeCert(ctx context.Context, s logical.Storage, cert *x509.Certificate, issuerID string) error {
	e := certEntry{DER: cert.Raw, NotAfter: cert.NotAfter.Unix(), CommonName: cert.Subject.CommonName, IssuerID: issuerID}
	return logical.PutJSON(ctx, s, certPrefix+serialKey(cert.SerialNumber), &e)
}

func loadCert(ctx context.Context, s logical.Storage, key string) (*certEntry, error) {
	var e certEntry
	ok, err := logical.GetJSON(ctx, s, certPrefix+key, &e)
	if err != nil || !ok {
		return nil, err
	}
	return &e, nil
}

func loadRevoked(ctx context.Context, s logical.Storage, key string) (*revokedEntry, error) {
	var e revokedEntry
	ok, err := logical.GetJSON(ctx, s, revokedPrefix+key, &e)
	if err != nil || !ok {
		return nil, err
	}
	return &e, nil
}

// pemCert encodes a certificate as PEM without a trailing newline, the way
// Vault's JSON responses carry them.
func pemCert(der []byte) string {
	return trimNL(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func trimNL(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	return string(b)
}
