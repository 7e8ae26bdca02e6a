package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// versionMeta is what a secret's record knows about one version.
type versionMeta struct {
	Num       uint64
	Created   int64 // unix nanoseconds
	Deletion  int64 // unix nanoseconds; 0 = no deletion time
	Destroyed bool
}

// deleted reports whether the version's deletion time has passed at now.
func (v *versionMeta) deleted(now int64) bool {
	return v.Deletion != 0 && v.Deletion <= now
}

// secretMeta is one secret's record: its metadata, its version index and the
// data of its current version. See the package doc for the invariants.
type secretMeta struct {
	Current            uint64
	Oldest             uint64
	Created            int64
	Updated            int64
	MaxVersions        uint32
	CASRequired        bool
	DeleteVersionAfter time.Duration
	Custom             map[string]string
	Versions           []versionMeta // ascending by Num
	Data               []byte        // JSON object of the current version; nil if none
}

// version returns the metadata of version n, or nil.
func (m *secretMeta) version(n uint64) *versionMeta {
	if len(m.Versions) == 0 || n < m.Versions[0].Num {
		return nil
	}
	i := n - m.Versions[0].Num
	if i >= uint64(len(m.Versions)) {
		return nil
	}
	if v := &m.Versions[i]; v.Num == n {
		return v
	}
	// Not contiguous (should not happen): fall back to a scan.
	for i := range m.Versions {
		if m.Versions[i].Num == n {
			return &m.Versions[i]
		}
	}
	return nil
}

// Record formats. The first byte of every stored value names its format so
// the layout can evolve.
const (
	metaFormat1    byte = 1
	versionFormat1 byte = 1
)

const (
	flagCASRequired byte = 1 << iota
	flagHasData
)

var errCorrupt = errors.New("kv: corrupt storage record")

// marshal encodes the record.
func (m *secretMeta) marshal() []byte {
	n := 64 + len(m.Data) + len(m.Versions)*24
	for k, v := range m.Custom {
		n += len(k) + len(v) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, metaFormat1)
	b = binary.AppendUvarint(b, m.Current)
	b = binary.AppendUvarint(b, m.Oldest)
	b = binary.AppendVarint(b, m.Created)
	b = binary.AppendVarint(b, m.Updated)
	b = binary.AppendUvarint(b, uint64(m.MaxVersions))
	var flags byte
	if m.CASRequired {
		flags |= flagCASRequired
	}
	if m.Data != nil {
		flags |= flagHasData
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, int64(m.DeleteVersionAfter))
	b = binary.AppendUvarint(b, uint64(len(m.Custom)))
	for _, k := range sortedKeys(m.Custom) {
		b = appendBytes(b, k)
		b = appendBytes(b, m.Custom[k])
	}
	b = binary.AppendUvarint(b, uint64(len(m.Versions)))
	for _, v := range m.Versions {
		b = binary.AppendUvarint(b, v.Num)
		b = binary.AppendVarint(b, v.Created)
		b = binary.AppendVarint(b, v.Deletion)
		if v.Destroyed {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	if m.Data != nil {
		b = appendBytes(b, string(m.Data))
	}
	return b
}

func appendBytes(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// unmarshalMeta decodes a record. The returned Data aliases b.
func unmarshalMeta(b []byte) (*secretMeta, error) {
	if len(b) == 0 || b[0] != metaFormat1 {
		return nil, fmt.Errorf("%w: unknown metadata format", errCorrupt)
	}
	r := reader{b: b[1:]}
	m := &secretMeta{
		Current: r.uvarint(),
		Oldest:  r.uvarint(),
		Created: r.varint(),
		Updated: r.varint(),
	}
	maxV := r.uvarint()
	if maxV > 1<<32-1 {
		r.fail()
	}
	m.MaxVersions = uint32(maxV)
	flags := r.byte()
	m.CASRequired = flags&flagCASRequired != 0
	m.DeleteVersionAfter = time.Duration(r.varint())
	if n := r.count(2); n > 0 {
		m.Custom = make(map[string]string, n)
		for range n {
			k := r.bytes()
			m.Custom[string(k)] = string(r.bytes())
		}
	}
	if n := r.count(4); n > 0 {
		m.Versions = make([]versionMeta, n)
		for i := range m.Versions {
			v := &m.Versions[i]
			v.Num, v.Created, v.Deletion = r.uvarint(), r.varint(), r.varint()
			v.Destroyed = r.byte() != 0
		}
	}
	if flags&flagHasData != 0 {
		m.Data = r.bytes()
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: malformed metadata", errCorrupt)
	}
	return m, nil
}

// marshalVersion encodes the data of an older version.
func marshalVersion(data []byte) []byte {
	b := make([]byte, 0, len(data)+1)
	b = append(b, versionFormat1)
	return append(b, data...)
}

// unmarshalVersion returns the JSON data of an older version (aliasing b).
func unmarshalVersion(b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] != versionFormat1 {
		return nil, fmt.Errorf("%w: unknown version format", errCorrupt)
	}
	return b[1:], nil
}

// reader decodes varints, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

// count reads an element count and rejects one that cannot fit in the
// remaining input, given each element takes at least minSize bytes, so a
// corrupt record cannot make the decoder allocate without bound.
func (r *reader) count(minSize int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/minSize) {
		r.fail()
		return 0
	}
	return int(n)
}
