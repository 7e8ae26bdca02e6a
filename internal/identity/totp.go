package identity

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"image/png"
	"net/url"
	"strconv"
	"time"

	"github.com/pquerna/otp"
)

// totpParams are the settings an authenticator app was enrolled with. They
// are copied into each secret when it is generated, so later changes to the
// method do not invalidate enrolled apps (as in Vault).
type totpParams struct {
	Period    int    `json:"period"` // seconds
	Digits    int    `json:"digits"`
	Algorithm string `json:"algorithm"`
	Skew      int    `json:"skew"`
}

// totpSecret is one entity's TOTP key for one method, stored at
// mfa/secret/<method ID>/<entity ID>.
type totpSecret struct {
	Key []byte `json:"key"`
	totpParams
	// LastStep is the last time step accepted: a code of this step or an
	// earlier one is refused (RFC 6238 §5.2), so a code works only once.
	LastStep int64 `json:"last_step"`
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPCode computes the RFC 6238 code of secret at time t: HOTP (RFC 4226)
// of the time step. algorithm is SHA1, SHA256 or SHA512; digits 1 to 9.
func TOTPCode(secret []byte, t time.Time, period time.Duration, digits int, algorithm string) (string, error) {
	h, err := hashFor(algorithm)
	if err != nil {
		return "", err
	}
	p := int64(period / time.Second)
	if p <= 0 || digits < 1 || digits > 9 {
		return "", fmt.Errorf("identity: invalid TOTP period %v or digits %d", period, digits)
	}
	return string(hotp(h, secret, uint64(floorDiv(t.Unix(), p)), digits)), nil
}

func hashFor(algorithm string) (func() hash.Hash, error) {
	switch algorithm {
	case "SHA1":
		return sha1.New, nil
	case "SHA256":
		return sha256.New, nil
	case "SHA512":
		return sha512.New, nil
	}
	return nil, fmt.Errorf("identity: unsupported TOTP algorithm %q", algorithm)
}

var pow10 = [...]uint32{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000}

// hotp is RFC 4226: HMAC of the big-endian counter, dynamic truncation,
// the low digits, zero-padded.
func hotp(h func() hash.Hash, key []byte, counter uint64, digits int) []byte {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(h, key)
	mac.Write(msg[:])
	var buf [sha512.Size]byte
	sum := mac.Sum(buf[:0])
	off := sum[len(sum)-1] & 0x0f
	code := (binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff) % pow10[digits]
	out := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		out[i] = byte('0' + code%10)
		code /= 10
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// wellFormed reports whether passcode is exactly digits ASCII digits.
func wellFormed(passcode string, digits int) bool {
	if len(passcode) != digits {
		return false
	}
	for i := 0; i < len(passcode); i++ {
		if passcode[i] < '0' || passcode[i] > '9' {
			return false
		}
	}
	return true
}

// match returns the latest time step within ±Skew of now whose code is
// passcode and which is later than LastStep. Every candidate is computed
// and compared in constant time.
func (s *totpSecret) match(now time.Time, passcode string) (int64, bool) {
	h, err := hashFor(s.Algorithm)
	if err != nil || s.Period <= 0 || s.Digits < 1 || s.Digits > 9 || !wellFormed(passcode, s.Digits) {
		return 0, false
	}
	cur := floorDiv(now.Unix(), int64(s.Period))
	var found int64
	ok := false
	for step := cur - int64(s.Skew); step <= cur+int64(s.Skew); step++ {
		if step < 0 {
			continue
		}
		eq := subtle.ConstantTimeCompare(hotp(h, s.Key, uint64(step), s.Digits), []byte(passcode)) == 1
		if eq && step > s.LastStep {
			found, ok = step, true
		}
	}
	return found, ok
}

// otpauthURL is the enrolment URL authenticator apps read (Key URI format).
func otpauthURL(issuer, account string, key []byte, p totpParams) string {
	q := url.Values{}
	q.Set("secret", b32.EncodeToString(key))
	q.Set("issuer", issuer)
	q.Set("algorithm", p.Algorithm)
	q.Set("digits", strconv.Itoa(p.Digits))
	q.Set("period", strconv.Itoa(p.Period))
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}
	return u.String()
}

// qrPNG renders the enrolment URL as a square QR code, base64 PNG.
func qrPNG(enrolURL string, size int) (string, error) {
	// The URL holds the secret: errors here never carry its text.
	k, err := otp.NewKeyFromURL(enrolURL)
	if err != nil {
		return "", errors.New("identity: otpauth URL does not parse")
	}
	img, err := k.Image(size, size)
	if err != nil {
		return "", errors.New("identity: QR code cannot be rendered")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("identity: QR code PNG: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
