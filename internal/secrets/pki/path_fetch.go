package pki

import (
	"context"
	"encoding/pem"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Content types of raw answers, as Vault sends them.
const (
	ctCert      = "application/pkix-cert"
	ctCertChain = "application/pem-certificate-chain"
	ctCRL       = "application/pkix-crl"
	ctPEMFile   = "application/x-pem-file"
)

// rawResponse answers with a non-JSON body; an empty body is 204, as
// Vault answers the raw paths of a mount without a CA.
func rawResponse(body []byte, contentType string) *logical.Response {
	if len(body) == 0 {
		return &logical.Response{Raw: []byte{}, RawContentType: contentType, RawStatus: http.StatusNoContent}
	}
	return &logical.Response{Raw: body, RawContentType: contentType, RawStatus: http.StatusOK}
}

func readOnly(pattern, syn string, h logical.OperationFunc) *logical.Path {
	return &logical.Path{
		Pattern:         pattern,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ReadOperation: h},
		HelpSynopsis:    syn,
		HelpDescription: syn + " Unauthenticated.",
	}
}

func (b *backend) pathFetchCA() *logical.Path {
	return readOnly(`ca(/pem)?`, "The default issuer's certificate: DER at ca, PEM at ca/pem.", b.fetchCA)
}

func (b *backend) fetchCA(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	pi, err := b.defaultIssuer(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if pi == nil {
		return rawResponse(nil, ctCert), nil
	}
	if strings.HasSuffix(req.Path, "/pem") {
		return rawResponse([]byte(pemCert(pi.cert.Raw)), ctCertChain), nil
	}
	return rawResponse(pi.cert.Raw, ctCert), nil
}

func (b *backend) pathFetchCAChain() *logical.Path {
	return readOnly(`(cert/)?ca_chain`, "The default issuer's chain in PEM: raw at ca_chain, JSON at cert/ca_chain.", b.fetchCAChain)
}

func (b *backend) fetchCAChain(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	pi, err := b.defaultIssuer(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	var text string
	if pi != nil {
		chain, err := b.issuerChain(ctx, req.Storage, pi)
		if err != nil {
			return nil, err
		}
		text = strings.Join(chainPEM(chain), "\n")
	}
	if req.Path == "ca_chain" {
		return rawResponse([]byte(text), ctCert), nil
	}
	if text == "" {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"certificate": text, "ca_chain": text, "revocation_time": 0}), nil
}

func (b *backend) pathFetchCRL() *logical.Path {
	return readOnly(`crl(/pem)?`, "The default issuer's CRL: DER at crl, PEM at crl/pem.", b.fetchCRL)
}

func (b *backend) fetchCRL(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	der, err := b.currentCRL(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(req.Path, "/pem") {
		if der == nil {
			return rawResponse(nil, ctPEMFile), nil
		}
		return rawResponse(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), ctPEMFile), nil
	}
	return rawResponse(der, ctCRL), nil
}

func (b *backend) pathFetchCRLJSON() *logical.Path {
	return readOnly(`cert/crl`, "The default issuer's CRL in PEM, in a JSON response.", b.fetchCRLJSON)
}

func (b *backend) fetchCRLJSON(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	der, err := b.currentCRL(ctx, req.Storage)
	if err != nil || der == nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"certificate":     trimNL(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})),
		"revocation_time": 0,
	}), nil
}

func (b *backend) pathFetchCert() *logical.Path {
	return &logical.Path{
		Pattern: `cert/(?P<serial>[0-9A-Fa-f:-]+)(/raw(/pem)?)?`,
		Fields: map[string]*logical.FieldSchema{
			"serial": {Type: logical.TypeString, Description: "Serial, hex bytes separated by ':' or '-'; or \"ca\"."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.fetchCert},
		HelpSynopsis:    "Read a stored certificate and its revocation time.",
		HelpDescription: "cert/:serial answers JSON; cert/:serial/raw answers DER and cert/:serial/raw/pem PEM. Unauthenticated.",
	}
}

func (b *backend) fetchCert(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	serialText := d.Get("serial").(string)
	raw, rawPEM := strings.HasSuffix(req.Path, "/raw"), strings.HasSuffix(req.Path, "/raw/pem")
	var der []byte
	data := map[string]any{"revocation_time": 0, "revocation_time_rfc3339": ""}
	if serialText == "ca" {
		pi, err := b.defaultIssuer(ctx, req.Storage)
		if err != nil || pi == nil {
			return nil, err
		}
		der, data["issuer_id"] = pi.cert.Raw, pi.entry.ID
	} else {
		serial, err := parseSerial(serialText)
		if err != nil {
			return nil, err
		}
		ce, err := loadCert(ctx, req.Storage, serialKey(serial))
		if err != nil || ce == nil {
			return nil, err
		}
		der, data["issuer_id"] = ce.DER, ce.IssuerID
		if rev, err := loadRevoked(ctx, req.Storage, serialKey(serial)); err != nil {
			return nil, err
		} else if rev != nil {
			data["revocation_time"] = rev.RevocationTime.Unix()
			data["revocation_time_rfc3339"] = rev.RevocationTime.UTC().Format(time.RFC3339Nano)
		}
	}
	switch {
	case rawPEM:
		return rawResponse([]byte(pemCert(der)+"\n"), ctCertChain), nil
	case raw:
		return rawResponse(der, ctCert), nil
	}
	data["certificate"] = pemCert(der)
	return logical.DataResponse(data), nil
}

func (b *backend) pathListCerts() *logical.Path {
	return &logical.Path{
		Pattern:         `certs/?`,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.listCerts},
		HelpSynopsis:    "List the serials of stored certificates.",
		HelpDescription: "key_info gives each certificate's common_name and not_after (RFC 3339), so expiry is visible in the listing.",
	}
}

// certInfo is one stored certificate as listings show it.
type certInfo struct {
	serial string
	entry  *certEntry
}

// scanCerts loads every stored certificate, sorted by serial.
func scanCerts(ctx context.Context, s logical.Storage) ([]certInfo, error) {
	keys, err := s.List(ctx, certPrefix)
	if err != nil {
		return nil, err
	}
	sort.Strings(keys)
	out := make([]certInfo, 0, len(keys))
	for _, k := range keys {
		e, err := loadCert(ctx, s, k)
		if err != nil {
			return nil, err
		}
		if e != nil {
			out = append(out, certInfo{serial: keyToSerial(k), entry: e})
		}
	}
	return out, nil
}

func (ci certInfo) info() map[string]any {
	return map[string]any{
		"common_name": ci.entry.CommonName,
		"not_after":   time.Unix(ci.entry.NotAfter, 0).UTC().Format(time.RFC3339),
		"issuer_id":   ci.entry.IssuerID,
	}
}

func (b *backend) listCerts(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	certs, err := scanCerts(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(certs))
	info := make(map[string]any, len(certs))
	for i, c := range certs {
		keys[i] = c.serial
		info[c.serial] = c.info()
	}
	resp := logical.ListResponse(keys)
	resp.Data["key_info"] = info
	return resp, nil
}
