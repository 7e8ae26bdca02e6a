package identity

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"time"
)

// TOTPCode computes the RFC 6238 code of secret at time t (HOTP, RFC 4226,
// of the time step). algorithm is SHA1, SHA256 or SHA512.
func TOTPCode(secret []byte, t time.Time, period time.Duration, digits int, algorithm string) (string, error) {
	return hotp(secret, uint64(t.Unix())/uint64(period/time.Second), digits, algorithm)
}

func hashFor(algorithm string) (func() hash.Hash, error) {
	switch algorithm {
	case "SHA1", "":
		return sha1.New, nil
	case "SHA256":
		return sha256.New, nil
	case "SHA512":
		return sha512.New, nil
	}
	return nil, fmt.Errorf("unsupported algorithm %q", algorithm)
}

func hotp(secret []byte, counter uint64, digits int, algorithm string) (string, error) {
	h, err := hashFor(algorithm)
	if err != nil {
		return "", err
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(h, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for i := 0; i < digits; i++ {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, code%mod), nil
}
