package transit

import (
	"context"

	"github.com/kinko-dev/kinko/internal/logical"
)

// signFields are the fields shared by sign and verify.
func signFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"name":    nameField(),
		"input":   {Type: logical.TypeString, Description: "Base64 input data."},
		"context": {Type: logical.TypeString, Description: "Base64 context for key derivation (derived ed25519 keys)."},
		"hash_algorithm": {Type: logical.TypeString, Default: "sha2-256",
			Description: "Hash of the input: sha1, sha2-224, sha2-256, sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512, or none (prehashed pkcs1v15). Ignored by ed25519."},
		"algorithm":    {Type: logical.TypeString, Description: "Deprecated alias of hash_algorithm."},
		"urlalgorithm": {Type: logical.TypeString, Description: "Hash algorithm given in the path."},
		"prehashed":    {Type: logical.TypeBool, Description: "The input is already a hash (ECDSA and RSA keys)."},
		"signature_algorithm": {Type: logical.TypeString,
			Description: "RSA signature scheme: pss (default) or pkcs1v15."},
		"marshaling_algorithm": {Type: logical.TypeString, Default: "asn1",
			Description: "ECDSA signature encoding: asn1 (default) or jws (r||s, base64url)."},
		"salt_length": {Type: logical.TypeString, Default: "auto",
			Description: "RSA PSS salt length: auto (default), hash, or a number of bytes."},
		"batch_input": {Type: logical.TypeRaw,
			Description: "List of items (input, context, and for verify signature or hmac, optional reference)."},
	}
}

func (b *backend) pathSign() *logical.Path {
	f := signFields()
	f["key_version"] = &logical.FieldSchema{Type: logical.TypeInt, Description: "Key version to sign with (0: latest)."}
	return &logical.Path{
		Pattern:         `sign/` + logical.GenericNameRegex("name") + optionalParam("urlalgorithm"),
		Fields:          f,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.signWrite},
		HelpSynopsis:    "Sign input data with a named key.",
		HelpDescription: "Signatures are kinko:vN:<base64>; verify/:name checks them.",
	}
}

func (b *backend) pathVerify() *logical.Path {
	f := signFields()
	f["signature"] = &logical.FieldSchema{Type: logical.TypeString, Description: "Signature from sign/:name."}
	f["hmac"] = &logical.FieldSchema{Type: logical.TypeString, Description: "HMAC from hmac/:name."}
	return &logical.Path{
		Pattern:         `verify/` + logical.GenericNameRegex("name") + optionalParam("urlalgorithm"),
		Fields:          f,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.verifyWrite},
		HelpSynopsis:    "Verify a signature or an HMAC of input data.",
		HelpDescription: "Send signature or hmac (in a batch, all items the same kind); the answer is valid: true or false.",
	}
}

// signResult is one element of a sign's batch_results.
type signResult struct {
	Signature  string `json:"signature,omitempty"`
	KeyVersion int    `json:"key_version"`
	PublicKey  []byte `json:"publickey,omitempty"`
	Error      string `json:"error,omitempty"`
	Reference  string `json:"reference"`
}

func (b *backend) signWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	o, err := parseSignOptions(d)
	if err != nil {
		return nil, err
	}
	items, batch, err := requestItems(d, "input", "context", "reference")
	if err != nil {
		return nil, err
	}
	p, err := b.keys.get(ctx, req.Storage, str(d, "name"))
	if err != nil || p == nil {
		return nil, orError(err, "signing key not found")
	}
	if !p.Type.supportsSigning() {
		return nil, logical.InvalidRequest("key type %s does not support signing", p.Type)
	}
	results := make([]signResult, len(items))
	for i, it := range items {
		r := &results[i]
		r.Reference = it.get("reference")
		if batch && !it.has("input") {
			r.Error = "missing input"
			continue
		}
		sig, ver, pub, err := signItem(p, integer(d, "key_version"), it, o)
		if err != nil {
			if r.Error, err = itemError(err); err != nil {
				return nil, err
			}
			continue
		}
		r.Signature, r.KeyVersion, r.PublicKey = sig, ver, pub
	}
	if batch {
		return logical.DataResponse(map[string]any{"batch_results": results}), nil
	}
	if results[0].Error != "" {
		return nil, logical.InvalidRequest("%s", results[0].Error)
	}
	data := map[string]any{"signature": results[0].Signature, "key_version": results[0].KeyVersion}
	if results[0].PublicKey != nil {
		data["public_key"] = results[0].PublicKey
	}
	return logical.DataResponse(data), nil
}

func signItem(p *keyPolicy, ver int, it batchItem, o *signOptions) (string, int, []byte, error) {
	input, err := decodeB64(it.get("input"), "input")
	if err != nil {
		return "", 0, nil, err
	}
	context, err := decodeB64(it.get("context"), "context")
	if err != nil {
		return "", 0, nil, err
	}
	return p.sign(ver, context, input, o)
}

// orError returns err, or an invalid-request error with msg when err is nil.
func orError(err error, msg string) error {
	if err != nil {
		return err
	}
	return logical.InvalidRequest("%s", msg)
}

// verifyResult is one element of a verify's batch_results.
type verifyResult struct {
	Valid     bool   `json:"valid"`
	Error     string `json:"error,omitempty"`
	Reference string `json:"reference"`
}

func (b *backend) verifyWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	items, batch, err := requestItems(d, "input", "context", "signature", "hmac", "reference")
	if err != nil {
		return nil, err
	}
	isHMAC, err := verifyKind(items, batch)
	if err != nil {
		return nil, err
	}
	if !batch && !items[0].has("input") {
		items[0].fields["input"] = "" // a single request verifies the empty input
	}
	if isHMAC {
		return b.hmacVerify(ctx, req, d, items, batch)
	}
	o, err := parseSignOptions(d)
	if err != nil {
		return nil, err
	}
	p, err := b.keys.get(ctx, req.Storage, str(d, "name"))
	if err != nil || p == nil {
		return nil, orError(err, "signature verification key not found")
	}
	if !p.Type.supportsSigning() {
		return nil, logical.InvalidRequest("key type %s does not support verification", p.Type)
	}
	results := make([]verifyResult, len(items))
	for i, it := range items {
		results[i].Reference = it.get("reference")
		ok, err := verifyItem(p, it, o)
		if err != nil {
			if results[i].Error, err = itemError(err); err != nil {
				return nil, err
			}
			continue
		}
		results[i].Valid = ok
	}
	return verifyResponse(results, batch)
}

// verifyResponse answers a verify: batch_results, or valid (or the error)
// of the single item.
func verifyResponse(results []verifyResult, batch bool) (*logical.Response, error) {
	if batch {
		return logical.DataResponse(map[string]any{"batch_results": results}), nil
	}
	if results[0].Error != "" {
		return nil, logical.InvalidRequest("%s", results[0].Error)
	}
	return logical.DataResponse(map[string]any{"valid": results[0].Valid}), nil
}

// verifyKind tells signatures from HMACs, refusing mixed or empty input.
func verifyKind(items []batchItem, batch bool) (isHMAC bool, err error) {
	var sig, mac, missing bool
	for _, it := range items {
		hasSig, hasMAC := it.has("signature"), it.has("hmac")
		sig, mac, missing = sig || hasSig, mac || hasMAC, missing || (!hasSig && !hasMAC)
	}
	switch {
	case !batch && sig && mac:
		return false, logical.InvalidRequest("provide one of 'signature' or 'hmac'")
	case !batch && missing:
		return false, logical.InvalidRequest("neither a 'signature' nor an 'hmac' were given to verify")
	case sig && mac:
		return false, logical.InvalidRequest("elements of batch_input must all provide 'signature' or all provide 'hmac'")
	case missing && sig:
		return false, logical.InvalidRequest("some elements of batch_input are missing 'signature'")
	case missing && mac:
		return false, logical.InvalidRequest("some elements of batch_input are missing 'hmac'")
	case missing:
		return false, logical.InvalidRequest("no batch_input elements have 'signature' or 'hmac'")
	}
	return mac, nil
}

func verifyItem(p *keyPolicy, it batchItem, o *signOptions) (bool, error) {
	if !it.has("input") {
		return false, logical.InvalidRequest("missing input")
	}
	input, err := decodeB64(it.get("input"), "input")
	if err != nil {
		return false, err
	}
	context, err := decodeB64(it.get("context"), "context")
	if err != nil {
		return false, err
	}
	return p.verify(context, input, it.get("signature"), o)
}
