package hooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

const testSecret = "whsec-test-0123456789"

func TestSignMatchesDocumentedConstruction(t *testing.T) {
	body := []byte(`{"finding":{}}`)
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte("1700000000." + string(body)))
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := Sign([]byte(testSecret), "1700000000", body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	secret := []byte(testSecret)
	body := []byte(`{"finding":{"id":"f-1"}}`)
	ts := "1700000000"
	good := Sign(secret, ts, body)
	tests := []struct {
		name   string
		secret []byte
		ts     string
		body   []byte
		header string
		want   error
	}{
		{"valid", secret, ts, body, good, nil},
		{"valid with spaces", secret, ts, body, " " + good + " ", nil},
		{"upper-case hex", secret, ts, body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), nil},
		{"tampered body", secret, ts, []byte(`{"finding":{"id":"f-2"}}`), good, ErrBadSignature},
		{"other timestamp (replay with new time)", secret, "1700000001", body, good, ErrBadSignature},
		{"wrong secret", []byte("another-secret-of-16"), ts, body, good, ErrBadSignature},
		{"missing prefix", secret, ts, body, strings.TrimPrefix(good, "sha256="), ErrBadSignature},
		{"other algorithm", secret, ts, body, "sha1=" + strings.TrimPrefix(good, "sha256="), ErrBadSignature},
		{"truncated", secret, ts, body, good[:len(good)-2], ErrBadSignature},
		{"not hex", secret, ts, body, "sha256=" + strings.Repeat("zz", 32), ErrBadSignature},
		{"empty header", secret, ts, body, "", ErrBadSignature},
		{"timestamp with dot", secret, "1700000000.", body, good, ErrBadTimestamp},
		{"empty timestamp", secret, "", body, good, ErrBadTimestamp},
		{"signed dot split elsewhere", secret, "170000000", []byte("0." + string(body)), good, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := VerifySignature(tc.secret, tc.ts, tc.body, tc.header); !errors.Is(err, tc.want) {
				t.Fatalf("VerifySignature = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tests := []struct {
		ts   string
		want error
	}{
		{"1700000000", nil},
		{"1699999700", nil},
		{"1700000300", nil},
		{"1699999699", ErrStaleTimestamp},
		{"1700000301", ErrStaleTimestamp},
		{"0", ErrStaleTimestamp},
		{"-5", ErrBadTimestamp},
		{"17e8", ErrBadTimestamp},
		{"99999999999999999999", ErrBadTimestamp},
	}
	for _, tc := range tests {
		if err := CheckTimestamp(tc.ts, now, 5*time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("CheckTimestamp(%q) = %v, want %v", tc.ts, err, tc.want)
		}
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add("1700000000", []byte("{}"), "sha256=00")
	f.Fuzz(func(t *testing.T, ts string, body []byte, header string) {
		err := VerifySignature([]byte(testSecret), ts, body, header)
		if err == nil && header != Sign([]byte(testSecret), ts, body) &&
			strings.ToLower(strings.TrimSpace(header)) != Sign([]byte(testSecret), ts, body) {
			t.Fatalf("accepted a signature that is not ours: %q", header)
		}
		if err := VerifySignature([]byte(testSecret), ts, body, Sign([]byte(testSecret), ts, body)); err != nil && digits(ts) {
			t.Fatalf("own signature refused: %v", err)
		}
	})
}
