package logical

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConvertField(t *testing.T) {
	cases := []struct {
		name string
		typ  FieldType
		in   any
		want any
		bad  bool
	}{
		{"string", TypeString, "x", "x", false},
		{"string from number", TypeString, json.Number("12"), "12", false},
		{"string from object", TypeString, map[string]any{}, nil, true},
		{"int", TypeInt, json.Number("42"), 42, false},
		{"int from string", TypeInt, "7", 7, false},
		{"int from float", TypeInt, 3.0, 3, false},
		{"int fraction", TypeInt, 3.5, nil, true},
		{"int garbage", TypeInt, "seven", nil, true},
		{"bool", TypeBool, true, true, false},
		{"bool string", TypeBool, "false", false, false},
		{"bool garbage", TypeBool, "maybe", nil, true},
		{"duration seconds", TypeDurationSecond, json.Number("90"), 90 * time.Second, false},
		{"duration string", TypeDurationSecond, "1h30m", 90 * time.Minute, false},
		{"duration days", TypeDurationSecond, "7d", 7 * 24 * time.Hour, false},
		{"duration numeric string", TypeDurationSecond, "60", time.Minute, false},
		{"duration negative", TypeDurationSecond, "-5s", nil, true},
		{"duration garbage", TypeDurationSecond, "soon", nil, true},
		{"duration huge", TypeDurationSecond, json.Number("99999999999999999999"), nil, true},
		{"slice", TypeStringSlice, []any{"a", "b"}, []string{"a", "b"}, false},
		{"slice single", TypeStringSlice, "a,b", []string{"a,b"}, false},
		{"comma slice", TypeCommaStringSlice, "a, b,,c", []string{"a", "b", "c"}, false},
		{"slice bad", TypeStringSlice, []any{map[string]any{}}, nil, true},
		{"map", TypeMap, map[string]any{"a": 1.0}, map[string]any{"a": 1.0}, false},
		{"map bad", TypeMap, "x", nil, true},
		{"kv pairs", TypeKVPairs, map[string]any{"a": "b"}, map[string]string{"a": "b"}, false},
		{"kv pairs list", TypeKVPairs, []any{"a=b", "c=d=e"}, map[string]string{"a": "b", "c": "d=e"}, false},
		{"kv pairs bad", TypeKVPairs, []any{"nope"}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := convertField(&FieldSchema{Type: tc.typ}, tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("want error, got %v", got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestFieldDataValidateAndDecode(t *testing.T) {
	schema := map[string]*FieldSchema{
		"name":  {Type: TypeString, Required: true},
		"ttl":   {Type: TypeDurationSecond, Default: "1h"},
		"mode":  {Type: TypeString, AllowedValues: []string{"a", "b"}},
		"count": {Type: TypeInt},
	}
	d := &FieldData{Raw: map[string]any{"count": json.Number("3"), "extra": 1}, Schema: schema}
	if err := d.Validate(UpdateOperation); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("missing required on write: %v", err)
	}
	if err := d.Validate(ReadOperation); err != nil {
		t.Fatalf("required enforced on read: %v", err)
	}
	d.Raw["name"], d.Raw["mode"] = "n", "c"
	if err := d.Validate(UpdateOperation); err == nil {
		t.Fatal("value outside AllowedValues accepted")
	}
	d.Raw["mode"] = "a"
	var out struct {
		Name  string        `json:"name"`
		TTL   time.Duration `json:"ttl"`
		Count int           `json:"count"`
	}
	if err := d.Decode(&out); err != nil || out.Name != "n" || out.TTL != time.Hour || out.Count != 3 {
		t.Fatalf("decode: %+v, %v", out, err)
	}
	if u := d.Unknown(); !reflect.DeepEqual(u, []string{"extra"}) {
		t.Fatalf("unknown = %v", u)
	}
}

// FuzzFieldConversion: any JSON value for any field type converts or gives
// an ErrInvalidRequest, never a panic.
func FuzzFieldConversion(f *testing.F) {
	for _, s := range []string{`"1h"`, `12`, `-1`, `1e400`, `["a",1]`, `{"a":"b"}`, `null`, `true`, `"7d"`, `99999999999999999999`} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, raw string, typ uint8) {
		var v any
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			return
		}
		ft := FieldType(int(typ)%int(TypeRaw) + 1)
		d := &FieldData{Raw: map[string]any{"f": v}, Schema: map[string]*FieldSchema{"f": {Type: ft}}}
		if err := d.Validate(UpdateOperation); err != nil && !errors.Is(err, ErrInvalidRequest) {
			t.Fatalf("non-user error: %v", err)
		}
		_ = d.Get("f")
	})
}
