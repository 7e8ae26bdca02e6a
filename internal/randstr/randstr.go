// Package randstr makes random strings from crypto/rand: each character
// is drawn uniformly (rejection sampling, no modulo bias) from an
// alphabet of ASCII characters.
package randstr

import (
	"crypto/rand"
	"math/big"
)

// Alphanumeric is [A-Za-z0-9].
const Alphanumeric = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// From returns n characters drawn from alphabet.
func From(alphabet string, n int) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		x, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = alphabet[x.Int64()]
	}
	return string(b), nil
}
