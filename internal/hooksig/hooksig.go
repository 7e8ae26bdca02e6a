// Package hooksig signs kinko's outgoing webhook requests (alert
// webhooks, rotation hooks) and lets receivers verify them: the
// X-Kinko-Signature header is "sha256=" and the hex HMAC-SHA256, under a
// secret shared with the receiver, of the X-Kinko-Timestamp value (Unix
// seconds), a '.', and the raw body. Receivers verify with
// VerifySignature (constant time) and refuse stale timestamps with
// CheckTimestamp, so a captured request cannot be replayed later.
package hooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors of VerifySignature and CheckTimestamp.
var (
	ErrBadSignature   = errors.New("hooksig: webhook signature does not match")
	ErrBadTimestamp   = errors.New("hooksig: webhook timestamp is malformed")
	ErrStaleTimestamp = errors.New("hooksig: webhook timestamp is outside the allowed window")
)

// The headers a signed request carries.
const (
	SignatureHeader = "X-Kinko-Signature"
	TimestampHeader = "X-Kinko-Timestamp"
)

const signaturePrefix = "sha256="

// SignRequest sets the timestamp (now) and signature headers on req for
// body, which must be req's body.
func SignRequest(req *http.Request, secret []byte, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign(secret, ts, body))
}

// Sign returns the X-Kinko-Signature value for a request: "sha256=" and
// the hex HMAC-SHA256 under secret of timestamp + "." + body.
func Sign(secret []byte, timestamp string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks, in constant time, that header (the
// X-Kinko-Signature value) signs timestamp (the X-Kinko-Timestamp value)
// and the raw body under secret. It does not judge the timestamp's age:
// receivers call CheckTimestamp too, so old requests cannot be replayed.
func VerifySignature(secret []byte, timestamp string, body []byte, header string) error {
	if !digits(timestamp) {
		return ErrBadTimestamp
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), signaturePrefix)
	if !ok || len(hexSig) != 2*sha256.Size {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal(got, mac(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}

// CheckTimestamp refuses a X-Kinko-Timestamp value more than maxSkew away
// from now (either way). Five minutes is a sensible window.
func CheckTimestamp(timestamp string, now time.Time, maxSkew time.Duration) error {
	if !digits(timestamp) {
		return ErrBadTimestamp
	}
	n, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	d := now.Sub(time.Unix(n, 0))
	if d > maxSkew || d < -maxSkew {
		return ErrStaleTimestamp
	}
	return nil
}

func digits(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
