package transit

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strconv"

	"github.com/kinko-dev/kinko/internal/logical"
)

// maxRandomBytes bounds random/ as Vault does (128 KiB).
const maxRandomBytes = 128 * 1024

func (b *backend) pathDatakey() *logical.Path {
	return &logical.Path{
		Pattern: `datakey/` + logical.GenericNameRegex("plaintext") + `/` + logical.GenericNameRegex("name"),
		Fields: map[string]*logical.FieldSchema{
			"name":            nameField(),
			"plaintext":       {Type: logical.TypeString, Description: "plaintext (return the key too) or wrapped (only its ciphertext)."},
			"context":         {Type: logical.TypeString, Description: "Base64 context for key derivation."},
			"nonce":           {Type: logical.TypeString, Description: "Ignored."},
			"associated_data": {Type: logical.TypeString, Description: "Base64 data authenticated with the ciphertext."},
			"bits":            {Type: logical.TypeInt, Default: 256, Description: "Size of the data key: 128, 256 (default) or 512 bits."},
			"key_version":     {Type: logical.TypeInt, Description: "Key version to encrypt the data key with (0: latest)."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.datakeyWrite},
		HelpSynopsis:    "Generate a data key encrypted with a named key.",
		HelpDescription: "datakey/plaintext returns the key and its ciphertext, datakey/wrapped only the ciphertext.",
	}
}

func (b *backend) datakeyWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	var withPlaintext bool
	switch str(d, "plaintext") {
	case "plaintext":
		withPlaintext = true
	case "wrapped":
	default:
		return nil, logical.InvalidRequest("Invalid path, must be 'plaintext' or 'wrapped'")
	}
	context, err := decodeB64(str(d, "context"), "context")
	if err != nil {
		return nil, err
	}
	aad, err := decodeB64(str(d, "associated_data"), "associated_data")
	if err != nil {
		return nil, err
	}
	bits := integer(d, "bits")
	if bits != 128 && bits != 256 && bits != 512 {
		return nil, logical.InvalidRequest("invalid bit length")
	}
	p, err := b.keys.get(ctx, req.Storage, str(d, "name"))
	if err != nil || p == nil {
		return nil, orNotFound(err)
	}
	key, err := randomBytes(bits / 8)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	ct, ver, err := p.encrypt(integer(d, "key_version"), context, aad, key)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"ciphertext": ct, "key_version": ver}
	if withPlaintext {
		data["plaintext"] = base64.StdEncoding.EncodeToString(key)
	}
	return logical.DataResponse(data), nil
}

func (b *backend) pathRandom() *logical.Path {
	return &logical.Path{
		Pattern: `random` + optionalParam("source") + optionalParam("urlbytes"),
		Fields: map[string]*logical.FieldSchema{
			"urlbytes": {Type: logical.TypeString, Description: "Number of bytes, given in the path."},
			"bytes":    {Type: logical.TypeInt, Default: 32, Description: "Number of bytes (default 32, at most 131072)."},
			"format":   {Type: logical.TypeString, Default: "base64", Description: "Encoding: base64 (default) or hex."},
			"source":   {Type: logical.TypeString, Default: "platform", Description: "platform (default) or all; both read crypto/rand."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.randomWrite},
		HelpSynopsis:    "Generate random bytes.",
		HelpDescription: "random(/:source)(/:bytes): bytes from the operating system's generator.",
	}
}

func (b *backend) randomWrite(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	n, source, err := randomParams(d)
	if err != nil {
		return nil, err
	}
	switch source {
	case "platform", "all":
	default:
		return nil, logical.InvalidRequest("unsupported entropy source %q; must be \"platform\" or \"all\"", source)
	}
	switch {
	case n < 1:
		return nil, logical.InvalidRequest("'bytes' cannot be less than 1")
	case n > maxRandomBytes:
		return nil, logical.InvalidRequest("'bytes' should be less than %d", maxRandomBytes)
	}
	enc, err := encoder(str(d, "format"))
	if err != nil {
		return nil, err
	}
	buf, err := randomBytes(n)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"random_bytes": enc(buf)}), nil
}

// randomParams reads the byte count and source of random/, which the path
// may carry as random/:bytes, random/:source or random/:source/:bytes.
func randomParams(d *logical.FieldData) (int, string, error) {
	source, _ := d.Raw["source"].(string)
	urlBytes, _ := d.Raw["urlbytes"].(string)
	count := func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, logical.InvalidRequest("error parsing url-set byte count: %q is not a number", s)
		}
		return n, nil
	}
	switch {
	case urlBytes != "":
		n, err := count(urlBytes)
		return n, source, err
	case source == "" || source == "platform" || source == "all":
		if source == "" {
			source = "platform"
		}
		return integer(d, "bytes"), source, nil
	default:
		n, err := count(source)
		return n, "platform", err
	}
}

// encoder returns the output encoding of random/ and hash/.
func encoder(format string) (func([]byte) string, error) {
	switch format {
	case "base64":
		return base64.StdEncoding.EncodeToString, nil
	case "hex":
		return hex.EncodeToString, nil
	}
	return nil, logical.InvalidRequest("unsupported encoding format %q; must be \"hex\" or \"base64\"", format)
}

func (b *backend) pathHash() *logical.Path {
	return &logical.Path{
		Pattern: `hash` + optionalParam("urlalgorithm"),
		Fields: map[string]*logical.FieldSchema{
			"input": {Type: logical.TypeString, Description: "Base64 input data."},
			"algorithm": {Type: logical.TypeString, Default: "sha2-256",
				Description: "sha2-224, sha2-256 (default), sha2-384, sha2-512, sha3-224, sha3-256, sha3-384 or sha3-512."},
			"urlalgorithm": {Type: logical.TypeString, Description: "Hash algorithm given in the path."},
			"format":       {Type: logical.TypeString, Default: "hex", Description: "Encoding: hex (default) or base64."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.hashWrite},
		HelpSynopsis:    "Hash input data.",
		HelpDescription: "Returns sum, the digest in the chosen encoding.",
	}
}

func (b *backend) hashWrite(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	raw, ok, _ := d.GetOk("input")
	if !ok {
		return nil, logical.InvalidRequest("input missing")
	}
	input, err := decodeB64(raw.(string), "input")
	if err != nil {
		return nil, err
	}
	enc, err := encoder(str(d, "format"))
	if err != nil {
		return nil, err
	}
	name := str(d, "urlalgorithm")
	if name == "" {
		name = str(d, "algorithm")
	}
	newHash, ok := hmacHashes[name]
	if !ok || name == "sha1" {
		return nil, logical.InvalidRequest("unsupported algorithm %s", name)
	}
	h := newHash()
	h.Write(input)
	return logical.DataResponse(map[string]any{"sum": enc(h.Sum(nil))}), nil
}
