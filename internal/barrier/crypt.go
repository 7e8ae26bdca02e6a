package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"
)

// Blob layout: version (1) | term (4, big-endian) | nonce (12) | GCM ciphertext.
const (
	blobVersion = 1
	termLen     = 4
	nonceLen    = 12
	headerLen   = 1 + termLen + nonceLen
	keyLen      = 32
	// rootTerm marks the keyring blob, which is encrypted under the root
	// key rather than under a keyring term.
	rootTerm = 0
)

// termKey is one key of the keyring. Its AEAD is built once, so encrypting
// and decrypting never repeat the AES key schedule.
type termKey struct {
	term        uint32
	key         []byte
	installed   time.Time
	aead        cipher.AEAD
	encryptions atomic.Uint64 // since this process loaded or created the term
}

func newTermKey(term uint32, key []byte, installed time.Time) (*termKey, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &termKey{term: term, key: key, installed: installed, aead: aead}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != keyLen {
		return nil, fmt.Errorf("%w: key must be %d bytes", ErrInvalidKey, keyLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("barrier: aes: %w", err)
	}
	return cipher.NewGCM(block)
}

// encrypt seals plaintext for storage key path under aead with the given
// term, using a fresh random nonce and the path as additional data.
func encrypt(aead cipher.AEAD, term uint32, path string, plaintext []byte) []byte {
	out := make([]byte, headerLen, headerLen+len(plaintext)+aead.Overhead())
	out[0] = blobVersion
	binary.BigEndian.PutUint32(out[1:1+termLen], term)
	nonce := out[1+termLen : headerLen]
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	return aead.Seal(out, nonce, plaintext, []byte(path))
}

// parseBlob splits a stored blob into its term, nonce and ciphertext.
func parseBlob(blob []byte) (term uint32, nonce, ciphertext []byte, err error) {
	if len(blob) < headerLen {
		return 0, nil, nil, fmt.Errorf("%w: blob too short", ErrTampered)
	}
	if blob[0] != blobVersion {
		return 0, nil, nil, fmt.Errorf("%w: unknown blob version %d", ErrTampered, blob[0])
	}
	term = binary.BigEndian.Uint32(blob[1 : 1+termLen])
	return term, blob[1+termLen : headerLen], blob[headerLen:], nil
}

// decrypt opens a blob stored at path with the keyring's term keys.
func (kr *keyring) decrypt(path string, blob []byte) ([]byte, error) {
	term, nonce, ct, err := parseBlob(blob)
	if err != nil {
		return nil, err
	}
	tk := kr.terms[term]
	if tk == nil {
		return nil, fmt.Errorf("%w: unknown key term %d", ErrTampered, term)
	}
	pt, err := tk.aead.Open(nil, nonce, ct, []byte(path))
	if err != nil {
		return nil, ErrTampered
	}
	return pt, nil
}

// randomKey returns keyLen bytes from crypto/rand.
func randomKey() []byte {
	k := make([]byte, keyLen)
	_, _ = rand.Read(k)
	return k
}
