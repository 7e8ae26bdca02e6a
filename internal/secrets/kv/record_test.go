package kv

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	tests := []*secretMeta{
		{},
		{Current: 3, Oldest: 1, Created: 1, Updated: -5, MaxVersions: 1<<32 - 1, CASRequired: true,
			DeleteVersionAfter: -time.Second, Custom: map[string]string{"a": "b", "ü": ""},
			Versions: []versionMeta{{Num: 2, Created: 10, Deletion: 20}, {Num: 3, Created: 30, Destroyed: true}},
			Data:     []byte(`{"k":"v"}`)},
		{Current: 1, Versions: []versionMeta{{Num: 1, Created: 1}}, Data: []byte{}},
	}
	for i, m := range tests {
		got, err := unmarshalMeta(m.marshal())
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("%d: round trip\n got %+v\nwant %+v", i, got, m)
		}
	}
}

func TestRecordCorrupt(t *testing.T) {
	good := (&secretMeta{Current: 1, Versions: []versionMeta{{Num: 1}}, Data: []byte("{}")}).marshal()
	for _, b := range [][]byte{nil, {0}, {9}, good[:len(good)-1], append(bytes.Clone(good), 0)} {
		if _, err := unmarshalMeta(b); !errors.Is(err, errCorrupt) {
			t.Errorf("%x: err %v, want errCorrupt", b, err)
		}
	}
	if _, err := unmarshalVersion([]byte("{}")); !errors.Is(err, errCorrupt) {
		t.Errorf("unframed version: %v", err)
	}
}

// FuzzRecord checks that decoding arbitrary bytes never panics and that
// whatever decodes re-encodes to the same bytes.
func FuzzRecord(f *testing.F) {
	f.Add((&secretMeta{}).marshal())
	f.Add((&secretMeta{Current: 2, Custom: map[string]string{"k": "v"},
		Versions: []versionMeta{{Num: 1}, {Num: 2, Deletion: 5}}, Data: []byte(`{"a":1}`)}).marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := unmarshalMeta(b)
		if err != nil {
			return
		}
		again, err := unmarshalMeta(m.marshal())
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("re-encode of a decoded record differs: %v", err)
		}
	})
}
