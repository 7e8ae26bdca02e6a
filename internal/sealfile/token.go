package sealfile

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

const (
	tokenPrefix = "KINKO[AES256_GCM,"
	nonceSize   = 12
	tagSize     = 16
	dataKeySize = 32
	aadDomain   = "kinko-sealfile-v1"
)

// Value types recorded in a token.
const (
	typeStr       = "str"
	typeInt       = "int"
	typeFloat     = "float"
	typeBool      = "bool"
	typeTimestamp = "timestamp"
	typeBinary    = "binary"
)

func validType(t string) bool {
	switch t {
	case typeStr, typeInt, typeFloat, typeBool, typeTimestamp, typeBinary:
		return true
	}
	return false
}

// token is one parsed encrypted value.
type token struct {
	data, iv, tag []byte
	typ           string
}

// String renders the token in its one textual form.
func (t *token) String() string {
	enc := base64.StdEncoding
	return tokenPrefix + "data:" + enc.EncodeToString(t.data) + ",iv:" + enc.EncodeToString(t.iv) +
		",tag:" + enc.EncodeToString(t.tag) + ",type:" + t.typ + "]"
}

// isToken reports whether s looks like a token (it may still be malformed).
func isToken(s string) bool { return strings.HasPrefix(s, tokenPrefix) }

// parseToken parses the exact form String writes; anything else is an
// error naming what is wrong, never the value.
func parseToken(s string) (*token, error) {
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok {
		return nil, fmt.Errorf("not a KINKO[AES256_GCM,...] token")
	}
	if strings.ContainsAny(rest, "\r\n") {
		return nil, fmt.Errorf("token spans lines")
	}
	rest, ok = strings.CutSuffix(rest, "]")
	if !ok {
		return nil, fmt.Errorf("token does not end with ]")
	}
	parts := strings.Split(rest, ",")
	names := []string{"data", "iv", "tag", "type"}
	if len(parts) != len(names) {
		return nil, fmt.Errorf("token must have the fields data, iv, tag and type")
	}
	var raw [3][]byte
	for i, name := range names[:3] {
		v, ok := strings.CutPrefix(parts[i], name+":")
		if !ok {
			return nil, fmt.Errorf("token field %d must be %s:", i+1, name)
		}
		b, err := base64.StdEncoding.Strict().DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("token field %s is not base64", name)
		}
		raw[i] = b
	}
	if len(raw[1]) != nonceSize || len(raw[2]) != tagSize {
		return nil, fmt.Errorf("token iv must be %d bytes and tag %d", nonceSize, tagSize)
	}
	typ, ok := strings.CutPrefix(parts[3], "type:")
	if !ok {
		return nil, fmt.Errorf("token field 4 must be type:")
	}
	if !validType(typ) {
		return nil, fmt.Errorf("token type is unknown (want str, int, float, bool, timestamp or binary)")
	}
	return &token{data: raw[0], iv: raw[1], tag: raw[2], typ: typ}, nil
}

// seg is one step of a path: a mapping key (or INI section, dotenv name)
// or a list index.
type seg struct {
	key   string
	index int
	isIdx bool
}

func keySeg(k string) seg   { return seg{key: k} }
func idxSeg(i int) seg      { return seg{index: i, isIdx: true} }
func pathOf(s ...seg) []seg { return s }

// displayPath renders a path for messages: db.password, servers[0].host.
func displayPath(p []seg) string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case s.isIdx:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case i > 0:
			b.WriteString("." + s.key)
		default:
			b.WriteString(s.key)
		}
	}
	if b.Len() == 0 {
		return "(top)"
	}
	return b.String()
}

// canonicalPath is an unambiguous byte encoding of a path: "k" and a
// length-prefixed key, or "i" and the index, per step.
func canonicalPath(p []seg) []byte {
	var out []byte
	for _, s := range p {
		if s.isIdx {
			out = append(out, 'i')
			out = binary.AppendUvarint(out, uint64(s.index))
			continue
		}
		out = append(out, 'k')
		out = binary.AppendUvarint(out, uint64(len(s.key)))
		out = append(out, s.key...)
	}
	return out
}

// keys holds the keys derived from one data key.
type keys struct {
	aead cipher.AEAD
	mac  []byte
}

func deriveKeys(dataKey []byte) (*keys, error) {
	if len(dataKey) != dataKeySize {
		return nil, fmt.Errorf("data key must be %d bytes", dataKeySize)
	}
	vk, err := hkdf.Key(sha256.New, dataKey, nil, "kinko sealfile v1 value key", 32)
	if err != nil {
		return nil, err
	}
	defer clear(vk)
	mk, err := hkdf.Key(sha256.New, dataKey, nil, "kinko sealfile v1 mac key", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(vk)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &keys{aead: aead, mac: mk}, nil
}

func (k *keys) wipe() { clear(k.mac) }

func valueAAD(typ string, canon []byte) []byte {
	aad := make([]byte, 0, len(aadDomain)+len(typ)+len(canon)+2)
	aad = append(aad, aadDomain...)
	aad = append(aad, 0)
	aad = append(aad, typ...)
	aad = append(aad, 0)
	return append(aad, canon...)
}

// encrypt seals one value at the place canon with a fresh random nonce.
func (k *keys) encrypt(plain, typ string, canon []byte) (*token, error) {
	iv := make([]byte, nonceSize)
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	out := k.aead.Seal(nil, iv, []byte(plain), valueAAD(typ, canon))
	n := len(out) - tagSize
	return &token{data: out[:n:n], iv: iv, tag: out[n:], typ: typ}, nil
}

// decrypt opens a token found at the place canon.
func (k *keys) decrypt(t *token, canon []byte) (string, error) {
	ct := make([]byte, 0, len(t.data)+len(t.tag))
	ct = append(append(ct, t.data...), t.tag...)
	plain, err := k.aead.Open(nil, t.iv, ct, valueAAD(t.typ, canon))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// macPath is the place the MAC token is bound to.
var macPath = canonicalPath(pathOf(keySeg("kinko mac")))

// macWriter accumulates the MAC input as length-prefixed fields.
type macWriter struct{ h hash.Hash }

func newMAC(k *keys) *macWriter {
	m := &macWriter{h: hmac.New(sha256.New, k.mac)}
	m.field([]byte("kinko-sealfile-mac-v1"))
	return m
}

func (m *macWriter) field(b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	m.h.Write(n[:])
	m.h.Write(b)
}

func (m *macWriter) str(s string) { m.field([]byte(s)) }

func (m *macWriter) sum() []byte { return m.h.Sum(nil) }
