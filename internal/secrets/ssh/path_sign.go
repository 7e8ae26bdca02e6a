package ssh

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Bounds on what one sign request may ask for.
const (
	maxPrincipals   = 256
	maxPrincipalLen = 256
	maxOptions      = 64
	maxKeyIDLen     = 1024
)

// signRequest is a sign or issue request as decoded by the path's schema.
type signRequest struct {
	PublicKey       string         `json:"public_key"`
	ValidPrincipals []string       `json:"valid_principals"`
	CertType        string         `json:"cert_type"`
	KeyID           string         `json:"key_id"`
	TTL             time.Duration  `json:"ttl"`
	CriticalOptions map[string]any `json:"critical_options"`
	Extensions      map[string]any `json:"extensions"`
	KeyType         string         `json:"key_type"`
	KeyBits         int            `json:"key_bits"`
}

func signFields() map[string]*logical.FieldSchema {
	return map[string]*logical.FieldSchema{
		"role":             {Type: logical.TypeString, Description: "Name of the role to sign with."},
		"valid_principals": {Type: logical.TypeCommaStringSlice, Description: "Principals (user names, or host names for host certificates) of the certificate, comma-separated; default: the role's default_user."},
		"cert_type": {Type: logical.TypeString, Default: "user", AllowedValues: []string{"user", "host"},
			Description: `Type of certificate: "user" (default) or "host".`},
		"key_id":           {Type: logical.TypeString, Description: "Key ID of the certificate, if the role has allow_user_key_ids; default from the role's key_id_format."},
		"ttl":              {Type: logical.TypeDurationSecond, Description: "Lifetime of the certificate; at most the role's max_ttl. Default: the role's ttl."},
		"critical_options": {Type: logical.TypeMap, Description: "Critical options of the certificate; default: the role's default_critical_options."},
		"extensions":       {Type: logical.TypeMap, Description: "Extensions of the certificate; default: the role's default_extensions."},
	}
}

func (b *Backend) pathSign() *logical.Path {
	fields := signFields()
	fields["public_key"] = &logical.FieldSchema{Type: logical.TypeString, Required: true,
		Description: "The SSH public key to sign, as an authorized_keys line."}
	return &logical.Path{
		Pattern:         `sign/` + nameRegex("role"),
		Fields:          fields,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.sign},
		HelpSynopsis:    "Sign an SSH public key with the CA, as the role allows.",
		HelpDescription: "Returns signed_key, an OpenSSH certificate line to save as <key>-cert.pub, and its serial_number in hex.",
	}
}

func (b *Backend) pathIssue() *logical.Path {
	fields := signFields()
	fields["key_type"] = &logical.FieldSchema{Type: logical.TypeString, Default: "ed25519",
		Description: "Type of the key pair to generate: ed25519 (default), rsa or ec (or an OpenSSH key type name)."}
	fields["key_bits"] = &logical.FieldSchema{Type: logical.TypeInt,
		Description: "Size of an rsa key (default 4096) or curve of an ec key (default 256)."}
	return &logical.Path{
		Pattern:         `issue/` + nameRegex("role"),
		Fields:          fields,
		Operations:      map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.issue},
		HelpSynopsis:    "Generate a key pair and sign its public key, as the role allows.",
		HelpDescription: "Returns signed_key, serial_number, private_key (OpenSSH PEM, never stored) and private_key_type.",
	}
}

// decodeSign decodes a sign or issue request; ttlSent tells an explicit
// ttl from the default.
func decodeSign(d *logical.FieldData) (*signRequest, bool, error) {
	var in signRequest
	if err := d.Decode(&in); err != nil {
		return nil, false, logical.InvalidRequest("invalid request: %v", err)
	}
	_, ttlSent, err := d.GetOk("ttl")
	return &in, ttlSent && in.TTL > 0, err
}

func (b *Backend) sign(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, ttlSent, err := decodeSign(d)
	if err != nil {
		return nil, err
	}
	pub, err := parsePublicKey(in.PublicKey)
	if err != nil {
		return nil, logical.InvalidRequest("failed to parse public_key as SSH key: %v", err)
	}
	name := d.Get("role").(string)
	cert, err := b.certify(ctx, req, name, pub, in, ttlSent)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(certData(cert)), nil
}

func (b *Backend) issue(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	in, ttlSent, err := decodeSign(d)
	if err != nil {
		return nil, err
	}
	family, ok := map[string]string{"ed25519": "ed25519", ssh.KeyAlgoED25519: "ed25519", "rsa": "rsa", ssh.KeyAlgoRSA: "rsa",
		"ec": "ec", "ecdsa": "ec", ssh.KeyAlgoECDSA256: "ec", ssh.KeyAlgoECDSA384: "ec", ssh.KeyAlgoECDSA521: "ec"}[in.KeyType]
	if !ok {
		return nil, logical.InvalidRequest("unknown key_type %q: use ed25519, rsa or ec", in.KeyType)
	}
	name := d.Get("role").(string)
	if _, err := b.loadSignRole(ctx, req.Storage, name); err != nil {
		return nil, err // before spending CPU on a key
	}
	key, err := generateKey(in.KeyType, in.KeyBits)
	if err != nil {
		return nil, err
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("ssh: public key: %w", err)
	}
	cert, err := b.certify(ctx, req, name, pub, in, ttlSent)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, fmt.Errorf("ssh: marshal key: %w", err)
	}
	data := certData(cert)
	data["private_key"], data["private_key_type"] = string(pem.EncodeToMemory(block)), family
	return logical.DataResponse(data), nil
}

func certData(cert *ssh.Certificate) map[string]any {
	return map[string]any{
		"serial_number": strconv.FormatUint(cert.Serial, 16),
		"signed_key":    string(ssh.MarshalAuthorizedKey(cert)),
	}
}

// loadSignRole reads the role a sign or issue request names.
func (b *Backend) loadSignRole(ctx context.Context, s logical.Storage, name string) (*role, error) {
	r, err := loadRole(ctx, s, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("unknown role: %s", name)
	}
	if r.KeyType != keyTypeCA {
		return nil, logical.InvalidRequest("role %q is not of key_type ca", name)
	}
	return r, nil
}

// certify checks a request against its role and signs pub.
func (b *Backend) certify(ctx context.Context, req *logical.Request, name string, pub ssh.PublicKey, in *signRequest, ttlSent bool) (*ssh.Certificate, error) {
	r, err := b.loadSignRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if err := checkKeyLength(pub, r.AllowedUserKeyLengths); err != nil {
		return nil, logical.InvalidRequest("public_key failed to meet the key requirements: %v", err)
	}
	cert, err := b.buildCert(req, r, name, pub, in, ttlSent)
	if err != nil {
		return nil, err
	}
	ca, err := loadCA(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if ca == nil {
		return nil, logical.InvalidRequest("no CA key is configured: write config/ca first")
	}
	signer, err := b.caSigner(ca)
	if err != nil {
		return nil, err
	}
	authority, err := withAlgorithm(signer, r.AlgorithmSigner)
	if err != nil {
		return nil, err
	}
	if err := cert.SignCert(rand.Reader, authority); err != nil {
		return nil, fmt.Errorf("ssh: sign certificate: %w", err)
	}
	return cert, nil
}

// buildCert fills in the certificate the role allows for the request.
func (b *Backend) buildCert(req *logical.Request, r *role, name string, pub ssh.PublicKey, in *signRequest, ttlSent bool) (*ssh.Certificate, error) {
	certType, err := r.certType(in.CertType)
	if err != nil {
		return nil, err
	}
	principals, err := r.principals(certType, in.ValidPrincipals, entityID(req))
	if err != nil {
		return nil, err
	}
	ttl, err := b.certTTL(req, r, in.TTL, ttlSent)
	if err != nil {
		return nil, err
	}
	critical, err := r.criticalOptions(in.CriticalOptions)
	if err != nil {
		return nil, err
	}
	extensions, err := r.extensions(in.Extensions)
	if err != nil {
		return nil, err
	}
	keyID, err := r.keyID(in.KeyID, name, displayName(req), pub)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := b.now()
	after := now.Add(-r.NotBeforeDuration).Unix()
	if after < 0 {
		after = 0
	}
	return &ssh.Certificate{
		Key: pub, Serial: serial, CertType: certType, KeyId: keyID, ValidPrincipals: principals,
		ValidAfter: uint64(after), ValidBefore: uint64(now.Add(ttl).Unix()),
		Permissions: ssh.Permissions{CriticalOptions: critical, Extensions: extensions},
	}, nil
}

// randomSerial is 64 bits from crypto/rand.
func randomSerial() (uint64, error) {
	var buf [8]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return 0, fmt.Errorf("ssh: serial number: %w", err)
	}
	return binary.BigEndian.Uint64(buf[:]), nil
}

// withAlgorithm applies a role's algorithm_signer to the CA signer.
func withAlgorithm(s ssh.Signer, algo string) (ssh.Signer, error) {
	isRSA := s.PublicKey().Type() == ssh.KeyAlgoRSA
	switch {
	case (algo == "" || algo == defaultAlgorithmSigner) && !isRSA:
		return s, nil
	case algo == "" || algo == defaultAlgorithmSigner:
		algo = ssh.KeyAlgoRSASHA256
	case !isRSA:
		return nil, logical.InvalidRequest("the role's algorithm_signer %q needs an RSA CA key; this CA key is %s: set algorithm_signer to default", algo, s.PublicKey().Type())
	}
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("ssh: the CA signer cannot choose its algorithm")
	}
	return ssh.NewSignerWithAlgorithms(as, []string{algo})
}

func (r *role) certType(t string) (uint32, error) {
	switch t {
	case "user", "":
		if !r.AllowUserCertificates {
			return 0, logical.InvalidRequest("cert_type 'user' is not allowed by role")
		}
		return ssh.UserCert, nil
	case "host":
		if !r.AllowHostCertificates {
			return 0, logical.InvalidRequest("cert_type 'host' is not allowed by role")
		}
		return ssh.HostCert, nil
	}
	return 0, logical.InvalidRequest("cert_type must be either 'user' or 'host'")
}

// certTTL is the certificate's lifetime: the request's, the role's or the
// mount's default, never above the role's max_ttl (or the mount's max). An
// explicit request above the maximum is refused, a default is capped.
func (b *Backend) certTTL(req *logical.Request, r *role, sent time.Duration, sentOK bool) (time.Duration, error) {
	def, max := b.leaseTTLs(req)
	if r.MaxTTL > 0 {
		max = r.MaxTTL
	}
	ttl := r.TTL
	if ttl <= 0 {
		ttl = def
	}
	if sentOK {
		if sent > max {
			return 0, logical.InvalidRequest("ttl is larger than maximum allowed %d: the role's max_ttl (or the mount's max lease TTL) is %s", max/time.Second, max)
		}
		ttl = sent
	}
	if ttl > max {
		ttl = max
	}
	if ttl < time.Second {
		return 0, logical.InvalidRequest("ttl must be at least one second")
	}
	return ttl, nil
}

// keyID is the certificate's key ID: the request's (if the role allows it)
// or the role's key_id_format, by default Vault's.
func (r *role) keyID(sent, roleName, display string, pub ssh.PublicKey) (string, error) {
	if sent != "" {
		if !r.AllowUserKeyIDs {
			return "", logical.InvalidRequest("setting key_id is not allowed by role")
		}
		if len(sent) > maxKeyIDLen {
			return "", logical.InvalidRequest("key_id must be at most %d bytes", maxKeyIDLen)
		}
		return sent, nil
	}
	format := r.KeyIDFormat
	switch {
	case format != "":
	case display != "":
		format = "vault-{{token_display_name}}-{{public_key_hash}}"
	default:
		format = "vault-{{public_key_hash}}"
	}
	sum := sha256.Sum256(pub.Marshal())
	return strings.NewReplacer("{{token_display_name}}", display, "{{role_name}}", roleName,
		"{{public_key_hash}}", hex.EncodeToString(sum[:])).Replace(format), nil
}

func displayName(req *logical.Request) string {
	if req.Auth == nil {
		return ""
	}
	return req.Auth.DisplayName
}

func entityID(req *logical.Request) string {
	if req.Auth == nil {
		return ""
	}
	return req.Auth.EntityID
}
