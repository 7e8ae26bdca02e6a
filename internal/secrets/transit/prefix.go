package transit

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Ciphertexts, signatures and HMACs are "<prefix>v<version>:<payload>".
// kinko writes its own prefix and reads Vault's as well, so data
// encrypted by Vault (keys migrated with backup/restore) still decrypts.
const (
	outputPrefix = "kinko:v"
	vaultPrefix  = "vault:v"
)

// maxVersionDigits bounds the version number of a parsed value.
const maxVersionDigits = 9

// versioned formats payload as a value of key version ver.
func versioned(ver int, payload string) string {
	b := make([]byte, 0, len(outputPrefix)+11+len(payload))
	b = appendPrefix(b, ver)
	b = append(b, payload...)
	return string(b)
}

// versionedB64 formats raw, base64-encoded with enc, as a value of key
// version ver (one copy less than versioned on the hot path).
func versionedB64(ver int, raw []byte, enc *base64.Encoding) string {
	b := make([]byte, 0, len(outputPrefix)+11+enc.EncodedLen(len(raw)))
	b = appendPrefix(b, ver)
	b = enc.AppendEncode(b, raw)
	return string(b)
}

func appendPrefix(b []byte, ver int) []byte {
	b = append(b, outputPrefix...)
	b = strconv.AppendInt(b, int64(ver), 10)
	return append(b, ':')
}

// parseVersioned splits a versioned value into its key version and its
// payload. what names the value in errors ("ciphertext", "signature",
// "HMAC"). The version is a plain decimal number (no sign, at most nine
// digits); the payload is returned undecoded.
func parseVersioned(s, what string) (int, string, error) {
	rest, ok := strings.CutPrefix(s, outputPrefix)
	if !ok {
		rest, ok = strings.CutPrefix(s, vaultPrefix)
	}
	if !ok {
		return 0, "", logical.InvalidRequest("invalid %s: no prefix (expected %q or %q followed by a version)", what, outputPrefix, vaultPrefix)
	}
	num, payload, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, "", logical.InvalidRequest("invalid %s: wrong number of fields", what)
	}
	if num == "" || len(num) > maxVersionDigits {
		return 0, "", logical.InvalidRequest("invalid %s: version number could not be decoded", what)
	}
	ver := 0
	for i := 0; i < len(num); i++ {
		c := num[i]
		if c < '0' || c > '9' {
			return 0, "", logical.InvalidRequest("invalid %s: version number could not be decoded", what)
		}
		ver = ver*10 + int(c-'0')
	}
	return ver, payload, nil
}
