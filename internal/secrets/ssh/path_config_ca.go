package ssh

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/logical"
)

// caKey is the storage key of the CA key pair.
const caKey = "config/ca"

// Bounds on generated RSA keys: below 2048 bits is weak, above 8192 only
// burns CPU.
const (
	minRSABits     = 2048
	maxRSABits     = 8192
	defaultRSABits = 4096
)

// maxKeyText bounds any key sent to the engine, before it is parsed.
const maxKeyText = 64 << 10

// caEntry is the stored CA: the public key as an authorized_keys line
// (with its trailing newline, as Vault returns it) and the private key as
// OpenSSH PEM.
type caEntry struct {
	PublicKey  string `json:"public_key"`
	PrivateKey string `json:"private_key"`
}

var (
	errNoCA         = logical.InvalidRequest("keys haven't been configured yet")
	errCAConfigured = logical.InvalidRequest("keys are already configured; delete them before reconfiguring")
)

func (b *Backend) pathConfigCA() *logical.Path {
	return &logical.Path{
		Pattern: `config/ca`,
		Fields: map[string]*logical.FieldSchema{
			"private_key": {Type: logical.TypeString, Description: "Private half of the CA key pair to import (OpenSSH, PKCS#1, PKCS#8 or SEC 1 PEM)."},
			"public_key":  {Type: logical.TypeString, Description: "Public half of the CA key pair to import (authorized_keys format)."},
			"generate_signing_key": {Type: logical.TypeBool, Default: true,
				Description: "Generate the CA key pair inside kinko instead of importing private_key and public_key."},
			"key_type": {Type: logical.TypeString, Default: ssh.KeyAlgoED25519,
				Description: "Type of a generated key: ssh-ed25519 (default), ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, or ed25519, rsa, ec."},
			"key_bits": {Type: logical.TypeInt,
				Description: "Size of a generated ssh-rsa key (default 4096, 2048 to 8192), or the curve of key_type=ec (256, 384 or 521)."},
		},
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.ReadOperation:   b.configCARead,
			logical.UpdateOperation: b.configCAWrite,
			logical.DeleteOperation: b.configCADelete,
		},
		HelpSynopsis: "Set, read or delete the CA key pair that signs certificates.",
		HelpDescription: "POST with generate_signing_key=true (the default when no key is sent) generates a key pair " +
			"and returns its public_key; POST with private_key and public_key imports one. The private key can never " +
			"be read back. A configured CA must be deleted before another is set.",
	}
}

func (b *Backend) pathPublicKey() *logical.Path {
	return &logical.Path{
		Pattern:         `public_key`,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.publicKeyRead},
		HelpSynopsis:    "The CA public key as plain text; needs no token.",
		HelpDescription: "Returns the CA public key in authorized_keys format with content type text/plain, for sshd's TrustedUserCAKeys or a known_hosts @cert-authority line.",
	}
}

// loadCA reads the CA; nil when none is configured.
func loadCA(ctx context.Context, s logical.Storage) (*caEntry, error) {
	var ca caEntry
	found, err := logical.GetJSON(ctx, s, caKey, &ca)
	if err != nil || !found {
		return nil, err
	}
	return &ca, nil
}

func (b *Backend) configCARead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	ca, err := loadCA(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if ca == nil {
		return nil, errNoCA
	}
	return logical.DataResponse(map[string]any{"public_key": ca.PublicKey}), nil
}

func (b *Backend) publicKeyRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	ca, err := loadCA(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if ca == nil {
		return nil, logical.Errorf(logical.ErrNotFound, "no CA key is configured at this mount")
	}
	return &logical.Response{Raw: []byte(ca.PublicKey), RawContentType: "text/plain"}, nil
}

func (b *Backend) configCADelete(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	b.configMu.Lock()
	defer b.configMu.Unlock()
	return nil, req.Storage.Delete(ctx, caKey)
}

// configCAWrite follows Vault: generate_signing_key defaults to true unless
// both halves are sent; sending one half, or halves with
// generate_signing_key=true, is an error.
func (b *Backend) configCAWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	pub, _ := d.Get("public_key").(string)
	priv, _ := d.Get("private_key").(string)
	gen, genSent, err := d.GetOk("generate_signing_key")
	if err != nil {
		return nil, err
	}
	generate := pub == "" && priv == ""
	switch {
	case genSent && gen.(bool):
		if !generate {
			return nil, logical.InvalidRequest("public_key and private_key must not be set when generate_signing_key is set to true")
		}
	case genSent || !generate:
		if pub == "" || priv == "" {
			return nil, logical.InvalidRequest("both public_key and private_key must be set to import a CA key pair (or neither, to generate one)")
		}
		generate = false
	}
	// Refuse early, before spending CPU on a key; storeCA checks again
	// under the lock.
	if existing, err := loadCA(ctx, req.Storage); err != nil || existing != nil {
		return nil, errOr(err, errCAConfigured)
	}
	var ca *caEntry
	if generate {
		keyType, _ := d.Get("key_type").(string)
		if keyType == "" {
			keyType = ssh.KeyAlgoED25519
		}
		bits, _ := d.Get("key_bits").(int)
		ca, err = generateCA(keyType, bits)
	} else {
		ca, err = importCA(priv, pub)
	}
	if err != nil {
		return nil, err
	}
	if err := b.storeCA(ctx, req.Storage, ca); err != nil {
		return nil, err
	}
	if !generate {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"public_key": ca.PublicKey}), nil
}

// errOr returns err if set, else fallback.
func errOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// storeCA writes ca unless a CA is already configured.
func (b *Backend) storeCA(ctx context.Context, s logical.Storage, ca *caEntry) error {
	b.configMu.Lock()
	defer b.configMu.Unlock()
	existing, err := loadCA(ctx, s)
	if err != nil {
		return err
	}
	if existing != nil {
		return errCAConfigured
	}
	return logical.PutJSON(ctx, s, caKey, ca)
}

// generateCA makes a CA key pair of the given type.
func generateCA(keyType string, bits int) (*caEntry, error) {
	key, err := generateKey(keyType, bits)
	if err != nil {
		return nil, err
	}
	return newCAEntry(key)
}

// generateKey makes a private key of an OpenSSH key type or algorithm
// name, from crypto/rand.
func generateKey(keyType string, bits int) (crypto.Signer, error) {
	switch keyType {
	case ssh.KeyAlgoED25519, "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case ssh.KeyAlgoRSA, "rsa":
		if bits == 0 {
			bits = defaultRSABits
		}
		if bits < minRSABits || bits > maxRSABits {
			return nil, logical.InvalidRequest("key_bits for an RSA key must be between %d and %d, got %d", minRSABits, maxRSABits, bits)
		}
		return rsa.GenerateKey(rand.Reader, bits)
	case ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521, "ec", "ecdsa":
		curve, err := ecCurve(keyType, bits)
		if err != nil {
			return nil, err
		}
		return ecdsa.GenerateKey(curve, rand.Reader)
	}
	return nil, logical.InvalidRequest("unknown key_type %q: use ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ed25519, rsa or ec", keyType)
}

func ecCurve(keyType string, bits int) (elliptic.Curve, error) {
	switch keyType {
	case ssh.KeyAlgoECDSA256:
		return elliptic.P256(), nil
	case ssh.KeyAlgoECDSA384:
		return elliptic.P384(), nil
	case ssh.KeyAlgoECDSA521:
		return elliptic.P521(), nil
	}
	switch bits {
	case 0, 256:
		return elliptic.P256(), nil
	case 384:
		return elliptic.P384(), nil
	case 521:
		return elliptic.P521(), nil
	}
	return nil, logical.InvalidRequest("key_bits for an EC key must be 256, 384 or 521, got %d", bits)
}

// newCAEntry renders a private key in its stored form.
func newCAEntry(key crypto.Signer) (*caEntry, error) {
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("ssh: public key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, fmt.Errorf("ssh: marshal CA key: %w", err)
	}
	return &caEntry{PublicKey: string(ssh.MarshalAuthorizedKey(pub)), PrivateKey: string(pem.EncodeToMemory(block))}, nil
}

// importCA parses a sent key pair and checks that its halves match. Error
// messages name what is wrong, never the key.
func importCA(privText, pubText string) (*caEntry, error) {
	if len(privText) > maxKeyText || len(pubText) > maxKeyText {
		return nil, logical.InvalidRequest("private_key and public_key must each be at most %d bytes", maxKeyText)
	}
	raw, err := ssh.ParseRawPrivateKey([]byte(privText))
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, logical.InvalidRequest("private_key is protected by a passphrase; send it decrypted")
	case err != nil:
		return nil, logical.InvalidRequest("unable to parse private_key as an SSH private key")
	}
	key, ok := raw.(crypto.Signer)
	if !ok {
		return nil, logical.InvalidRequest("private_key is of an unsupported type")
	}
	if ed, isPtr := raw.(*ed25519.PrivateKey); isPtr {
		key = *ed
	}
	if err := checkCAKey(key.Public()); err != nil {
		return nil, err
	}
	pub, err := parsePublicKey(pubText)
	if err != nil {
		return nil, logical.InvalidRequest("unable to parse public_key as an SSH public key: %v", err)
	}
	ca, err := newCAEntry(key)
	if err != nil {
		return nil, err
	}
	derived, _, _, _, err := ssh.ParseAuthorizedKey([]byte(ca.PublicKey))
	if err != nil || !bytes.Equal(derived.Marshal(), pub.Marshal()) {
		return nil, logical.InvalidRequest("public_key does not match private_key")
	}
	return ca, nil
}

// checkCAKey refuses CA keys OpenSSH would not trust or that are weak.
func checkCAKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return logical.InvalidRequest("an RSA CA key must have at least %d bits, this one has %d", minRSABits, k.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() && k.Curve != elliptic.P521() {
			return logical.InvalidRequest("an ECDSA CA key must use NIST P-256, P-384 or P-521")
		}
	case ed25519.PublicKey:
	default:
		return logical.InvalidRequest("the CA key must be RSA, ECDSA or Ed25519")
	}
	return nil
}
