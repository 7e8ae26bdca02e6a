package transit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKWPVectors checks the two test vectors of RFC 5649, section 6.
func TestKWPVectors(t *testing.T) {
	kek := unhex(t, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
	for _, tc := range []struct{ key, wrapped string }{
		{"c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
		{"466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
	} {
		got, err := kwpWrap(kek, unhex(t, tc.key))
		if err != nil || hex.EncodeToString(got) != tc.wrapped {
			t.Fatalf("wrap %s = %x, %v; want %s", tc.key, got, err, tc.wrapped)
		}
		plain, err := kwpUnwrap(kek, unhex(t, tc.wrapped))
		if err != nil || hex.EncodeToString(plain) != tc.key {
			t.Fatalf("unwrap %s = %x, %v; want %s", tc.wrapped, plain, err, tc.key)
		}
	}
}

func TestKWPRoundTripAndTamper(t *testing.T) {
	kek := make([]byte, 32)
	rand.Read(kek)
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 32, 33, 64, 1217} {
		key := make([]byte, n)
		rand.Read(key)
		w, err := kwpWrap(kek, key)
		if err != nil || len(w) != 8+8*((n+7)/8) {
			t.Fatalf("wrap %d bytes: %d bytes, %v", n, len(w), err)
		}
		got, err := kwpUnwrap(kek, w)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("unwrap %d bytes: %v", n, err)
		}
		for _, i := range flipPositions(len(w)) {
			bad := bytes.Clone(w)
			bad[i] ^= 0x80
			if _, err := kwpUnwrap(kek, bad); err != errKWPUnwrap {
				t.Fatalf("%d-byte key, byte %d flipped: %v", n, i, err)
			}
		}
		other := bytes.Clone(kek)
		other[0] ^= 1
		if _, err := kwpUnwrap(other, w); err != errKWPUnwrap {
			t.Fatalf("wrong kek: %v", err)
		}
	}
	for _, bad := range [][]byte{nil, make([]byte, 8), make([]byte, 17), make([]byte, 24)} {
		if _, err := kwpUnwrap(kek, bad); err == nil {
			t.Fatalf("unwrap of %d bytes succeeded", len(bad))
		}
	}
	if _, err := kwpWrap(kek, nil); err == nil {
		t.Fatal("wrap of nothing succeeded")
	}
}

// flipPositions lists the bytes to corrupt in a wrapped key: all of them
// for small keys, the first, middle and last of each half for large ones.
func flipPositions(n int) []int {
	var out []int
	for i := 0; i < n; i++ {
		if n <= 80 || i < 8 || i == n/2 || i >= n-8 {
			out = append(out, i)
		}
	}
	return out
}
