package cert

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// crlEntry is the stored form of one CRL: the decimal serial numbers it
// revokes (the shape Vault reads back).
type crlEntry struct {
	Serials map[string]struct{} `json:"serials"`
}

func (b *backend) pathCRLsList() *logical.Path {
	return &logical.Path{
		Pattern:         "crls/?",
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ListOperation: b.listCRLs},
		HelpSynopsis:    "List the revocation lists.",
		HelpDescription: `Lists the (lower-case) names of the stored certificate revocation lists.`,
	}
}

func (b *backend) pathCRLs() *logical.Path {
	return &logical.Path{
		Pattern: "crls/" + logical.GenericNameRegex("name"),
		Fields: map[string]*logical.FieldSchema{
			"name": {Type: logical.TypeString, Description: "Name of the CRL (case-insensitive)."},
			"crl":  {Type: logical.TypeString, Description: "The CRL, PEM or DER encoded. Its validity dates are ignored: delete it when it no longer applies."},
			"url":  {Type: logical.TypeString, Description: "Not supported: kinko does not fetch CRLs; send the crl itself."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.readCRL,
			logical.UpdateOperation: b.writeCRL,
			logical.DeleteOperation: b.deleteCRL,
		},
		HelpSynopsis: "Manage certificate revocation lists checked at login.",
		HelpDescription: `While any CRL is stored, a login is refused through every chain that holds a
certificate whose serial number a CRL revokes (matched by serial number only,
as Vault). CRLs are pushed by an operator; they are never fetched.`,
	}
}

func (b *backend) listCRLs(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	keys, err := req.Storage.List(ctx, crlPrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func readCRL(ctx context.Context, s logical.Storage, name string) (*crlEntry, error) {
	var c crlEntry
	found, err := logical.GetJSON(ctx, s, crlPrefix+name, &c)
	if err != nil {
		return nil, fmt.Errorf("cert: read crl: %w", err)
	}
	if !found {
		return nil, nil
	}
	return &c, nil
}

func (b *backend) readCRL(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := nameOf(d)
	c, err := readCRL(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, logical.InvalidRequest("no such CRL %s", name)
	}
	serials := make(map[string]any, len(c.Serials))
	for s := range c.Serials {
		serials[s] = map[string]any{}
	}
	return logical.DataResponse(map[string]any{"serials": serials, "cdp": nil}), nil
}

func (b *backend) deleteCRL(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	name := nameOf(d)
	c, err := readCRL(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, logical.InvalidRequest("no such CRL %s", name)
	}
	b.crls.drop(crlPrefix + name)
	return nil, req.Storage.Delete(ctx, crlPrefix+name)
}

func (b *backend) writeCRL(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	raw := d.Get("crl").(string)
	if raw == "" {
		if d.Get("url").(string) != "" {
			return nil, logical.InvalidRequest("url: kinko does not fetch CRLs; send the CRL itself in the crl field")
		}
		return nil, logical.InvalidRequest("one of 'crl' or 'url' must be provided")
	}
	entry, err := parseCRL([]byte(raw))
	if err != nil {
		return nil, err
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	if err := logical.PutJSON(ctx, req.Storage, crlPrefix+nameOf(d), entry); err != nil {
		return nil, fmt.Errorf("cert: write crl: %w", err)
	}
	return nil, nil
}

// parseCRL reads a PEM ("X509 CRL") or DER CRL into its revoked serials.
// The CRL's signature is not checked: it is pushed by an operator, as in
// Vault.
func parseCRL(raw []byte) (*crlEntry, error) {
	der := raw
	if block, _ := pem.Decode(raw); block != nil {
		if block.Type != "X509 CRL" {
			return nil, logical.InvalidRequest("failed to parse CRL: PEM block is %q, want \"X509 CRL\"", block.Type)
		}
		der = block.Bytes
	} else if strings.HasPrefix(strings.TrimSpace(string(raw)), "-----BEGIN") {
		return nil, logical.InvalidRequest("failed to parse CRL: malformed PEM")
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, logical.InvalidRequest("failed to parse CRL: send a PEM (-----BEGIN X509 CRL-----) or DER encoded CRL")
	}
	e := &crlEntry{Serials: make(map[string]struct{}, len(rl.RevokedCertificateEntries))}
	for _, rc := range rl.RevokedCertificateEntries {
		if rc.SerialNumber != nil {
			e.Serials[rc.SerialNumber.String()] = struct{}{}
		}
	}
	return e, nil
}

// revokedSerials returns the serial sets of every stored CRL. Each is
// decoded only when its stored bytes changed since it was cached.
func (b *backend) revokedSerials(ctx context.Context, s logical.Storage) ([]map[string]struct{}, error) {
	names, err := s.List(ctx, crlPrefix)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	out := make([]map[string]struct{}, 0, len(names))
	for _, n := range names {
		key := crlPrefix + n
		e, err := s.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue
		}
		if v, ok := b.crls.get(key, e.Value); ok {
			out = append(out, v.(map[string]struct{}))
			continue
		}
		var c crlEntry
		if err := json.Unmarshal(e.Value, &c); err != nil {
			return nil, fmt.Errorf("cert: decode crl: %w", err)
		}
		b.crls.put(key, e.Value, c.Serials)
		out = append(out, c.Serials)
	}
	return out, nil
}
