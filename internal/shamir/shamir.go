// Package shamir splits a secret into shares with Shamir's secret sharing
// over GF(2^8) and combines them again.
//
// The format follows HashiCorp Vault's: every share is len(secret)+1 bytes,
// the y values of each secret byte followed by the share's x coordinate as
// the last byte. x coordinates are distinct, non-zero and chosen at random
// with crypto/rand. The field is GF(2^8) with the AES polynomial
// x^8+x^4+x^3+x+1.
//
// Invariants:
//   - Field arithmetic never branches on or indexes by secret data:
//     multiplication uses masks, inversion is a fixed exponentiation.
//   - Polynomial coefficients come only from crypto/rand.
//   - Split with parts == 1 and threshold == 1 returns a copy of the secret
//     as the only share, and Combine of one part returns a copy of it; this
//     mirrors Vault, whose callers use the key directly in that case.
//
// Concurrency: the package has no state; every function is safe for
// concurrent use.
package shamir

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
)

// ErrInvalidInput is wrapped by every error this package returns.
var ErrInvalidInput = errors.New("shamir: invalid input")

const maxParts = 255

// Split divides secret into parts shares, any threshold of which rebuild it.
func Split(secret []byte, parts, threshold int) ([][]byte, error) {
	if err := checkSplit(secret, parts, threshold); err != nil {
		return nil, err
	}
	if parts == 1 {
		return [][]byte{clone(secret)}, nil
	}
	xs := randomXs(parts)
	out := make([][]byte, parts)
	for i := range out {
		out[i] = make([]byte, len(secret)+1)
		out[i][len(secret)] = xs[i]
	}
	coeffs := make([]byte, threshold) // coeffs[0] is the secret byte
	defer clear(coeffs)
	for k, s := range secret {
		coeffs[0] = s
		if _, err := rand.Read(coeffs[1:]); err != nil {
			return nil, fmt.Errorf("shamir: read random coefficients: %w", err)
		}
		for i, x := range xs {
			out[i][k] = evaluate(coeffs, x)
		}
	}
	return out, nil
}

// Combine rebuilds the secret from shares produced by Split. Any set of at
// least threshold distinct shares gives the secret; fewer give an unrelated
// value, which Combine cannot detect.
func Combine(parts [][]byte) ([]byte, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no shares given", ErrInvalidInput)
	}
	if len(parts) == 1 {
		if len(parts[0]) == 0 {
			return nil, fmt.Errorf("%w: share is empty", ErrInvalidInput)
		}
		return clone(parts[0]), nil
	}
	xs, err := checkCombine(parts)
	if err != nil {
		return nil, err
	}
	weights := lagrangeAtZero(xs)
	secret := make([]byte, len(parts[0])-1)
	for i, p := range parts {
		w := weights[i]
		for k := range secret {
			secret[k] ^= mul(w, p[k])
		}
	}
	return secret, nil
}

func checkSplit(secret []byte, parts, threshold int) error {
	switch {
	case len(secret) == 0:
		return fmt.Errorf("%w: secret is empty", ErrInvalidInput)
	case parts == 1 && threshold == 1:
		return nil
	case parts < 2 || parts > maxParts:
		return fmt.Errorf("%w: parts must be between 2 and %d (or 1 with threshold 1), got %d", ErrInvalidInput, maxParts, parts)
	case threshold < 2 || threshold > parts:
		return fmt.Errorf("%w: threshold must be between 2 and parts (%d), got %d", ErrInvalidInput, parts, threshold)
	}
	return nil
}

// checkCombine validates two or more shares and returns their x coordinates.
func checkCombine(parts [][]byte) ([]byte, error) {
	if len(parts) > maxParts {
		return nil, fmt.Errorf("%w: more than %d shares", ErrInvalidInput, maxParts)
	}
	n := len(parts[0])
	if n < 2 {
		return nil, fmt.Errorf("%w: shares must be at least 2 bytes", ErrInvalidInput)
	}
	var seen [256]bool
	xs := make([]byte, len(parts))
	for i, p := range parts {
		if len(p) != n {
			return nil, fmt.Errorf("%w: shares have different lengths", ErrInvalidInput)
		}
		x := p[n-1]
		if x == 0 {
			return nil, fmt.Errorf("%w: share %d has x coordinate 0", ErrInvalidInput, i)
		}
		if seen[x] {
			return nil, fmt.Errorf("%w: duplicate share", ErrInvalidInput)
		}
		seen[x] = true
		xs[i] = x
	}
	return xs, nil
}

// lagrangeAtZero returns, for each x_i, the Lagrange basis polynomial
// L_i evaluated at 0: the product over j≠i of x_j / (x_j - x_i). In GF(2^8)
// subtraction is XOR. The x coordinates are public, but the arithmetic is
// constant-time anyway.
func lagrangeAtZero(xs []byte) []byte {
	w := make([]byte, len(xs))
	for i, xi := range xs {
		num, den := byte(1), byte(1)
		for j, xj := range xs {
			if j == i {
				continue
			}
			num = mul(num, xj)
			den = mul(den, xj^xi)
		}
		w[i] = mul(num, inverse(den))
	}
	return w
}

// evaluate returns the polynomial with the given coefficients (constant term
// first) at x, by Horner's rule.
func evaluate(coeffs []byte, x byte) byte {
	var y byte
	for i := len(coeffs) - 1; i >= 0; i-- {
		y = mul(y, x) ^ coeffs[i]
	}
	return y
}

// mul multiplies in GF(2^8) without data-dependent branches or table
// lookups: each step adds a when the low bit of b is set, via a mask.
func mul(a, b byte) byte {
	var r byte
	for range 8 {
		r ^= a & -(b & 1)
		b >>= 1
		carry := -(a >> 7)
		a = a<<1 ^ 0x1b&carry
	}
	return r
}

// inverse returns a^254, which is a^-1 for a≠0 and 0 for a=0, by a fixed
// sequence of squarings and multiplications.
func inverse(a byte) byte {
	// 254 = 0b11111110: a^2 · a^4 · ... · a^128
	sq := mul(a, a)
	r := sq
	for range 6 {
		sq = mul(sq, sq)
		r = mul(r, sq)
	}
	return r
}

// randomXs returns n distinct values in 1..255 in random order.
func randomXs(n int) []byte {
	perm := mrand.New(cryptoSource{}).Perm(maxParts)
	xs := make([]byte, n)
	for i := range xs {
		xs[i] = byte(perm[i] + 1)
	}
	return xs
}

// cryptoSource feeds math/rand/v2 from crypto/rand, which never fails.
type cryptoSource struct{}

func (cryptoSource) Uint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func clone(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}
