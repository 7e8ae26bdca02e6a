package transit

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// AES key wrap with padding (RFC 5649), the second layer of Vault's BYOK
// import format: the key material is wrapped under an ephemeral AES-256
// key, which is itself encrypted with RSA-OAEP to the wrapping key. It is
// built on crypto/aes exactly as the RFC describes (the RFC 3394 wrapping
// process W and its inverse, with the alternative initial value).

// kwpMaxInput bounds what kwpWrap accepts (RFC 5649 allows up to 2^32
// bytes; key material is far smaller).
const kwpMaxInput = 1 << 20

// kwpAIVPrefix is the constant half of the alternative initial value.
var kwpAIVPrefix = [4]byte{0xa6, 0x59, 0x59, 0xa6}

// errKWPUnwrap is the only error unwrap reports, whatever failed, so it
// reveals nothing about the key or the data.
var errKWPUnwrap = errors.New("key unwrap failed: wrong key or corrupted data")

// kwpWrap wraps plaintext (1 byte or more) under kek.
func kwpWrap(kek, plaintext []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(plaintext) == 0 || len(plaintext) > kwpMaxInput {
		return nil, errors.New("key wrap: input must be between 1 byte and 1 MiB")
	}
	n := (len(plaintext) + 7) / 8 // 64-bit blocks after padding
	out := make([]byte, 8+8*n)
	copy(out[:4], kwpAIVPrefix[:])
	binary.BigEndian.PutUint32(out[4:8], uint32(len(plaintext)))
	copy(out[8:], plaintext) // the rest stays zero: the padding
	if n == 1 {
		block.Encrypt(out, out) // a single block: AES(K, AIV || P)
		return out, nil
	}
	wrapW(block, out, n)
	return out, nil
}

// wrapW is RFC 3394's wrapping process on buf = A || R[1..n], in place.
func wrapW(block cipher.Block, buf []byte, n int) {
	var b [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], buf[:8])
			copy(b[8:], buf[8*i:8*i+8])
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(b[:8])^t)
			copy(buf[8*i:8*i+8], b[8:])
		}
	}
}

// unwrapW inverts wrapW on buf = C[0] || C[1..n], in place.
func unwrapW(block cipher.Block, buf []byte, n int) {
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(buf[:8])^t)
			copy(b[8:], buf[8*i:8*i+8])
			block.Decrypt(b[:], b[:])
			copy(buf[:8], b[:8])
			copy(buf[8*i:8*i+8], b[8:])
		}
	}
}

// kwpUnwrap unwraps a kwpWrap output and checks its integrity: the
// initial value, the length it declares and the zero padding.
func kwpUnwrap(kek, wrapped []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < 16 || len(wrapped)%8 != 0 || len(wrapped) > kwpMaxInput+16 {
		return nil, errKWPUnwrap
	}
	buf := make([]byte, len(wrapped))
	copy(buf, wrapped)
	n := len(buf)/8 - 1
	if n == 1 {
		block.Decrypt(buf, buf)
	} else {
		unwrapW(block, buf, n)
	}
	mli := int(binary.BigEndian.Uint32(buf[4:8]))
	validAIV := subtle.ConstantTimeCompare(buf[:4], kwpAIVPrefix[:]) == 1
	if !validAIV || mli <= 8*(n-1) || mli > 8*n {
		clear(buf)
		return nil, errKWPUnwrap
	}
	var pad byte
	for _, c := range buf[8+mli:] {
		pad |= c
	}
	if pad != 0 {
		clear(buf)
		return nil, errKWPUnwrap
	}
	return buf[8 : 8+mli], nil
}
