package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/logical"
)

func TestDecodeRequest(t *testing.T) {
	cases := []struct {
		name, method, url, body, ctype string
		wantOp                         logical.Operation
		wantPath                       string
		wantErr                        error
	}{
		{"get", "GET", "/v1/secret/data/a", "", "", logical.ReadOperation, "secret/data/a", nil},
		{"ocsp get with // in its base64", "GET", "/v1/pki/ocsp/MEow//ab+c==", "", "", logical.ReadOperation, "pki/ocsp/MEow//ab+c==", nil},
		{"empty segment", "GET", "/v1/secret//a", "", "", "", "", logical.ErrInvalidRequest},
		{"empty segment before ocsp", "GET", "/v1/pki//ocsp/MEow", "", "", "", "", logical.ErrInvalidRequest},
		{"get list", "GET", "/v1/secret/metadata?list=true", "", "", logical.ListOperation, "secret/metadata/", nil},
		{"LIST method", "LIST", "/v1/secret/metadata/", "", "", logical.ListOperation, "secret/metadata/", nil},
		{"post", "POST", "/v1/secret/data/a", `{"data":{"k":"v"}}`, "", logical.UpdateOperation, "secret/data/a", nil},
		{"put", "PUT", "/v1/secret/data/a", `{}`, "", logical.UpdateOperation, "secret/data/a", nil},
		{"delete", "DELETE", "/v1/secret/data/a", "", "", logical.DeleteOperation, "secret/data/a", nil},
		{"patch", "PATCH", "/v1/secret/data/a", `{"data":{}}`, "application/merge-patch+json", logical.PatchOperation, "secret/data/a", nil},
		{"help", "GET", "/v1/secret/data/a?help=1", "", "", logical.HelpOperation, "secret/data/a", nil},
		{"patch without merge type", "PATCH", "/v1/secret/data/a", `{}`, "application/json", "", "", errUnsupportedMedia},
		{"bad method", "TRACE", "/v1/secret/a", "", "", "", "", logical.ErrUnsupportedOp},
		{"malformed json", "POST", "/v1/secret/a", `{"a":`, "", "", "", logical.ErrInvalidRequest},
		{"json array", "POST", "/v1/secret/a", `[1,2]`, "", "", "", logical.ErrInvalidRequest},
		{"null body", "PUT", "/v1/sys/wrapping/unwrap", `null`, "", logical.UpdateOperation, "sys/wrapping/unwrap", nil},
		{"trailing data", "POST", "/v1/secret/a", `{"a":1} {"b":2}`, "", "", "", logical.ErrInvalidRequest},
		{"dot dot", "GET", "/v1/secret/../sys/raw", "", "", "", "", logical.ErrInvalidRequest},
		{"empty segment", "GET", "/v1/secret//a", "", "", "", "", logical.ErrInvalidRequest},
		{"no v1", "GET", "/v2/secret/a", "", "", "", "", logical.ErrUnsupportedPath},
		{"oversize", "POST", "/v1/secret/a", `{"a":"` + strings.Repeat("x", 200) + `"}`, "", "", "", logical.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			req, err := decodeRequest(r, 128)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if req.Operation != tc.wantOp || req.Path != tc.wantPath {
				t.Fatalf("got %s %q, want %s %q", req.Operation, req.Path, tc.wantOp, tc.wantPath)
			}
		})
	}
}

func TestDecodeRequestKeepsNumbersAndQuery(t *testing.T) {
	r := httptest.NewRequest("GET", "/v1/secret/data/a?version=3", nil)
	req, err := decodeRequest(r, 1024)
	if err != nil || req.Data["version"] != "3" {
		t.Fatalf("query not merged: %v %v", req, err)
	}
	r = httptest.NewRequest("POST", "/v1/secret/data/a", strings.NewReader(`{"n": 12345678901234567890}`))
	req, err = decodeRequest(r, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Data["n"]; got == nil || got.(interface{ String() string }).String() != "12345678901234567890" {
		t.Fatalf("big number not kept exactly: %v", got)
	}
}

func TestClientToken(t *testing.T) {
	cases := []struct{ header, value, want string }{
		{"X-Vault-Token", "hvs.abc", "hvs.abc"},
		{"Authorization", "Bearer hvs.xyz", "hvs.xyz"},
		{"Authorization", "bearer  hvs.xyz ", "hvs.xyz"},
		{"Authorization", "Basic abc", ""},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/v1/sys/mounts", nil)
		r.Header.Set(tc.header, tc.value)
		if got := clientToken(r); got != tc.want {
			t.Errorf("%s: %q → %q, want %q", tc.header, tc.value, got, tc.want)
		}
	}
}

// FuzzDecodeRequest feeds arbitrary methods, paths and bodies to the
// request decoder: it must never panic, and what it accepts must be a
// well-formed request.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("POST", "secret/data/a", []byte(`{"data":{"a":1}}`), "")
	f.Add("PATCH", "secret/data/a", []byte(`{"data":{"a":null}}`), "application/merge-patch+json")
	f.Add("GET", "secret/metadata?list=true", []byte(nil), "")
	f.Add("LIST", "a/../b", []byte(`{`), "")
	f.Add("PUT", "sys/policies/acl/x", []byte(`{"policy":"path \"*\" {}"}`), "")
	f.Fuzz(func(t *testing.T, method, path string, body []byte, ctype string) {
		if strings.ContainsAny(method, " \t\r\n") || method == "" {
			return
		}
		r, err := http.NewRequest(method, "http://x/v1/"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", ctype)
		req, err := decodeRequest(r, 4096)
		if err != nil {
			if statusFor(err) == http.StatusInternalServerError && !errors.Is(err, errUnsupportedMedia) {
				t.Fatalf("decoder error maps to 500: %v", err)
			}
			return
		}
		if req.Path == "" || strings.Contains(req.Path, "//") || req.Operation == "" {
			t.Fatalf("accepted malformed request: %+v", req)
		}
	})
}

func TestDecodeRawBody(t *testing.T) {
	body := []byte{0x30, 0x82, 0x00, 0x7b, '{'}
	r := httptest.NewRequest("POST", "/v1/pki/ocsp", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/ocsp-request")
	req, err := decodeRequest(r, DefaultMaxRequestSize)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := req.Data[logical.HTTPRawBodyKey].([]byte); !ok || !bytes.Equal(got, body) || len(req.Data) != 1 {
		t.Fatalf("data %v", req.Data)
	}
}
