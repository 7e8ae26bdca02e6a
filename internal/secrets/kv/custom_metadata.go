package kv

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/kinko-dev/kinko/internal/logical"
)

// Limits on custom_metadata, as Vault's.
const (
	maxCustomMetadataKeys        = 64
	maxCustomMetadataKeyLength   = 128
	maxCustomMetadataValueLength = 512
	customMetadataErrPrefix      = "custom_metadata validation failed"
)

// parseCustomMetadata converts a custom_metadata object to string pairs
// (numbers and booleans are converted as Vault's weak decoding does) and
// validates it. With dropNulls, null values (deletions in a patch) are left
// out. An empty result is nil.
func parseCustomMetadata(raw map[string]any, dropNulls bool) (map[string]string, error) {
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if dropNulls && v == nil {
			continue
		}
		s, err := weakString(v)
		if err != nil {
			return nil, logical.InvalidRequest("%s: value for key %q must be a string", customMetadataErrPrefix, k)
		}
		out[k] = s
	}
	if err := validateCustomMetadata(out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// mergeCustomMetadata applies a patch to existing custom metadata: a null
// value removes the key, any other value sets it. The result is validated
// as a whole, so a patch cannot grow a secret past the key limit.
func mergeCustomMetadata(existing map[string]string, patch map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(existing)+len(patch))
	maps.Copy(out, existing)
	for k, v := range patch {
		if v == nil {
			delete(out, k)
			continue
		}
		s, err := weakString(v)
		if err != nil {
			return nil, logical.InvalidRequest("%s: value for key %q must be a string", customMetadataErrPrefix, k)
		}
		out[k] = s
	}
	if err := validateCustomMetadata(out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// validateCustomMetadata checks Vault's limits and reports every problem
// in Vault's multi-error format.
func validateCustomMetadata(cm map[string]string) error {
	if n := len(cm); n > maxCustomMetadataKeys {
		return multiError([]string{fmt.Sprintf("%s: payload must contain at most %d keys, provided %d",
			customMetadataErrPrefix, maxCustomMetadataKeys, n)})
	}
	var errs []string
	for _, k := range sortedKeys(cm) {
		v := cm[k]
		if n := len(k); n == 0 || n > maxCustomMetadataKeyLength {
			errs = append(errs, fmt.Sprintf("%s: length of key %q is %d but must be 0 < len(key) <= %d",
				customMetadataErrPrefix, k, n, maxCustomMetadataKeyLength))
		}
		if n := len(v); n == 0 || n > maxCustomMetadataValueLength {
			errs = append(errs, fmt.Sprintf("%s: length of value for key %q is %d but must be 0 < len(value) <= %d",
				customMetadataErrPrefix, k, n, maxCustomMetadataValueLength))
		}
		if !printable(k) {
			errs = append(errs, fmt.Sprintf("%s: key %q (%s) contains unprintable characters", customMetadataErrPrefix, k, k))
		}
		if !printable(v) {
			errs = append(errs, fmt.Sprintf("%s: value for key %q contains unprintable characters", customMetadataErrPrefix, k))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return multiError(errs)
}

// multiError formats errors as hashicorp/go-multierror does, which is the
// text Vault returns.
func multiError(errs []string) error {
	if len(errs) == 1 {
		return logical.InvalidRequest("1 error occurred:\n\t* %s\n\n", errs[0])
	}
	return logical.InvalidRequest("%d errors occurred:\n\t* %s\n\n", len(errs), strings.Join(errs, "\n\t* "))
}

func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// weakString converts a JSON scalar to a string as Vault's weak decoding
// does (booleans become "1" and "0").
func weakString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	}
	return "", fmt.Errorf("not a scalar: %T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
