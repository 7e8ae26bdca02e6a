package logical

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FieldType is the type of a path field; input is converted to it.
type FieldType int

// Field types. Values after conversion: TypeString/TypeNameString string,
// TypeInt int, TypeBool bool, TypeDurationSecond time.Duration,
// TypeStringSlice/TypeCommaStringSlice []string, TypeMap map[string]any,
// TypeKVPairs map[string]string, TypeRaw any (as decoded from JSON).
const (
	TypeString FieldType = iota + 1
	TypeNameString
	TypeInt
	TypeBool
	TypeDurationSecond
	TypeStringSlice
	TypeCommaStringSlice
	TypeMap
	TypeKVPairs
	TypeRaw
)

func (t FieldType) String() string {
	switch t {
	case TypeString, TypeNameString:
		return "string"
	case TypeInt:
		return "int"
	case TypeBool:
		return "bool"
	case TypeDurationSecond:
		return "duration"
	case TypeStringSlice, TypeCommaStringSlice:
		return "array"
	case TypeMap, TypeKVPairs:
		return "map"
	default:
		return "any"
	}
}

// FieldSchema declares one field of a path.
type FieldSchema struct {
	Type        FieldType
	Default     any
	Description string
	Required    bool
	// AllowedValues, when set, restricts string fields.
	AllowedValues []string
}

// FieldData is the raw input of a request matched against a path's schema.
type FieldData struct {
	Raw    map[string]any
	Schema map[string]*FieldSchema
}

// GetOk returns the converted value of a field and whether it was sent.
// A value that does not convert yields an ErrInvalidRequest error.
func (d *FieldData) GetOk(name string) (any, bool, error) {
	s, ok := d.Schema[name]
	if !ok {
		return nil, false, fmt.Errorf("field %q not in schema", name)
	}
	raw, ok := d.Raw[name]
	if !ok || raw == nil {
		return nil, false, nil
	}
	v, err := convertField(s, raw)
	if err != nil {
		return nil, false, InvalidRequest("invalid value for %q: %v", name, err)
	}
	return v, true, nil
}

// Get returns the converted value or the schema default (or the zero value
// of the type). Conversion errors are reported by Validate, which the
// framework runs before any handler.
func (d *FieldData) Get(name string) any {
	v, ok, err := d.GetOk(name)
	if err == nil && ok {
		return v
	}
	s := d.Schema[name]
	if s == nil {
		return nil
	}
	if s.Default != nil {
		if dv, err := convertField(s, s.Default); err == nil {
			return dv
		}
	}
	return zeroOf(s.Type)
}

// Validate converts every sent field and checks required ones. Required
// fields are only enforced for writes (create, update, patch).
func (d *FieldData) Validate(op Operation) error {
	write := op == CreateOperation || op == UpdateOperation || op == PatchOperation
	names := make([]string, 0, len(d.Schema))
	for n := range d.Schema {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := d.Schema[n]
		v, ok, err := d.GetOk(n)
		if err != nil {
			return err
		}
		if !ok && s.Required && write {
			return InvalidRequest("missing required field %q", n)
		}
		if ok && len(s.AllowedValues) > 0 {
			str, _ := v.(string)
			if !contains(s.AllowedValues, str) {
				return InvalidRequest("invalid value for %q: must be one of %s", n, strings.Join(s.AllowedValues, ", "))
			}
		}
	}
	return nil
}

// Decode fills the struct pointed to by dst with every schema field
// (converted, defaults applied) matched by the struct's json tags.
// time.Duration fields receive durations.
func (d *FieldData) Decode(dst any) error {
	m := make(map[string]any, len(d.Schema))
	for n := range d.Schema {
		v := d.Get(n)
		if dur, ok := v.(time.Duration); ok {
			v = int64(dur)
		}
		m[n] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// Unknown returns the sorted names of sent fields that are not in the schema.
func (d *FieldData) Unknown() []string {
	var out []string
	for k := range d.Raw {
		if _, ok := d.Schema[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func zeroOf(t FieldType) any {
	switch t {
	case TypeString, TypeNameString:
		return ""
	case TypeInt:
		return 0
	case TypeBool:
		return false
	case TypeDurationSecond:
		return time.Duration(0)
	case TypeStringSlice, TypeCommaStringSlice:
		return []string{}
	case TypeMap:
		return map[string]any{}
	case TypeKVPairs:
		return map[string]string{}
	}
	return nil
}

func convertField(s *FieldSchema, raw any) (any, error) {
	switch s.Type {
	case TypeString, TypeNameString:
		return toString(raw)
	case TypeInt:
		return toInt(raw)
	case TypeBool:
		return toBool(raw)
	case TypeDurationSecond:
		return ParseDuration(raw)
	case TypeStringSlice:
		return toStringSlice(raw, false)
	case TypeCommaStringSlice:
		return toStringSlice(raw, true)
	case TypeMap:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("expected a JSON object")
		}
		return m, nil
	case TypeKVPairs:
		return toKVPairs(raw)
	default:
		return raw, nil
	}
}

func toString(raw any) (string, error) {
	switch v := raw.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", fmt.Errorf("expected a string")
}

func toInt(raw any) (int, error) {
	switch v := raw.(type) {
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32*1024.0 {
			return 0, fmt.Errorf("expected an integer")
		}
		return int(v), nil
	case json.Number:
		return toIntString(v.String())
	case string:
		return toIntString(v)
	}
	return 0, fmt.Errorf("expected an integer")
}

func toIntString(s string) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("expected an integer")
	}
	return int(n), nil
}

func toBool(raw any) (bool, error) {
	switch v := raw.(type) {
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("expected a boolean")
		}
		return b, nil
	case float64:
		return v != 0, nil
	case int:
		return v != 0, nil
	}
	return false, fmt.Errorf("expected a boolean")
}

// ParseDuration accepts a number of seconds (number or numeric string) or
// a Go duration string with an optional "d" day unit ("90s", "1h", "7d").
func ParseDuration(raw any) (time.Duration, error) {
	switch v := raw.(type) {
	case time.Duration:
		return v, nil
	case int:
		return time.Duration(v) * time.Second, nil
	case int64:
		return time.Duration(v) * time.Second, nil
	case float64:
		if v < 0 || v > math.MaxInt64/float64(time.Second) {
			return 0, fmt.Errorf("duration out of range")
		}
		return time.Duration(v * float64(time.Second)), nil
	case json.Number:
		return ParseDuration(v.String())
	case string:
		return parseDurationString(strings.TrimSpace(v))
	}
	return 0, fmt.Errorf("expected a duration")
}

func parseDurationString(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("duration out of range")
		}
		return time.Duration(n) * time.Second, nil
	}
	if strings.HasSuffix(s, "d") {
		n, err := strconv.ParseInt(strings.TrimSuffix(s, "d"), 10, 64)
		if err != nil || n < 0 || n > 365*1000 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration must not be negative")
	}
	return d, nil
}

func toStringSlice(raw any, comma bool) ([]string, error) {
	switch v := raw.(type) {
	case []string:
		return v, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, err := toString(x)
			if err != nil {
				return nil, fmt.Errorf("expected a list of strings")
			}
			out = append(out, s)
		}
		return out, nil
	case string:
		if v == "" {
			return []string{}, nil
		}
		if !comma {
			return []string{v}, nil
		}
		parts := strings.Split(v, ",")
		out := make([]string, 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a list of strings")
}

func toKVPairs(raw any) (map[string]string, error) {
	switch v := raw.(type) {
	case map[string]string:
		return v, nil
	case map[string]any:
		out := make(map[string]string, len(v))
		for k, x := range v {
			s, err := toString(x)
			if err != nil {
				return nil, fmt.Errorf("value of %q must be a string", k)
			}
			out[k] = s
		}
		return out, nil
	case []any:
		out := make(map[string]string, len(v))
		for _, x := range v {
			s, ok := x.(string)
			k, val, found := strings.Cut(s, "=")
			if !ok || !found {
				return nil, fmt.Errorf("expected key=value pairs")
			}
			out[k] = val
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a map of strings")
}
