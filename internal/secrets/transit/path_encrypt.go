package transit

import (
	"context"
	"encoding/base64"

	"github.com/kinko-dev/kinko/internal/logical"
)

// cryptFields are the fields shared by encrypt, decrypt and rewrap.
func cryptFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"name":            nameField(),
		"context":         {Type: logical.TypeString, Description: "Base64 context for key derivation; required by derived keys."},
		"associated_data": {Type: logical.TypeString, Description: "Base64 data authenticated along with AEAD ciphertexts (not encrypted)."},
		"nonce":           {Type: logical.TypeString, Description: "Ignored: nonces are random, or derived for convergent keys."},
		"batch_input": {Type: logical.TypeRaw,
			Description: "List of items, each with the fields of a single request and an optional reference, processed in order."},
		"partial_failure_response_code": {Type: logical.TypeInt,
			Description: "With batch_input: a 2xx code makes a batch where some items failed answer 200 instead of 400."},
	}
}

func (b *backend) pathEncrypt() *logical.Path {
	f := cryptFields()
	f["plaintext"] = &logical.FieldSchema{Type: logical.TypeString, Description: "Base64 plaintext to encrypt."}
	f["key_version"] = &logical.FieldSchema{Type: logical.TypeInt, Description: "Key version to encrypt with (0: latest)."}
	f["type"] = &logical.FieldSchema{Type: logical.TypeString, Default: string(typeAES256),
		Description: "Type of the key to create when it does not exist (needs the create capability)."}
	f["convergent_encryption"] = &logical.FieldSchema{Type: logical.TypeBool,
		Description: "Whether a key created by this request uses convergent encryption (requires a context)."}
	return &logical.Path{
		Pattern: `encrypt/` + logical.GenericNameRegex("name"),
		Fields:  f,
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.CreateOperation: b.encryptWrite,
			logical.UpdateOperation: b.encryptWrite,
		},
		ExistenceCheck:  b.keyExists,
		HelpSynopsis:    "Encrypt base64 plaintext, or a batch of them, with a named key.",
		HelpDescription: "A caller with the create capability creates a missing key (derived when a context is sent).",
	}
}

func (b *backend) pathDecrypt() *logical.Path {
	f := cryptFields()
	f["ciphertext"] = &logical.FieldSchema{Type: logical.TypeString, Description: "Ciphertext to decrypt (kinko:vN:... or vault:vN:...)."}
	return &logical.Path{
		Pattern:         `decrypt/` + logical.GenericNameRegex("name"),
		Fields:          f,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.decryptWrite},
		HelpSynopsis:    "Decrypt a ciphertext, or a batch of them, with a named key.",
		HelpDescription: "Returns the base64 plaintext.",
	}
}

func (b *backend) pathRewrap() *logical.Path {
	f := cryptFields()
	f["ciphertext"] = &logical.FieldSchema{Type: logical.TypeString, Description: "Ciphertext to re-encrypt."}
	f["key_version"] = &logical.FieldSchema{Type: logical.TypeInt, Description: "Key version to re-encrypt with (0: latest)."}
	return &logical.Path{
		Pattern:         `rewrap/` + logical.GenericNameRegex("name"),
		Fields:          f,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.rewrapWrite},
		HelpSynopsis:    "Re-encrypt ciphertexts with the latest (or a given) key version without revealing the plaintext.",
		HelpDescription: "Use it after a rotation to move data to the new version.",
	}
}

// keyExists is the existence check of encrypt: a missing key makes the
// write a create, which upserts the key.
func (b *backend) keyExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	p, err := b.keys.get(ctx, req.Storage, str(d, "name"))
	return p != nil, err
}

// encryptResult is one element of an encrypt's batch_results.
type encryptResult struct {
	Ciphertext string `json:"ciphertext,omitempty"`
	KeyVersion int    `json:"key_version,omitempty"`
	Error      string `json:"error,omitempty"`
	Reference  string `json:"reference"`
}

func (b *backend) encryptWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	items, batch, err := requestItems(d, "plaintext", "context", "associated_data", "nonce", "reference")
	if err != nil {
		return nil, err
	}
	if !batch && !items[0].has("plaintext") {
		return nil, logical.InvalidRequest("missing plaintext to encrypt")
	}
	derived, err := consistentContext(items)
	if err != nil {
		return nil, err
	}
	p, warning, err := b.encryptionKey(ctx, req, d, derived)
	if err != nil {
		return nil, err
	}
	results := make([]encryptResult, len(items))
	var failed failures
	for i, it := range items {
		results[i].Reference = it.get("reference")
		ct, ver, err := encryptItem(p, it)
		if err != nil {
			msg, internal := itemError(err)
			if internal != nil {
				return nil, internal
			}
			results[i].Error = msg
			failed.add(i, msg)
			continue
		}
		results[i].Ciphertext, results[i].KeyVersion = ct, ver
	}
	resp := &logical.Response{}
	if warning != "" {
		resp.AddWarning(warning)
	}
	if anyNonce(items) {
		resp.AddWarning("the nonce parameter was ignored: nonces are random, or derived for convergent keys")
	}
	if !batch {
		if results[0].Error != "" {
			return nil, logical.InvalidRequest("%s", results[0].Error)
		}
		resp.Data = map[string]any{"ciphertext": results[0].Ciphertext, "key_version": results[0].KeyVersion}
		return resp, nil
	}
	resp.Data = map[string]any{"batch_results": results}
	return failed.outcome(d, resp, len(items), failed.n < len(items))
}

func encryptItem(p *keyPolicy, it batchItem) (string, int, error) {
	plaintext, err := decodeB64(it.get("plaintext"), "plaintext")
	if err != nil {
		return "", 0, err
	}
	context, err := decodeB64(it.get("context"), "context")
	if err != nil {
		return "", 0, err
	}
	aad, err := decodeB64(it.get("associated_data"), "associated_data")
	if err != nil {
		return "", 0, err
	}
	return p.encrypt(it.keyVersion, context, aad, plaintext)
}

func anyNonce(items []batchItem) bool {
	for _, it := range items {
		if it.get("nonce") != "" {
			return true
		}
	}
	return false
}

// encryptionKey returns the key of an encrypt, creating it when the
// request is a create (the key does not exist and the caller may create)
// and upserts are not disabled.
func (b *backend) encryptionKey(ctx context.Context, req *logical.Request, d *logical.FieldData, derived bool) (*keyPolicy, string, error) {
	name := str(d, "name")
	if req.Operation != logical.CreateOperation {
		p, err := b.keys.get(ctx, req.Storage, name)
		if err == nil && p == nil {
			err = errKeyNotFound
		}
		return p, "", err
	}
	cfg, err := loadKeysConfig(ctx, req.Storage)
	if err != nil {
		return nil, "", err
	}
	if cfg.DisableUpsert {
		req.Operation = logical.UpdateOperation
		return b.encryptionKey(ctx, req, d, derived)
	}
	t, ok := parseKeyType(str(d, "type"))
	switch {
	case !ok:
		return nil, "", logical.InvalidRequest("unknown key type %v", str(d, "type"))
	case !t.symmetric():
		return nil, "", logical.InvalidRequest("key type %v not supported for this operation", t)
	}
	s := &keySettings{typ: t, derived: derived, convergent: boolean(d, "convergent_encryption")}
	if s.convergent && !derived {
		return nil, "", logical.InvalidRequest("convergent encryption requires derivation to be enabled, so context is required")
	}
	p, created, err := b.keys.upsert(ctx, req.Storage, name, func() (*keyPolicy, error) {
		p := s.policy(name)
		return p, p.rotate(b.now())
	})
	if err != nil || created {
		return p, "", err
	}
	return p, "Attempted creation of the key during the encrypt operation, but it was created beforehand", nil
}

// decryptResult is one element of a decrypt's batch_results.
type decryptResult struct {
	Plaintext string `json:"plaintext"`
	Error     string `json:"error,omitempty"`
	Reference string `json:"reference"`
}

func (b *backend) decryptWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	items, batch, p, err := b.ciphertextItems(ctx, req, d)
	if err != nil {
		return nil, err
	}
	results := make([]decryptResult, len(items))
	var failed failures
	for i, it := range items {
		results[i].Reference = it.get("reference")
		plain, err := decryptItem(p, it)
		if err != nil {
			msg, internal := itemError(err)
			if internal != nil {
				return nil, internal
			}
			results[i].Error = msg
			failed.add(i, msg)
			continue
		}
		results[i].Plaintext = base64.StdEncoding.EncodeToString(plain)
	}
	if !batch {
		if results[0].Error != "" {
			return nil, logical.InvalidRequest("%s", results[0].Error)
		}
		return logical.DataResponse(map[string]any{"plaintext": results[0].Plaintext}), nil
	}
	resp := logical.DataResponse(map[string]any{"batch_results": results})
	return failed.outcome(d, resp, len(items), failed.n < len(items))
}

func decryptItem(p *keyPolicy, it batchItem) ([]byte, error) {
	if it.get("ciphertext") == "" {
		return nil, logical.InvalidRequest("missing ciphertext to decrypt")
	}
	context, err := decodeB64(it.get("context"), "context")
	if err != nil {
		return nil, err
	}
	aad, err := decodeB64(it.get("associated_data"), "associated_data")
	if err != nil {
		return nil, err
	}
	return p.decrypt(context, aad, it.get("ciphertext"))
}

// ciphertextItems reads the ciphertext items of a decrypt or rewrap and
// the key they name.
func (b *backend) ciphertextItems(ctx context.Context, req *logical.Request, d *logical.FieldData) ([]batchItem, bool, *keyPolicy, error) {
	items, batch, err := requestItems(d, "ciphertext", "context", "associated_data", "nonce", "reference")
	if err != nil {
		return nil, false, nil, err
	}
	if !batch && items[0].get("ciphertext") == "" {
		return nil, false, nil, logical.InvalidRequest("missing ciphertext to decrypt")
	}
	if _, err := consistentContext(items); err != nil {
		return nil, false, nil, err
	}
	p, err := b.keys.get(ctx, req.Storage, str(d, "name"))
	if err != nil || p == nil {
		return nil, false, nil, orNotFound(err)
	}
	return items, batch, p, nil
}

// orNotFound returns err, or Vault's key-not-found error when err is nil.
func orNotFound(err error) error {
	if err != nil {
		return err
	}
	return errKeyNotFound
}

func (b *backend) rewrapWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	items, batch, p, err := b.ciphertextItems(ctx, req, d)
	if err != nil {
		return nil, err
	}
	results := make([]encryptResult, len(items))
	for i, it := range items {
		results[i].Reference = it.get("reference")
		ct, ver, err := rewrapItem(p, it)
		if err != nil {
			msg, internal := itemError(err)
			if internal != nil {
				return nil, internal
			}
			results[i].Error = msg
			continue
		}
		results[i].Ciphertext, results[i].KeyVersion = ct, ver
	}
	if !batch {
		if results[0].Error != "" {
			return nil, logical.InvalidRequest("%s", results[0].Error)
		}
		return logical.DataResponse(map[string]any{"ciphertext": results[0].Ciphertext, "key_version": results[0].KeyVersion}), nil
	}
	return logical.DataResponse(map[string]any{"batch_results": results}), nil
}

func rewrapItem(p *keyPolicy, it batchItem) (string, int, error) {
	plain, err := decryptItem(p, it)
	if err != nil {
		return "", 0, err
	}
	context, _ := decodeB64(it.get("context"), "context")
	aad, _ := decodeB64(it.get("associated_data"), "associated_data")
	return p.encrypt(it.keyVersion, context, aad, plain)
}
