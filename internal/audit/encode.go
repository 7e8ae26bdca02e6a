package audit

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// enc appends one audit entry as JSON without reflection: the hot path of
// every audited request. Field order and names follow Vault's entries.
type enc struct {
	b []byte
	h hasher
}

// str appends s as a JSON string.
func (e *enc) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			b, _ := json.Marshal(s) // rare: needs escaping; encoding/json gets it right
			e.b = append(e.b, b...)
			return
		}
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, s...)
	e.b = append(e.b, '"')
}

// field appends ,"name": (or "name": after an opening brace).
func (e *enc) field(name string) {
	if last := e.b[len(e.b)-1]; last != '{' && last != '[' {
		e.b = append(e.b, ',')
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, '"', ':')
}

// timeField appends t in RFC 3339 with nanoseconds, UTC.
func (e *enc) timeField(name string, t time.Time) {
	e.field(name)
	e.b = append(e.b, '"')
	e.b = t.UTC().AppendFormat(e.b, time.RFC3339Nano)
	e.b = append(e.b, '"')
}

func (e *enc) strField(name, v string) {
	if v == "" {
		return
	}
	e.field(name)
	e.str(v)
}

func (e *enc) intField(name string, v int64) {
	if v == 0 {
		return
	}
	e.field(name)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *enc) boolField(name string, v bool) {
	if !v {
		return
	}
	e.field(name)
	e.b = append(e.b, "true"...)
}

func (e *enc) strList(name string, l []string) {
	if len(l) == 0 {
		return
	}
	e.field(name)
	e.b = append(e.b, '[')
	for i, s := range l {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(s)
	}
	e.b = append(e.b, ']')
}

func (e *enc) strMap(name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	e.field(name)
	object(e, m, e.str)
}

// hashed appends the HMAC of s as a JSON string ("" stays absent).
func (e *enc) hashedField(name, s string) {
	if s == "" {
		return
	}
	e.field(name)
	if e.h.key == nil {
		e.str(s)
		return
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, e.h.cached(s)...)
	e.b = append(e.b, '"')
}

// dataField appends a data map with every string and number hashed.
func (e *enc) dataField(name string, m map[string]any) {
	if len(m) == 0 {
		return
	}
	e.field(name)
	e.value(m)
}

func (e *enc) value(v any) {
	switch x := v.(type) {
	case nil:
		e.b = append(e.b, "null"...)
	case bool:
		e.b = strconv.AppendBool(e.b, x)
	case string:
		e.leaf(x)
	case map[string]any:
		object(e, x, e.value)
	case []any:
		array(e, x, e.value)
	case map[string]string:
		object(e, x, e.leaf)
	case []string:
		array(e, x, e.leaf)
	default:
		e.other(x)
	}
}

// object appends m as a JSON object with sorted keys, each value by put.
func object[V any](e *enc, m map[string]V, put func(V)) {
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.b = append(e.b, '{')
	for _, k := range keys {
		e.field(k)
		put(m[k])
	}
	e.b = append(e.b, '}')
}

// array appends l as a JSON array, each element by put.
func array[V any](e *enc, l []V, put func(V)) {
	e.b = append(e.b, '[')
	for i, y := range l {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		put(y)
	}
	e.b = append(e.b, ']')
}

// other handles numbers and any other Go value an engine put in its data
// (structs, time.Time, typed slices): numbers are hashed by their decimal
// text, anything else by way of its JSON form.
func (e *enc) other(v any) {
	if e.h.key == nil {
		e.raw(v)
		return
	}
	switch x := v.(type) {
	case json.Number:
		e.leaf(x.String())
		return
	case float64:
		e.leaf(strconv.FormatFloat(x, 'f', -1, 64))
		return
	case int:
		e.leaf(strconv.Itoa(x))
		return
	case int64:
		e.leaf(strconv.FormatInt(x, 10))
		return
	case uint64:
		e.leaf(strconv.FormatUint(x, 10))
		return
	case time.Time:
		e.leaf(x.Format(time.RFC3339Nano))
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		e.leaf("<unencodable>")
		return
	}
	var generic any
	if err := decodeNumber(b, &generic); err != nil {
		e.leaf(string(b))
		return
	}
	if _, again := generic.(json.Number); !again {
		e.value(generic)
		return
	}
	e.leaf(generic.(json.Number).String())
}

// leaf appends a string value, hashed unless the device logs raw (an
// empty string stays empty: it hides nothing).
func (e *enc) leaf(s string) {
	if e.h.key == nil || s == "" {
		e.str(s)
		return
	}
	e.b = append(e.b, '"')
	e.b = e.h.appendMAC(e.b, []byte(s))
	e.b = append(e.b, '"')
}

// raw appends any value as encoding/json writes it (log_raw devices).
func (e *enc) raw(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		e.str("<unencodable>")
		return
	}
	e.b = append(e.b, b...)
}
