package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
	"sync/atomic"
)

// HashPrefix starts every hashed value.
const HashPrefix = "hmac-sha256:"

// hasher replaces sensitive values by their HMAC under one device's salt.
// A nil key means log_raw: values pass through unchanged.
type hasher struct {
	key   []byte
	pool  *sync.Pool // of keyed HMAC states, reset before each use
	cache *macCache  // of tokens and accessors, which recur on every request
}

func newHasher(key []byte) hasher {
	if key == nil {
		return hasher{}
	}
	return hasher{key: key, pool: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}, cache: &macCache{}}
}

// macCacheSize bounds a device's cache of token and accessor HMACs; when
// full it is emptied.
const macCacheSize = 8192

type macCache struct {
	m sync.Map // string -> string
	n atomic.Int64
}

// cached returns hash(s), remembering it: for tokens and accessors, which
// every request of a client repeats.
func (h hasher) cached(s string) string {
	if v, ok := h.cache.m.Load(s); ok {
		return v.(string)
	}
	v := h.hash(s)
	if h.cache.n.Add(1) > macCacheSize {
		h.cache.m.Clear()
		h.cache.n.Store(0)
	}
	h.cache.m.Store(s, v)
	return v
}

// hash returns "hmac-sha256:<hex>" of s.
func (h hasher) hash(s string) string {
	if h.key == nil {
		return s
	}
	return string(h.appendMAC(make([]byte, 0, len(HashPrefix)+2*sha256.Size), []byte(s)))
}

// appendMAC appends "hmac-sha256:<hex>" of b to dst.
func (h hasher) appendMAC(dst, b []byte) []byte {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	m.Write(b)
	var sum [sha256.Size]byte
	dst = append(dst, HashPrefix...)
	dst = hex.AppendEncode(dst, m.Sum(sum[:0]))
	h.pool.Put(m)
	return dst
}
