package transit

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strconv"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// The kinds of key material export/:type/:name returns.
const (
	exportEncryptionKey = "encryption-key"
	exportSigningKey    = "signing-key"
	exportHMACKey       = "hmac-key"
	exportPublicKey     = "public-key"
)

func (b *backend) pathExport() *logical.Path {
	return &logical.Path{
		Pattern: `export/` + logical.GenericNameRegex("type") + `/` + logical.GenericNameRegex("name") + optionalParam("version"),
		Fields: map[string]*logical.FieldSchema{
			"type":    {Type: logical.TypeString, Description: "encryption-key, signing-key, hmac-key or public-key."},
			"name":    nameField(),
			"version": {Type: logical.TypeString, Description: "Version to export: a number, vN or latest (default: all)."},
			"format": {Type: logical.TypeString,
				Description: "Empty (Vault's per-type default), raw (symmetric and ed25519), der or pem (PKCS#8 / PKIX)."},
		},
		Operations:      map[logical.Operation]logical.OperationFunc{logical.ReadOperation: b.exportRead},
		HelpSynopsis:    "Export the material of an exportable key.",
		HelpDescription: "Public keys are always exportable; private material only when the key was made exportable.",
	}
}

func (b *backend) exportRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	kind, format := str(d, "type"), str(d, "format")
	switch kind {
	case exportEncryptionKey, exportSigningKey, exportHMACKey, exportPublicKey:
	default:
		return nil, logical.InvalidRequest("invalid export type: %s", kind)
	}
	switch format {
	case "", "raw", "der", "pem":
	default:
		return nil, logical.InvalidRequest("invalid format: %s", format)
	}
	p, err := b.keys.get(ctx, req.Storage, str(d, "name"))
	if err != nil || p == nil {
		return nil, err
	}
	if err := checkExportable(p, kind); err != nil {
		return nil, err
	}
	versions, err := exportVersions(p, str(d, "version"))
	if err != nil {
		return nil, err
	}
	keys := make(map[string]string, len(versions))
	for _, n := range versions {
		s, err := exportKey(p, p.Versions[n], kind, format)
		if err != nil {
			return nil, err
		}
		keys[strconv.Itoa(n)] = s
	}
	return logical.DataResponse(map[string]any{"name": p.Name, "type": string(p.Type), "keys": keys}), nil
}

func checkExportable(p *keyPolicy, kind string) error {
	switch {
	case !p.Exportable && kind != exportPublicKey:
		return logical.InvalidRequest("private key material is not exportable")
	case kind == exportEncryptionKey && !p.Type.supportsEncryption():
		return logical.InvalidRequest("encryption not supported for the key")
	case kind == exportSigningKey && !p.Type.supportsSigning():
		return logical.InvalidRequest("signing not supported for the key")
	case kind == exportPublicKey && !p.Type.asymmetric():
		return logical.InvalidRequest("public key not available for key type %s", p.Type)
	}
	return nil
}

// exportVersions resolves the version argument to the versions to export.
func exportVersions(p *keyPolicy, version string) ([]int, error) {
	if version == "" {
		var out []int
		for n := p.firstVisible(); n <= p.LatestVersion; n++ {
			if p.Versions[n] != nil {
				out = append(out, n)
			}
		}
		return out, nil
	}
	n := p.LatestVersion
	if version != "latest" {
		var err error
		if n, err = strconv.Atoi(strings.TrimPrefix(version, "v")); err != nil {
			return nil, logical.InvalidRequest("invalid key version")
		}
	}
	if n < p.MinDecryptionVersion {
		return nil, logical.InvalidRequest("version for export is below minimum decryption version")
	}
	if p.Versions[n] == nil {
		return nil, logical.InvalidRequest("version does not exist or cannot be found")
	}
	return []int{n}, nil
}

// exportKey renders one version's material the way Vault's export does.
func exportKey(p *keyPolicy, v *keyVersion, kind, format string) (string, error) {
	if kind == exportHMACKey || (kind == exportEncryptionKey && p.Type.symmetric()) {
		if format == "der" || format == "pem" {
			return "", logical.InvalidRequest("unknown format for a symmetric key; supported values are `` or `raw`")
		}
		key := v.Key
		if kind == exportHMACKey {
			key = p.hmacKey(v)
		}
		return base64.StdEncoding.EncodeToString(key), nil
	}
	if kind == exportPublicKey {
		return exportPublic(v, format)
	}
	if v.signer == nil {
		return "", nil // an imported public key has no private part
	}
	return exportPrivate(v, format)
}

func exportPublic(v *keyVersion, format string) (string, error) {
	if k, ok := v.pub.(ed25519.PublicKey); ok && (format == "" || format == "raw") {
		return base64.StdEncoding.EncodeToString(k), nil
	}
	if format == "raw" {
		return "", logical.InvalidRequest("unknown key format for this key; supported values are ``, `der`, or `pem`")
	}
	if format == "der" {
		return base64.StdEncoding.EncodeToString(v.PublicKey), nil
	}
	_, isRSA := v.pub.(*rsa.PublicKey)
	return pemPublicKey(v, isRSA) // Vault trims all but RSA keys
}

// exportPrivate renders a private key: by default base64 for ed25519,
// SEC 1 PEM for ECDSA and PKCS#1 PEM for RSA (Vault's defaults); der and
// pem give PKCS#8.
func exportPrivate(v *keyVersion, format string) (string, error) {
	switch format {
	case "der":
		return base64.StdEncoding.EncodeToString(v.PrivateKey), nil
	case "pem":
		s := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: v.PrivateKey}))
		if _, isRSA := v.signer.(*rsa.PrivateKey); !isRSA {
			s = strings.TrimSpace(s) // Vault trims all but RSA keys
		}
		return s, nil
	}
	switch k := v.signer.(type) {
	case ed25519.PrivateKey:
		return base64.StdEncoding.EncodeToString(k), nil
	case *ecdsa.PrivateKey:
		if format == "raw" {
			break
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))), nil
	case *rsa.PrivateKey:
		if format == "raw" {
			break
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})), nil
	}
	return "", logical.InvalidRequest("unknown key format for this key; supported values are ``, `der`, or `pem`")
}
