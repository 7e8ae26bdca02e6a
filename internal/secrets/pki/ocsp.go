package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/kinko-dev/kinko/internal/logical"
)

const (
	ocspContentType = "application/ocsp-response"
	// maxOCSPRequest bounds a request (a simple one is under 100 bytes).
	maxOCSPRequest = 2048
	// RawBodyKey is the request data key under which the HTTP layer hands
	// a POSTed application/ocsp-request body ([]byte) to the engine.
	RawBodyKey = logical.HTTPRawBodyKey
)

func ocspError(body []byte, status int) *logical.Response {
	return &logical.Response{Raw: body, RawContentType: ocspContentType, RawStatus: status}
}

func (b *backend) pathOCSPGet() *logical.Path {
	return &logical.Path{
		Pattern:         `ocsp/(?P<req>.+)`,
		Fields:          map[string]*logical.FieldSchema{"req": {Type: logical.TypeString, Description: "Base64 DER OCSP request."}},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.ocspHandler},
		HelpSynopsis:    "OCSP responder, GET form (RFC 6960 appendix A).",
		HelpDescription: "The path holds the base64 (standard or URL-safe) DER request. Unauthenticated.",
	}
}

func (b *backend) pathOCSPPost() *logical.Path {
	return &logical.Path{
		Pattern: `ocsp`,
		Fields: map[string]*logical.FieldSchema{
			RawBodyKey: {Type: logical.TypeRaw, Description: "The DER request (Content-Type: application/ocsp-request)."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.ocspHandler},
		HelpSynopsis:    "OCSP responder, POST form.",
		HelpDescription: "POST the DER request with Content-Type application/ocsp-request. Unauthenticated.",
	}
}

// ocspRequestBytes extracts the DER request of a GET or POST.
func ocspRequestBytes(req *logical.Request, d *logical.FieldData) ([]byte, bool) {
	if req.Operation == logical.ReadOperation {
		text, _ := d.Get("req").(string)
		if text == "" || len(text) > maxOCSPRequest*4/3+4 {
			return nil, false
		}
		return decodeBase64Loose(text)
	}
	switch v := d.Raw[RawBodyKey].(type) {
	case []byte:
		return v, len(v) > 0 && len(v) <= maxOCSPRequest
	case string: // a JSON client sending the request base64-encoded
		if len(v) > maxOCSPRequest*4/3+4 {
			return nil, false
		}
		return decodeBase64Loose(v)
	}
	return nil, false
}

func decodeBase64Loose(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b, true
		}
	}
	return nil, false
}

func (b *backend) ocspHandler(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	der, ok := ocspRequestBytes(req, d)
	if !ok {
		return ocspError(ocsp.MalformedRequestErrorResponse, http.StatusBadRequest), nil
	}
	return b.ocspRespond(ctx, req.Storage, der), nil
}

// ocspRespond answers one DER request. Failures are OCSP error responses
// (malformed, unauthorized, internal error), never JSON.
func (b *backend) ocspRespond(ctx context.Context, s logical.Storage, der []byte) *logical.Response {
	r, err := ocsp.ParseRequest(der)
	if err != nil || !r.HashAlgorithm.Available() {
		return ocspError(ocsp.MalformedRequestErrorResponse, http.StatusBadRequest)
	}
	cfg, err := loadCRLConfig(ctx, s)
	if err != nil {
		return ocspError(ocsp.InternalErrorErrorResponse, http.StatusInternalServerError)
	}
	if cfg.OCSPDisable {
		return ocspError(ocsp.UnauthorizedErrorResponse, http.StatusUnauthorized)
	}
	tmpl := ocsp.Response{SerialNumber: r.SerialNumber, Status: ocsp.Unknown, IssuerHash: r.HashAlgorithm}
	pi, err := b.matchOCSPIssuer(ctx, s, r)
	if err != nil {
		return ocspError(ocsp.InternalErrorErrorResponse, http.StatusInternalServerError)
	}
	if pi != nil {
		rev, err := loadRevoked(ctx, s, serialKey(r.SerialNumber))
		if err != nil {
			return ocspError(ocsp.InternalErrorErrorResponse, http.StatusInternalServerError)
		}
		tmpl.Status = ocsp.Good
		if rev != nil && (rev.IssuerID == "" || rev.IssuerID == pi.entry.ID) {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, rev.RevocationTime, ocsp.Unspecified
		}
	} else if pi, err = b.defaultIssuer(ctx, s); err != nil || pi == nil || !ocspCanSign(pi) {
		return ocspError(ocsp.UnauthorizedErrorResponse, http.StatusUnauthorized)
	}
	body, err := b.ocspSign(pi, &tmpl, cfg.OCSPExpiry)
	if err != nil {
		return ocspError(ocsp.InternalErrorErrorResponse, http.StatusInternalServerError)
	}
	return &logical.Response{Raw: body, RawContentType: ocspContentType, RawStatus: http.StatusOK}
}

// ocspReuse is how long a signed response is served again for the same
// question and answer (RFC 5019 allows pre-produced responses).
const ocspReuse = time.Minute

// ocspKey identifies a signed answer: who answers what about whom.
type ocspKey struct {
	issuerID  string
	serial    string
	hash      crypto.Hash
	status    int
	revokedAt int64
	expiry    time.Duration
}

type ocspSigned struct {
	body []byte
	made time.Time
}

// ocspCache keeps recently signed responses; a change of status changes
// the key, so a revocation is answered at once.
type ocspCache struct {
	mu sync.Mutex
	m  map[ocspKey]ocspSigned
}

const ocspCacheMax = 8192

// ocspSign signs the response of tmpl with pi, or reuses one signed for
// the same answer less than ocspReuse ago.
func (b *backend) ocspSign(pi *parsedIssuer, tmpl *ocsp.Response, expiry time.Duration) ([]byte, error) {
	now := b.now().UTC().Truncate(time.Second)
	key := ocspKey{pi.entry.ID, tmpl.SerialNumber.String(), tmpl.IssuerHash, tmpl.Status, tmpl.RevokedAt.Unix(), expiry}
	c := &b.ocsp
	c.mu.Lock()
	hit, ok := c.m[key]
	c.mu.Unlock()
	if ok && !now.Before(hit.made) && now.Sub(hit.made) < ocspReuse {
		return hit.body, nil
	}
	tmpl.ThisUpdate = now
	if expiry > 0 {
		tmpl.NextUpdate = now.Add(expiry)
	}
	body, err := ocsp.CreateResponse(pi.cert, pi.cert, *tmpl, pi.signer)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= ocspCacheMax {
		c.m = make(map[ocspKey]ocspSigned)
	}
	c.m[key] = ocspSigned{body: body, made: now}
	c.mu.Unlock()
	return body, nil
}

// ocspCanSign reports whether an issuer can sign OCSP responses with
// x/crypto/ocsp (RSA or ECDSA keys held by the mount).
func ocspCanSign(pi *parsedIssuer) bool {
	if pi.signer == nil {
		return false
	}
	switch pi.signer.Public().(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return true
	}
	return false
}

// matchOCSPIssuer finds the issuer whose name and key hashes the request
// carries, among those that can sign: the default issuer first (one
// read), then all.
func (b *backend) matchOCSPIssuer(ctx context.Context, s logical.Storage, r *ocsp.Request) (*parsedIssuer, error) {
	def, err := b.defaultIssuer(ctx, s)
	if err != nil {
		return nil, err
	}
	if def != nil && ocspMatches(def, r) {
		return def, nil
	}
	all, err := b.listIssuers(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, pi := range all {
		if ocspMatches(pi, r) {
			return pi, nil
		}
	}
	return nil, nil
}

func ocspMatches(pi *parsedIssuer, r *ocsp.Request) bool {
	if !ocspCanSign(pi) {
		return false
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(pi.cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	h := r.HashAlgorithm.New()
	h.Write(spki.PublicKey.RightAlign())
	keyHash := h.Sum(nil)
	h.Reset()
	h.Write(pi.cert.RawSubject)
	return bytes.Equal(keyHash, r.IssuerKeyHash) && bytes.Equal(h.Sum(nil), r.IssuerNameHash)
}
