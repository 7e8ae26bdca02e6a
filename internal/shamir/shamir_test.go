package shamir

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

// slowMul is a reference GF(2^8) multiplication: carry-less product, then
// reduction by the AES polynomial 0x11b.
func slowMul(a, b byte) byte {
	var p uint16
	for i := range 8 {
		if b&(1<<i) != 0 {
			p ^= uint16(a) << i
		}
	}
	for i := 15; i >= 8; i-- {
		if p&(1<<i) != 0 {
			p ^= 0x11b << (i - 8)
		}
	}
	return byte(p)
}

func TestFieldArithmetic(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			if got, want := mul(byte(a), byte(b)), slowMul(byte(a), byte(b)); got != want {
				t.Fatalf("mul(%#x, %#x) = %#x, want %#x", a, b, got, want)
			}
		}
		if a != 0 && mul(byte(a), inverse(byte(a))) != 1 {
			t.Fatalf("inverse(%#x) = %#x is not an inverse", a, inverse(byte(a)))
		}
	}
	if inverse(0) != 0 {
		t.Error("inverse(0) != 0")
	}
}

func randomSecret(t *testing.T, n int) []byte {
	t.Helper()
	s := make([]byte, n)
	if _, err := rand.Read(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// subsets calls fn with every subset of shares of exactly size k.
func subsets(shares [][]byte, k int, fn func([][]byte)) {
	var rec func(start int, cur [][]byte)
	rec = func(start int, cur [][]byte) {
		if len(cur) == k {
			fn(cur)
			return
		}
		for i := start; i < len(shares); i++ {
			rec(i+1, append(cur, shares[i]))
		}
	}
	rec(0, nil)
}

func TestSplitCombine(t *testing.T) {
	tests := []struct{ parts, threshold, size int }{
		{2, 2, 1},
		{3, 2, 32},
		{5, 3, 32},
		{6, 6, 16},
		{7, 4, 33},
		{255, 2, 4},
	}
	for _, tc := range tests {
		secret := randomSecret(t, tc.size)
		shares, err := Split(secret, tc.parts, tc.threshold)
		if err != nil {
			t.Fatalf("Split(%d,%d): %v", tc.parts, tc.threshold, err)
		}
		checkShares(t, shares, tc.parts, tc.size)
		maxK := min(tc.parts, tc.threshold+1)
		if tc.parts == 255 {
			maxK = tc.threshold // C(255,3) is too many to enumerate
		}
		for k := tc.threshold; k <= maxK; k++ {
			subsets(shares, k, func(sub [][]byte) {
				got, err := Combine(sub)
				if err != nil || !bytes.Equal(got, secret) {
					t.Fatalf("Combine of %d/%d shares (threshold %d) = %x, %v; want the secret", k, tc.parts, tc.threshold, got, err)
				}
			})
		}
		if tc.threshold > 2 && tc.size >= 16 {
			subsets(shares, tc.threshold-1, func(sub [][]byte) {
				got, err := Combine(sub)
				if err != nil {
					t.Fatalf("Combine below threshold: %v", err)
				}
				if bytes.Equal(got, secret) {
					t.Fatalf("Combine of %d shares (threshold %d) revealed the secret", len(sub), tc.threshold)
				}
			})
		}
	}
}

func checkShares(t *testing.T, shares [][]byte, parts, size int) {
	t.Helper()
	if len(shares) != parts {
		t.Fatalf("got %d shares, want %d", len(shares), parts)
	}
	seen := map[byte]bool{}
	for _, s := range shares {
		if len(s) != size+1 {
			t.Fatalf("share length %d, want %d", len(s), size+1)
		}
		x := s[size]
		if x == 0 || seen[x] {
			t.Fatalf("x coordinate %d is zero or repeated", x)
		}
		seen[x] = true
	}
}

func TestSingleShare(t *testing.T) {
	secret := randomSecret(t, 32)
	shares, err := Split(secret, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(shares) != 1 || !bytes.Equal(shares[0], secret) {
		t.Fatalf("Split(1,1) = %x, want the secret itself", shares)
	}
	shares[0][0] ^= 0xff
	if bytes.Equal(shares[0], secret) {
		t.Fatal("Split(1,1) aliased the secret")
	}
	got, err := Combine([][]byte{secret})
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Combine(one part) = %x, %v; want the part", got, err)
	}
}

func TestSplitRejects(t *testing.T) {
	secret := []byte("secret")
	tests := []struct {
		name             string
		secret           []byte
		parts, threshold int
	}{
		{"empty secret", nil, 3, 2},
		{"zero parts", secret, 0, 0},
		{"one part threshold two", secret, 1, 2},
		{"threshold one", secret, 3, 1},
		{"threshold above parts", secret, 3, 4},
		{"too many parts", secret, 256, 2},
		{"negative", secret, -1, -1},
	}
	for _, tc := range tests {
		if _, err := Split(tc.secret, tc.parts, tc.threshold); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: Split error = %v, want ErrInvalidInput", tc.name, err)
		}
	}
}

func TestCombineRejects(t *testing.T) {
	shares, err := Split([]byte("0123456789abcdef"), 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	zeroX := bytes.Clone(shares[1])
	zeroX[len(zeroX)-1] = 0
	tests := []struct {
		name  string
		parts [][]byte
	}{
		{"none", nil},
		{"one empty", [][]byte{{}}},
		{"duplicate", [][]byte{shares[0], shares[1], shares[0]}},
		{"duplicate x", [][]byte{shares[0], append(bytes.Clone(shares[1][:16]), shares[0][16])}},
		{"different lengths", [][]byte{shares[0], shares[1][1:]}},
		{"too short", [][]byte{{1}, {2}}},
		{"zero x", [][]byte{shares[0], zeroX}},
	}
	for _, tc := range tests {
		if _, err := Combine(tc.parts); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: Combine error = %v, want ErrInvalidInput", tc.name, err)
		}
	}
}

func FuzzCombine(f *testing.F) {
	shares, err := Split([]byte("fuzz seed secret"), 3, 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Join(shares, nil), uint8(17))
	f.Add([]byte{1, 2, 3, 4}, uint8(2))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		n := int(size)
		var parts [][]byte
		if n == 0 {
			parts = [][]byte{data}
		} else {
			for len(data) >= n {
				parts = append(parts, data[:n])
				data = data[n:]
			}
		}
		got, err := Combine(parts)
		if err == nil && len(parts) > 1 && len(got) != n-1 {
			t.Fatalf("Combine returned %d bytes from %d-byte shares", len(got), n)
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	secret := make([]byte, 32)
	for b.Loop() {
		if _, err := Split(secret, 5, 3); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCombine(b *testing.B) {
	shares, err := Split(make([]byte, 32), 5, 3)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Combine(shares[:3]); err != nil {
			b.Fatal(err)
		}
	}
}
