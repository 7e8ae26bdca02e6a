package transit

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"hash"

	"github.com/kinko-dev/kinko/internal/logical"
)

// hmacHashes maps the algorithm names of hmac and verify to hashes.
var hmacHashes = map[string]func() hash.Hash{
	"sha1":     sha1.New,
	"sha2-224": sha256.New224,
	"sha2-256": sha256.New,
	"sha2-384": sha512.New384,
	"sha2-512": sha512.New,
	"sha3-224": func() hash.Hash { return sha3.New224() },
	"sha3-256": func() hash.Hash { return sha3.New256() },
	"sha3-384": func() hash.Hash { return sha3.New384() },
	"sha3-512": func() hash.Hash { return sha3.New512() },
}

func (b *backend) pathHMAC() *logical.Path {
	return &logical.Path{
		Pattern: `hmac/` + logical.GenericNameRegex("name") + optionalParam("urlalgorithm"),
		Fields: map[string]*logical.FieldSchema{
			"name":  nameField(),
			"input": {Type: logical.TypeString, Description: "Base64 input data."},
			"algorithm": {Type: logical.TypeString, Default: "sha2-256",
				Description: "Hash: sha2-224, sha2-256 (default), sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512."},
			"urlalgorithm": {Type: logical.TypeString, Description: "Hash algorithm given in the path."},
			"key_version":  {Type: logical.TypeInt, Description: "Key version whose HMAC key to use (0: latest)."},
			"batch_input":  {Type: logical.TypeRaw, Description: "List of items, each with input and an optional reference."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.hmacWrite},
		HelpSynopsis:    "HMAC input data with a named key's HMAC key.",
		HelpDescription: "Every key version has its own HMAC key; the result is kinko:vN:<base64>. verify/:name checks it.",
	}
}

// hmacResult is one element of an hmac or HMAC verify's batch_results.
type hmacResult struct {
	HMAC      string `json:"hmac,omitempty"`
	Valid     bool   `json:"valid,omitempty"`
	Error     string `json:"error,omitempty"`
	Reference string `json:"reference"`
}

// hmacAlgorithm returns the hash the request names (path, then body).
func hmacAlgorithm(d *logical.FieldData, fields ...string) (func() hash.Hash, error) {
	name := ""
	for _, f := range fields {
		if name = str(d, f); name != "" {
			break
		}
	}
	if name == "" {
		name = "sha2-256"
	}
	h, ok := hmacHashes[name]
	if !ok {
		return nil, logical.InvalidRequest("unsupported algorithm %q", name)
	}
	return h, nil
}

func (b *backend) hmacWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	h, err := hmacAlgorithm(d, "urlalgorithm", "algorithm")
	if err != nil {
		return nil, err
	}
	items, batch, err := requestItems(d, "input", "reference")
	if err != nil {
		return nil, err
	}
	if !batch && !items[0].has("input") {
		return nil, logical.InvalidRequest("missing input for HMAC")
	}
	p, err := b.keys.get(ctx, req.Storage, str(d, "name"))
	if err != nil || p == nil {
		return nil, orNotFound(err)
	}
	v, ver, err := p.hmacVersion(integer(d, "key_version"))
	if err != nil {
		return nil, err
	}
	results := make([]hmacResult, len(items))
	for i, it := range items {
		results[i].Reference = it.get("reference")
		if !it.has("input") {
			results[i].Error = "missing input for HMAC"
			continue
		}
		input, err := decodeB64(it.get("input"), "input")
		if err != nil {
			results[i].Error, _ = logical.UserMessage(err)
			continue
		}
		m := hmac.New(h, p.hmacKey(v))
		m.Write(input)
		results[i].HMAC = versionedB64(ver, m.Sum(nil), base64.StdEncoding)
	}
	if batch {
		return logical.DataResponse(map[string]any{"batch_results": results}), nil
	}
	if results[0].Error != "" {
		return nil, logical.InvalidRequest("%s", results[0].Error)
	}
	return logical.DataResponse(map[string]any{"hmac": results[0].HMAC}), nil
}

// hmacVersion resolves the version whose HMAC key makes an HMAC.
func (p *keyPolicy) hmacVersion(ver int) (*keyVersion, int, error) {
	switch {
	case ver == 0:
		ver = p.LatestVersion
	case ver < 0:
		return nil, 0, logical.InvalidRequest("key version does not exist (cannot be negative)")
	case ver > p.LatestVersion:
		return nil, 0, logical.InvalidRequest("key version does not exist; latest key version is %d", p.LatestVersion)
	case p.MinEncryptionVersion > 0 && ver < p.MinEncryptionVersion:
		return nil, 0, logical.InvalidRequest("cannot generate HMAC: version is too old (disallowed by policy)")
	}
	v := p.Versions[ver]
	if v == nil {
		return nil, 0, logical.InvalidRequest("key version %d is no longer available", ver)
	}
	return v, ver, nil
}

// hmacVerify answers a verify whose items carry HMACs.
func (b *backend) hmacVerify(ctx context.Context, req *logical.Request, d *logical.FieldData, items []batchItem, batch bool) (*logical.Response, error) {
	h, err := hmacAlgorithm(d, "urlalgorithm", "hash_algorithm", "algorithm")
	if err != nil {
		return nil, logical.InvalidRequest("invalid hash algorithm: %v", err)
	}
	p, err := b.keys.get(ctx, req.Storage, str(d, "name"))
	if err != nil || p == nil {
		return nil, orNotFound(err)
	}
	results := make([]verifyResult, len(items))
	for i, it := range items {
		results[i].Reference = it.get("reference")
		ok, err := p.verifyHMAC(h, it)
		if err != nil {
			results[i].Error, _ = logical.UserMessage(err)
			continue
		}
		results[i].Valid = ok
	}
	return verifyResponse(results, batch)
}

// verifyHMAC checks one item's versioned HMAC in constant time.
func (p *keyPolicy) verifyHMAC(h func() hash.Hash, it batchItem) (bool, error) {
	input, err := decodeB64(it.get("input"), "input")
	if err != nil {
		return false, err
	}
	ver, payload, err := parseVersioned(it.get("hmac"), "HMAC")
	if err != nil {
		return false, err
	}
	want, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return false, logical.InvalidRequest("unable to decode verification HMAC as base64: %v", err)
	}
	switch {
	case ver > p.LatestVersion:
		return false, logical.InvalidRequest("invalid HMAC: version is too new")
	case ver < p.MinDecryptionVersion:
		return false, logical.InvalidRequest("cannot verify HMAC: version is too old (disallowed by policy)")
	}
	v := p.Versions[ver]
	if v == nil {
		return false, logical.InvalidRequest("invalid HMAC: key version %d is no longer available", ver)
	}
	m := hmac.New(h, p.hmacKey(v))
	m.Write(input)
	return hmac.Equal(m.Sum(nil), want), nil
}
