package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kinko-dev/kinko/internal/testserver"
)

type result struct {
	status int
	body   map[string]any
	raw    string
}

func call(t *testing.T, s *testserver.Server, method, path, token, body string, hdr ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, s.Addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r
}

func errorsOf(r result) []string {
	var out []string
	if list, ok := r.body["errors"].([]any); ok {
		for _, e := range list {
			out = append(out, e.(string))
		}
	}
	return out
}

func TestErrorStatuses(t *testing.T) {
	s := testserver.Start(t)
	root := s.RootToken
	big := `{"data":{"v":"` + strings.Repeat("x", 2<<20) + `"}}`
	cases := []struct {
		name, method, path, token, body string
		hdr                             []string
		status                          int
		msg                             string
	}{
		{"malformed json", "POST", "/v1/secret/data/a", root, `{"data":`, nil, 400, "failed to parse JSON"},
		{"not an object", "POST", "/v1/secret/data/a", root, `"str"`, nil, 400, "must be a JSON object"},
		{"no token", "GET", "/v1/secret/data/a", "", "", nil, 403, "permission denied"},
		{"bogus token", "GET", "/v1/secret/data/a", "hvs.bogus", "", nil, 403, "permission denied"},
		{"unknown mount", "GET", "/v1/nothing/here", root, "", nil, 404, "no handler for route"},
		{"absent secret", "GET", "/v1/secret/data/absent", root, "", nil, 404, ""},
		{"patch content type", "PATCH", "/v1/secret/data/a", root, `{"data":{}}`, nil, 415, "merge-patch"},
		{"bad method", "TRACE", "/v1/secret/data/a", root, "", nil, 405, "unsupported method"},
		{"oversize value", "POST", "/v1/secret/data/big", root, big, nil, 413, ""},
		{"invalid policy", "PUT", "/v1/sys/policies/acl/bad", root, `{"policy":"path \"a\" { capabilities = [\"fly\"] }"}`, nil, 400, "fly"},
		{"bearer token", "GET", "/v1/sys/mounts", "", "", []string{"Authorization", "Bearer " + root}, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, tc.path, tc.token, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (body %.200s)", r.status, tc.status, r.raw)
			}
			if tc.status >= 400 {
				if _, ok := r.body["errors"]; !ok {
					t.Fatalf("error body lacks errors: %.200s", r.raw)
				}
				if tc.msg != "" && !strings.Contains(strings.Join(errorsOf(r), " "), tc.msg) {
					t.Fatalf("errors %v do not mention %q", errorsOf(r), tc.msg)
				}
			}
		})
	}
	if r := call(t, s, "GET", "/v1/secret/data/big", root, ""); r.status != 404 {
		t.Fatalf("oversize write left data behind: status %d", r.status)
	}
}

func TestEnvelopeAndList(t *testing.T) {
	s := testserver.Start(t)
	root := s.RootToken
	if r := call(t, s, "POST", "/v1/secret/data/app/one", root, `{"data":{"k":"v"}}`); r.status != 200 {
		t.Fatalf("write: %d %s", r.status, r.raw)
	}
	r := call(t, s, "GET", "/v1/secret/data/app/one", root, "")
	for _, k := range []string{"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth"} {
		if _, ok := r.body[k]; !ok {
			t.Errorf("envelope lacks %q: %s", k, r.raw)
		}
	}
	data, _ := r.body["data"].(map[string]any)
	if inner, _ := data["data"].(map[string]any); inner["k"] != "v" {
		t.Fatalf("read data: %s", r.raw)
	}
	for _, l := range []struct{ method, path string }{{"LIST", "/v1/secret/metadata/app"}, {"GET", "/v1/secret/metadata/app/?list=true"}} {
		r := call(t, s, l.method, l.path, root, "")
		keys, _ := r.body["data"].(map[string]any)["keys"].([]any)
		if r.status != 200 || len(keys) != 1 || keys[0] != "one" {
			t.Fatalf("%s %s: %d %s", l.method, l.path, r.status, r.raw)
		}
	}
	if r := call(t, s, "LIST", "/v1/secret/metadata/empty", root, ""); r.status != 404 {
		t.Fatalf("empty list: want 404, got %d", r.status)
	}
}

func TestSealedAndHealth(t *testing.T) {
	s := testserver.Start(t)
	if r := call(t, s, "GET", "/v1/sys/health", "", ""); r.status != 200 || r.body["sealed"] != false {
		t.Fatalf("health unsealed: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "GET", "/v1/sys/metrics", "", ""); r.status != 403 {
		t.Fatalf("metrics without token: %d", r.status)
	}
	if r := call(t, s, "GET", "/v1/sys/metrics", s.RootToken, ""); r.status != 200 || !strings.Contains(r.raw, "kinko_http_requests_total") ||
		!strings.Contains(r.raw, "kinko_requests_denied_total") || !strings.Contains(r.raw, "kinko_detect_events_observed_total") {
		t.Fatalf("metrics: %d %.300s", r.status, r.raw)
	}
	if r := call(t, s, "PUT", "/v1/sys/seal", s.RootToken, ""); r.status != 204 {
		t.Fatalf("seal: %d %s", r.status, r.raw)
	}
	r := call(t, s, "GET", "/v1/secret/data/a", s.RootToken, "")
	if r.status != 503 || !strings.Contains(r.raw, "Vault is sealed") {
		t.Fatalf("sealed read: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "GET", "/v1/sys/health", "", ""); r.status != 503 {
		t.Fatalf("health sealed: %d", r.status)
	}
	if r := call(t, s, "PUT", "/v1/sys/unseal", "", `{"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`); r.status != 400 {
		t.Fatalf("wrong unseal key: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "PUT", "/v1/sys/unseal", "", `{"key":"not base64!"}`); r.status != 400 {
		t.Fatalf("garbage unseal key: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "PUT", "/v1/sys/unseal", "", `{"key":"`+s.UnsealKey+`"}`); r.status != 200 || r.body["sealed"] != false {
		t.Fatalf("unseal: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "GET", "/v1/sys/mounts", s.RootToken, ""); r.status != 200 {
		t.Fatalf("after unseal: %d %s", r.status, r.raw)
	}
}
