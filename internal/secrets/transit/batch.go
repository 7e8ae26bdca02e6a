package transit

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// maxReportedFailures bounds how many item errors a failed batch's error
// message lists.
const maxReportedFailures = 5

// batchItem is one element of batch_input, or the fields of a request
// without batch_input. It tells a field sent empty from one not sent.
type batchItem struct {
	fields     map[string]string
	keyVersion int
}

func (it batchItem) get(name string) string { return it.fields[name] }

func (it batchItem) has(name string) bool {
	_, ok := it.fields[name]
	return ok
}

// requestItems returns the items of a request: the elements of
// batch_input when it was sent (batch is then true), else one item made of
// the request's own fields. stringFields are the item fields to read; an
// item's key_version is read too.
func requestItems(d *logical.FieldData, stringFields ...string) (items []batchItem, batch bool, err error) {
	if raw, ok := d.Raw["batch_input"]; ok && raw != nil {
		items, err = decodeBatch(raw, stringFields)
		if err == nil && len(items) == 0 {
			err = logical.InvalidRequest("missing batch input to process")
		}
		return items, true, err
	}
	it := batchItem{fields: map[string]string{}}
	for _, f := range stringFields {
		if _, known := d.Schema[f]; !known {
			continue
		}
		if v, ok, _ := d.GetOk(f); ok {
			it.fields[f] = v.(string)
		}
	}
	if _, known := d.Schema["key_version"]; known {
		it.keyVersion = integer(d, "key_version")
	}
	return []batchItem{it}, false, nil
}

// decodeBatch decodes batch_input: a list of objects whose known fields
// are strings (null counts as not sent) and whose key_version is an
// integer. Unknown fields are ignored, as Vault does.
func decodeBatch(raw any, stringFields []string) ([]batchItem, error) {
	list, ok := raw.([]any)
	if !ok {
		return nil, logical.InvalidRequest("failed to parse batch input: batch_input must be a list of objects")
	}
	items := make([]batchItem, len(list))
	for i, x := range list {
		obj, ok := x.(map[string]any)
		if !ok {
			return nil, logical.InvalidRequest("failed to parse batch input: [%d] expected an object", i)
		}
		it := batchItem{fields: make(map[string]string, len(stringFields))}
		for _, f := range stringFields {
			switch v := obj[f].(type) {
			case nil:
			case string:
				it.fields[f] = v
			default:
				return nil, logical.InvalidRequest("failed to parse batch input: '[%d].%s' expected type 'string', got unconvertible type '%T'", i, f, v)
			}
		}
		if v, sent := obj["key_version"]; sent && v != nil {
			n, err := batchInt(v)
			if err != nil {
				return nil, logical.InvalidRequest("failed to parse batch input: '[%d].key_version' %v", i, err)
			}
			it.keyVersion = n
		}
		items[i] = it
	}
	return items, nil
}

// batchInt converts a JSON number (or numeric string) to an int.
func batchInt(v any) (int, error) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(x.String(), 10, 32)
		if err != nil {
			return 0, errors.New("must be an integer")
		}
		return int(n), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
			return 0, errors.New("must be an integer")
		}
		return int(x), nil
	case int:
		return x, nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 32)
		if err != nil {
			return 0, errors.New("must be an integer")
		}
		return int(n), nil
	}
	return 0, fmt.Errorf("expected type 'int', got unconvertible type '%T'", v)
}

// consistentContext reports whether the items carry a context, refusing a
// mix (a key is derived or it is not).
func consistentContext(items []batchItem) (bool, error) {
	set := items[0].get("context") != ""
	for _, it := range items[1:] {
		if (it.get("context") != "") != set {
			return false, logical.InvalidRequest("context should be set either in all the request blocks or in none")
		}
	}
	return set, nil
}

// itemError returns the message of a per-item failure, or the error
// itself when it is internal (it then fails the whole request).
func itemError(err error) (string, error) {
	if msg, ok := logical.UserMessage(err); ok {
		return msg, nil
	}
	return "", err
}

// failures collects the errors of a batch for the request's error message.
type failures struct {
	n    int
	msgs []string
}

func (f *failures) add(i int, msg string) {
	f.n++
	if len(f.msgs) < maxReportedFailures {
		f.msgs = append(f.msgs, fmt.Sprintf("batch item %d: %s", i, msg))
	}
}

// outcome finishes an encrypt or decrypt batch the way Vault does: when
// an item failed, the response carries every result but the request is an
// invalid request (400), unless some item succeeded and the caller asked
// with partial_failure_response_code for a success status. The HTTP layer
// shows the error message, which names the failed items.
func (f *failures) outcome(d *logical.FieldData, resp *logical.Response, total int, succeeded bool) (*logical.Response, error) {
	if f.n == 0 {
		return resp, nil
	}
	if code, sent, _ := d.GetOk("partial_failure_response_code"); sent && succeeded {
		c := code.(int)
		if c >= 200 && c < 300 {
			if c != 200 {
				resp.AddWarning(fmt.Sprintf("partial_failure_response_code %d is answered with status 200", c))
			}
			return resp, nil
		}
	}
	more := ""
	if f.n > len(f.msgs) {
		more = fmt.Sprintf("; and %d more", f.n-len(f.msgs))
	}
	return resp, logical.InvalidRequest("%d of %d batch items failed: %s%s", f.n, total, strings.Join(f.msgs, "; "), more)
}
