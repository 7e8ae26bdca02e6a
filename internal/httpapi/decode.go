package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/kinko-dev/kinko/internal/logical"
)

// rawBodyTypes are the request media types whose body is handed to the
// engine as bytes (logical.HTTPRawBodyKey) instead of decoded as JSON:
// binary protocols such as an OCSP request.
var rawBodyTypes = map[string]bool{"application/ocsp-request": true}

// DefaultMaxRequestSize bounds request bodies (Vault's default: 32 MiB).
const DefaultMaxRequestSize = 32 << 20

// apiPath extracts and validates the path below /v1/.
func apiPath(raw string) (string, error) {
	p, ok := strings.CutPrefix(raw, "/v1/")
	if !ok {
		return "", logical.Errorf(logical.ErrUnsupportedPath, "unsupported path: requests go to /v1/...")
	}
	if p == "" {
		return "", logical.Errorf(logical.ErrUnsupportedPath, "missing path after /v1/")
	}
	check := p
	if i := strings.Index(p, "/ocsp/"); i > 0 {
		// An OCSP GET carries a base64 request as the rest of the path,
		// which may hold "//": only the part before it is checked.
		check = p[:i+len("/ocsp")]
	}
	if strings.Contains(check, "//") || strings.HasPrefix(check, "/") {
		return "", logical.InvalidRequest("invalid path %q: empty segment", p)
	}
	for _, seg := range strings.Split(check, "/") {
		if seg == "." || seg == ".." {
			return "", logical.InvalidRequest("invalid path %q: relative segment", p)
		}
	}
	return p, nil
}

// operationFor maps an HTTP method (and query) to an operation.
func operationFor(r *http.Request, q url.Values) (logical.Operation, error) {
	if h := q.Get("help"); h == "1" || h == "true" {
		return logical.HelpOperation, nil
	}
	switch r.Method {
	case http.MethodGet:
		if l := q.Get("list"); l == "true" || l == "1" {
			return logical.ListOperation, nil
		}
		return logical.ReadOperation, nil
	case "LIST":
		return logical.ListOperation, nil
	case http.MethodPost, http.MethodPut:
		return logical.UpdateOperation, nil
	case http.MethodPatch:
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/merge-patch+json" {
			return "", errUnsupportedMedia
		}
		return logical.PatchOperation, nil
	case http.MethodDelete:
		return logical.DeleteOperation, nil
	}
	return "", logical.Errorf(logical.ErrUnsupportedOp, "unsupported method %s", r.Method)
}

var errUnsupportedMedia = errors.New("PATCH requires Content-Type: application/merge-patch+json")

// decodeBody reads a JSON object from body. An empty body is no data.
// Numbers are kept exact (json.Number).
func decodeBody(body []byte) (map[string]any, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || string(body) == "null" { // the Vault client sends null for no data
		return nil, nil
	}
	if body[0] != '{' {
		return nil, logical.InvalidRequest("failed to parse JSON input: the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, logical.InvalidRequest("failed to parse JSON input: %v", jsonErrText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, logical.InvalidRequest("failed to parse JSON input: unexpected data after the JSON object")
	}
	return m, nil
}

// jsonErrText describes a JSON syntax error without echoing the input
// (which may hold secrets).
func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "invalid JSON at byte offset " + itoa(se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "invalid JSON: the body must be a JSON object"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON input"
	}
	return "invalid JSON"
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// readBody reads at most limit bytes; more is ErrTooLarge.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.ContentLength == 0 {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, logical.Errorf(logical.ErrTooLarge, "request body too large: the limit is %d bytes", limit)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, logical.InvalidRequest("failed to read request body")
	}
	if int64(len(b)) > limit {
		return nil, logical.Errorf(logical.ErrTooLarge, "request body too large: the limit is %d bytes", limit)
	}
	return b, nil
}

// clientToken returns the token from X-Vault-Token or a Bearer header.
func clientToken(r *http.Request) string {
	if t := r.Header.Get("X-Vault-Token"); t != "" {
		return t
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// decodeRequest turns an HTTP request into a logical.Request (without
// Storage or Auth, which core fills in).
func decodeRequest(r *http.Request, limit int64) (*logical.Request, error) {
	path, err := apiPath(r.URL.Path)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	op, err := operationFor(r, q)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r, limit)
	if err != nil {
		return nil, err
	}
	var data map[string]any
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); rawBodyTypes[ct] {
		data = map[string]any{logical.HTTPRawBodyKey: body}
	} else if data, err = decodeBody(body); err != nil {
		return nil, err
	}
	if op == logical.ReadOperation || op == logical.ListOperation || op == logical.DeleteOperation {
		data = mergeQuery(data, q)
	}
	if op == logical.ListOperation && !strings.HasSuffix(path, "/") {
		path += "/"
	}
	req := &logical.Request{Operation: op, Path: path, Data: data, ClientToken: clientToken(r),
		Conn: &logical.Connection{RemoteAddr: r.RemoteAddr, ConnState: r.TLS}}
	if h := r.Header.Get("X-Vault-Wrap-TTL"); h != "" {
		ttl, err := logical.ParseDuration(h)
		if err != nil || ttl <= 0 {
			return nil, logical.InvalidRequest("invalid X-Vault-Wrap-TTL %q: use a positive duration such as 60s or 5m", h)
		}
		req.WrapTTL = ttl
	}
	return req, nil
}

func mergeQuery(data map[string]any, q url.Values) map[string]any {
	for k, v := range q {
		if k == "list" || k == "help" || len(v) == 0 {
			continue
		}
		if data == nil {
			data = make(map[string]any, len(q))
		}
		data[k] = v[0]
	}
	return data
}
