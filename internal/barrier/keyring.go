package barrier

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// keyringPath is the physical key of the keyring blob, encrypted under the
// root key with the path as additional data.
const keyringPath = "core/keyring"

// Keyring encoding (inside the encrypted blob), all integers big-endian:
// format (1) | active term (4) | count (4) | count × [term (4) | install
// time, Unix nanoseconds (8) | key (32)].
const (
	keyringFormat  = 1
	keyringHdrLen  = 1 + 4 + 4
	keyringItemLen = 4 + 8 + keyLen
)

// keyring is an immutable snapshot of the unsealed key material. Rotation
// builds a new keyring that shares the older term keys.
type keyring struct {
	rootKey  []byte
	rootAEAD cipher.AEAD
	active   *termKey
	terms    map[uint32]*termKey
}

func newKeyring(rootKey []byte) (*keyring, error) {
	root := append([]byte(nil), rootKey...)
	aead, err := newAEAD(root)
	if err != nil {
		clear(root)
		return nil, err
	}
	return &keyring{rootKey: root, rootAEAD: aead, terms: map[uint32]*termKey{}}, nil
}

// withNewTerm returns a copy of kr with a fresh random key one term above
// the highest, made active.
func (kr *keyring) withNewTerm(now time.Time) (*keyring, error) {
	var maxTerm uint32
	for t := range kr.terms {
		maxTerm = max(maxTerm, t)
	}
	if maxTerm == math.MaxUint32 {
		return nil, fmt.Errorf("barrier: key term space exhausted")
	}
	tk, err := newTermKey(maxTerm+1, randomKey(), now)
	if err != nil {
		return nil, err
	}
	next := &keyring{rootKey: kr.rootKey, rootAEAD: kr.rootAEAD, active: tk, terms: make(map[uint32]*termKey, len(kr.terms)+1)}
	for t, k := range kr.terms {
		next.terms[t] = k
	}
	next.terms[tk.term] = tk
	return next, nil
}

// seal encodes the keyring and encrypts it under the root key. The
// plaintext encoding is wiped before returning.
func (kr *keyring) seal() []byte {
	buf := make([]byte, keyringHdrLen, keyringHdrLen+len(kr.terms)*keyringItemLen)
	defer func() { clear(buf) }()
	buf[0] = keyringFormat
	binary.BigEndian.PutUint32(buf[1:5], kr.active.term)
	binary.BigEndian.PutUint32(buf[5:9], uint32(len(kr.terms)))
	for _, tk := range kr.terms {
		buf = binary.BigEndian.AppendUint32(buf, tk.term)
		buf = binary.BigEndian.AppendUint64(buf, uint64(tk.installed.UnixNano()))
		buf = append(buf, tk.key...)
	}
	return encrypt(kr.rootAEAD, rootTerm, keyringPath, buf)
}

// openKeyring decrypts the keyring blob with rootKey. A blob that does not
// authenticate yields ErrInvalidKey; one that authenticates but does not
// decode yields ErrTampered.
func openKeyring(rootKey, blob []byte) (*keyring, error) {
	kr, err := newKeyring(rootKey)
	if err != nil {
		return nil, err
	}
	term, nonce, ct, err := parseBlob(blob)
	if err != nil {
		kr.wipe()
		return nil, err
	}
	if term != rootTerm {
		kr.wipe()
		return nil, fmt.Errorf("%w: keyring blob has term %d", ErrTampered, term)
	}
	pt, err := kr.rootAEAD.Open(nil, nonce, ct, []byte(keyringPath))
	if err != nil {
		kr.wipe()
		return nil, ErrInvalidKey
	}
	defer clear(pt)
	if err := kr.decode(pt); err != nil {
		kr.wipe()
		return nil, err
	}
	return kr, nil
}

// decode fills kr.terms and kr.active from the plaintext encoding. Key
// bytes are copied, so the caller may wipe pt.
func (kr *keyring) decode(pt []byte) error {
	if len(pt) < keyringHdrLen || pt[0] != keyringFormat {
		return fmt.Errorf("%w: keyring has an unknown format", ErrTampered)
	}
	active := binary.BigEndian.Uint32(pt[1:5])
	count := int(binary.BigEndian.Uint32(pt[5:9]))
	body := pt[keyringHdrLen:]
	if count == 0 || len(body) != count*keyringItemLen {
		return fmt.Errorf("%w: keyring has a bad length", ErrTampered)
	}
	for i := range count {
		item := body[i*keyringItemLen : (i+1)*keyringItemLen]
		term := binary.BigEndian.Uint32(item[0:4])
		installed := time.Unix(0, int64(binary.BigEndian.Uint64(item[4:12]))).UTC()
		key := append([]byte(nil), item[12:]...)
		tk, err := newTermKey(term, key, installed)
		if err != nil {
			return err
		}
		kr.terms[term] = tk
	}
	kr.active = kr.terms[active]
	if kr.active == nil || len(kr.terms) != count {
		return fmt.Errorf("%w: keyring is inconsistent", ErrTampered)
	}
	return nil
}

// wipe zeroes every key buffer the keyring owns. The AEADs keep their own
// expanded keys, which Go does not let us clear; dropping the keyring makes
// them unreachable.
func (kr *keyring) wipe() {
	clear(kr.rootKey)
	for _, tk := range kr.terms {
		clear(tk.key)
	}
}
