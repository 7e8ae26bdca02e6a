package pki

import (
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// serialBytes is the length of a new serial number (RFC 5280's maximum).
const serialBytes = 20

// newSerial returns a positive serial of 20 random bytes from r.
func newSerial(r io.Reader) (*big.Int, error) {
	b := make([]byte, serialBytes)
	for {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("pki: read random serial: %w", err)
		}
		b[0] &= 0x7f // positive in DER without a leading zero byte
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
}

// formatSerial renders a serial as Vault does: hex bytes joined by ':'.
func formatSerial(n *big.Int) string {
	return joinHex(n.Bytes(), ":")
}

// serialKey is the storage form of a serial: hex bytes joined by '-'.
func serialKey(n *big.Int) string {
	return joinHex(n.Bytes(), "-")
}

const hexDigits = "0123456789abcdef"

func joinHex(b []byte, sep string) string {
	if len(b) == 0 {
		return "00"
	}
	var sb strings.Builder
	sb.Grow(len(b) * 3)
	for i, c := range b {
		if i > 0 {
			sb.WriteString(sep)
		}
		sb.WriteByte(hexDigits[c>>4])
		sb.WriteByte(hexDigits[c&0x0f])
	}
	return sb.String()
}

// parseSerial accepts a serial as hex bytes joined by ':' or '-' (either
// case), or as plain hex, and returns it as a number.
func parseSerial(s string) (*big.Int, error) {
	clean := strings.NewReplacer(":", "", "-", "").Replace(strings.TrimSpace(s))
	if clean == "" || len(clean) > 2*(serialBytes+1) {
		return nil, logical.InvalidRequest("invalid serial number %q: use hex bytes separated by ':' or '-'", s)
	}
	if len(clean)%2 == 1 {
		clean = "0" + clean
	}
	b, err := hex.DecodeString(clean)
	if err != nil {
		return nil, logical.InvalidRequest("invalid serial number %q: use hex bytes separated by ':' or '-'", s)
	}
	return new(big.Int).SetBytes(b), nil
}

// keyToSerial turns a storage key back into the API form.
func keyToSerial(k string) string { return strings.ReplaceAll(k, "-", ":") }

// newID returns a random UUID (version 4) from r.
func newID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("pki: read random id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
