package awsagent

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinko-dev/kinko/api"
	"github.com/kinko-dev/kinko/internal/agent/ssrf"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		path, query string
		want        Query
		err         string
	}{
		{"/secretsmanager/get", "secretId=prod/db", Query{SecretID: "prod/db"}, ""},
		{"/secretsmanager/get", "secretId=MyTest&versionId=v1&versionStage=AWSPREVIOUS&refreshNow=TRUE", Query{"MyTest", "v1", "AWSPREVIOUS", true}, ""},
		{"/secretsmanager/get", "secretId=a&refreshNow=0", Query{SecretID: "a"}, ""},
		{"/secretsmanager/get", "secretId=arn:aws:secretsmanager:us-east-1:123:secret:prod/db-AbCdEf", Query{SecretID: "arn:aws:secretsmanager:us-east-1:123:secret:prod/db-AbCdEf"}, ""},
		{"/v1/prod/db", "versionStage=AWSCURRENT", Query{SecretID: "prod/db", VersionStage: "AWSCURRENT"}, ""},
		{"/secretsmanager/get", "versionId=v1", Query{}, "missing parameter secretId"},
		{"/secretsmanager/get", "secretId=a&abc=1", Query{}, "unknown parameter: abc"},
		{"/secretsmanager/get", "secretId=a&refreshNow=123", Query{}, "invalid refreshNow value"},
		{"/v1/", "", Query{}, "missing secret ID"},
		{"/v1/a", "secretId=b", Query{}, "unknown parameter: secretId"},
		{"/secretsmanager/get", "secretId=a;b", Query{}, "malformed query"},
		{"/secretsmanager/get", "secretId=../sys/mounts", Query{}, "invalid secret ID"},
		{"/v1/prod/./db", "", Query{}, "invalid secret ID"},
		{"/secretsmanager/get", "secretId=a%3Fb", Query{}, "invalid secret ID"},
		{"/secretsmanager/get", "secretId=" + strings.Repeat("a", 2049), Query{}, "invalid secret ID"},
		{"/secretsmanager/get", "secretId=a&versionId=" + strings.Repeat("x", 65), Query{}, "invalid versionId or versionStage"},
	}
	for _, tc := range tests {
		t.Run(tc.path+"?"+tc.query[:min(len(tc.query), 40)], func(t *testing.T) {
			got, err := ParseQuery(tc.path, tc.query, "/v1/")
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"secretId=a", "secretId=a&versionId=b&versionStage=c&refreshNow=1", "x=%zz", "secretId=../../sys", "secretId=a;b", ""} {
		f.Add("/secretsmanager/get", s)
		f.Add("/v1/prod/db", s)
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		q, err := ParseQuery(path, query, "/v1/")
		if err != nil {
			return
		}
		if ValidSecretID(q.SecretID) != nil {
			t.Fatalf("accepted an invalid secret ID %q", q.SecretID)
		}
		for _, seg := range strings.Split(q.SecretID, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("accepted a dot segment in %q", q.SecretID)
			}
		}
		if strings.ContainsAny(q.SecretID, "?#%\x00 ") || len(q.VersionID) > 64 {
			t.Fatalf("accepted %+v", q)
		}
	})
}

func TestEpochSeconds(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.UnixMilli(1569534789046), "1569534789.046"},
		{time.UnixMilli(1569534789000), "1569534789"},
		{time.UnixMilli(1569534789500), "1569534789.5"},
		{time.UnixMilli(1569534789005), "1569534789.005"},
	} {
		if got := EpochSeconds(tc.t); got != tc.want {
			t.Errorf("EpochSeconds(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
}

func TestFromResponse(t *testing.T) {
	tests := []struct {
		status     int
		errs       []string
		wantStatus int
		wantType   string
		wantMsg    string
		transient  bool
	}{
		{404, []string{"ResourceNotFoundException: Secrets Manager can't find the specified secret."}, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.", false},
		{400, []string{"InvalidRequestException: the secret is scheduled for deletion"}, 400, "InvalidRequestException", "the secret is scheduled for deletion", false},
		{500, []string{"InternalServiceError: disk"}, 500, "InternalServiceError", "disk", true},
		{403, []string{"permission denied"}, 400, "AccessDeniedException", "access denied by kinko: permission denied", false},
		{404, []string{"no handler for route \"nope/secrets/x\""}, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.", false},
		{503, []string{"Vault is sealed"}, 500, "InternalServiceError", "kinko answered 503", true},
		{400, []string{"missing field: x"}, 400, "InvalidRequestException", "missing field: x", false},
	}
	for _, tc := range tests {
		e := fromResponse(&api.ResponseError{StatusCode: tc.status, Errors: tc.errs})
		if e.Status != tc.wantStatus || e.Type != tc.wantType || e.Message != tc.wantMsg || e.transient != tc.transient {
			t.Errorf("%d %v -> %+v", tc.status, tc.errs, e)
		}
	}
}

// fakeKinko answers GET /v1/aws-sm/secrets/<name> from a map, counting
// reads; down makes it fail with 503.
type fakeKinko struct {
	mu      sync.Mutex
	secrets map[string]map[string]any
	reads   atomic.Int32
	down    bool
	block   chan struct{}
}

func (f *fakeKinko) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.reads.Add(1)
	f.mu.Lock()
	name := strings.TrimPrefix(r.URL.Path, "/v1/aws-sm/secrets/")
	d, ok := f.secrets[name+"|"+r.URL.Query().Get("version_stage")]
	down, block := f.down, f.block
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Header.Get("X-Vault-Token") != "kinko-token":
		w.WriteHeader(403)
		_, _ = io.WriteString(w, `{"errors":["permission denied"]}`)
	case down:
		w.WriteHeader(503)
		_, _ = io.WriteString(w, `{"errors":["Vault is sealed"]}`)
	case !ok:
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"errors":["ResourceNotFoundException: Secrets Manager can't find the specified secret."]}`)
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{"data": d})
	}
}

const agentTok = "the-agent-token-0123"

func newTestServer(t testing.TB, mod func(*Config)) (*Server, *fakeKinko, *time.Time) {
	t.Helper()
	fk := &fakeKinko{secrets: map[string]map[string]any{
		"prod/db|": {"ARN": "arn:aws:secretsmanager:eu-central-1:000000000000:secret:prod/db-AbCdEf", "Name": "prod/db",
			"VersionId": "v2", "SecretString": `{"password":"two"}`, "VersionStages": []string{"AWSCURRENT"},
			"CreatedDate": "2019-09-26T21:53:09.046Z"},
		"prod/db|AWSPREVIOUS": {"Name": "prod/db", "VersionId": "v1", "SecretString": `{"password":"one"}`, "VersionStages": []string{"AWSPREVIOUS"}},
		"bin|":                {"Name": "bin", "VersionId": "b1", "SecretBinary": "AAEC", "VersionStages": []string{"AWSCURRENT"}},
	}}
	srv := httptest.NewServer(fk)
	t.Cleanup(srv.Close)
	client, err := api.NewClient(&api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := Config{Client: client, Token: func(context.Context) (string, error) { return "kinko-token", nil },
		Guard: ssrf.New(agentTok, false, quiet, ssrf.AWSTokenHeader, ssrf.VaultTokenHeader),
		TTL:   DefaultTTL, IgnoreTransientErrors: true, Logger: quiet, Now: func() time.Time { return now }}
	if mod != nil {
		mod(&cfg)
	}
	return New(cfg), fk, &now
}

func get(s *Server, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set(ssrf.AWSTokenHeader, agentTok)
	for k, v := range hdr {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestServerAnswersAndRefusals(t *testing.T) {
	s, _, _ := newTestServer(t, nil)
	tests := []struct {
		name, method, target string
		hdr                  map[string]string
		status               int
		body                 string
	}{
		{"query style", "GET", "/secretsmanager/get?secretId=prod/db", nil, 200,
			`{"ARN":"arn:aws:secretsmanager:eu-central-1:000000000000:secret:prod/db-AbCdEf","Name":"prod/db","VersionId":"v2","SecretString":"{\"password\":\"two\"}","VersionStages":["AWSCURRENT"],"CreatedDate":"1569534789.046"}`},
		{"path style with stage", "GET", "/v1/prod/db?versionStage=AWSPREVIOUS", nil, 200,
			`{"ARN":"","Name":"prod/db","VersionId":"v1","SecretString":"{\"password\":\"one\"}","VersionStages":["AWSPREVIOUS"]}`},
		{"binary", "GET", "/v1/bin", nil, 200, `{"ARN":"","Name":"bin","VersionId":"b1","SecretBinary":"AAEC","VersionStages":["AWSCURRENT"]}`},
		{"vault token header works too", "GET", "/v1/bin", map[string]string{ssrf.AWSTokenHeader: "", "X-Vault-Token": agentTok}, 200, ""},
		{"missing", "GET", "/v1/nope", nil, 400, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`},
		{"ping needs no token", "GET", "/ping", map[string]string{ssrf.AWSTokenHeader: ""}, 200, "healthy"},
		{"no token", "GET", "/v1/prod/db", map[string]string{ssrf.AWSTokenHeader: ""}, 403, "Bad Token"},
		{"wrong token", "GET", "/v1/prod/db", map[string]string{ssrf.AWSTokenHeader: "nope"}, 403, "Bad Token"},
		{"forwarded", "GET", "/v1/prod/db", map[string]string{"X-Forwarded-For": "10.0.0.1"}, 403, "Forwarded"},
		{"post", "POST", "/v1/prod/db", nil, 405, "Not allowed"},
		{"unknown path", "GET", "/other", nil, 404, "Not found"},
		{"unknown parameter", "GET", "/secretsmanager/get?secretId=a&x=1", nil, 400, "unknown parameter: x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(s, tc.method, tc.target, tc.hdr)
			body := strings.TrimSpace(w.Body.String())
			if w.Code != tc.status || (tc.body != "" && body != tc.body) {
				t.Fatalf("%d %s\nwant %d %s", w.Code, body, tc.status, tc.body)
			}
		})
	}
}

func TestServerCache(t *testing.T) {
	s, fk, now := newTestServer(t, nil)
	get(s, "GET", "/v1/prod/db", nil)
	get(s, "GET", "/secretsmanager/get?secretId=prod/db", nil)
	if n := fk.reads.Load(); n != 1 {
		t.Fatalf("reads %d, want 1 (same secret, both styles)", n)
	}
	get(s, "GET", "/v1/prod/db?refreshNow=true", nil)
	if n := fk.reads.Load(); n != 2 {
		t.Fatalf("refreshNow: reads %d, want 2", n)
	}
	fk.mu.Lock()
	fk.down = true
	fk.mu.Unlock()
	*now = now.Add(DefaultTTL + time.Second)
	w := get(s, "GET", "/v1/prod/db", nil)
	if w.Code != 200 || s.Stats().Stale != 1 {
		t.Fatalf("kinko down after TTL with ignore_transient_errors: %d %s %+v", w.Code, w.Body, s.Stats())
	}
	if w := get(s, "GET", "/v1/bin", nil); w.Code != 500 || !strings.Contains(w.Body.String(), "InternalServiceError") {
		t.Fatalf("uncached secret, kinko down: %d %s", w.Code, w.Body)
	}
}

func TestServerWithoutCacheAndStrictErrors(t *testing.T) {
	s, fk, _ := newTestServer(t, func(c *Config) { c.TTL = 0 })
	get(s, "GET", "/v1/prod/db", nil)
	get(s, "GET", "/v1/prod/db", nil)
	if n := fk.reads.Load(); n != 2 {
		t.Fatalf("ttl 0: reads %d, want 2", n)
	}
}

func TestServerMaxConn(t *testing.T) {
	s, fk, _ := newTestServer(t, func(c *Config) { c.MaxConn = 1; c.TTL = 0 })
	fk.block = make(chan struct{})
	done := make(chan int)
	go func() { done <- get(s, "GET", "/v1/prod/db", nil).Code }()
	for s.inflight.Load() != 1 || fk.reads.Load() != 1 {
		<-time.After(time.Millisecond)
	}
	if w := get(s, "GET", "/v1/bin", nil); w.Code != 429 || w.Body.String() != "Connection limit exceeded" {
		t.Fatalf("over max_conn: %d %s", w.Code, w.Body)
	}
	if w := get(s, "GET", "/ping", nil); w.Code != 200 {
		t.Fatalf("ping over max_conn: %d", w.Code)
	}
	close(fk.block)
	if code := <-done; code != 200 {
		t.Fatalf("first request %d", code)
	}
}

func FuzzServeQuery(f *testing.F) {
	s, _, _ := newTestServer(f, nil)
	for _, q := range []string{"secretId=prod/db", "secretId=bin&refreshNow=1", "secretId=%00", "secretId=a&versionStage=AWSPREVIOUS"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/secretsmanager/get", nil)
		r.URL.RawQuery = query
		r.RemoteAddr = "127.0.0.1:1"
		r.Header.Set(ssrf.AWSTokenHeader, agentTok)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			var o map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &o); err != nil || o["Name"] == nil {
				t.Fatalf("200 without GetSecretValue's shape: %s", w.Body)
			}
		case 400, 500:
		default:
			t.Fatalf("status %d for %q", w.Code, query)
		}
	})
}
